// A client too old for the gateway: the gateway speaks 2 only, the client 1 only. The refusal is
// terminal: `connect()` rejects with `protocol_unsupported` / `upgrade_client`, and the client
// does not retry.
import { GatewayConnectError } from '../../src/client/index.js';
import type { Story } from './story.js';

export const clientTooOld: Story = {
  name: 'client-too-old',
  title: 'Client too old',
  summary: 'The gateway speaks protocol 2 only and the client speaks 1 only. The client is refused with protocol_unsupported and next step upgrade_client, stops in disconnected, and never retries.',
  gateway: { protocol: { min: 2, max: 2 } },
  async run(ctx) {
    const { stage, timeline, step, expect, quietFor } = ctx;
    const client = ctx.client({ protocol: { min: 1, max: 1 } });
    await step('Connect with a client that only speaks protocol 1.');
    const outcome = await client.connect().then(
      () => null,
      (error: unknown) => error,
    );
    expect(outcome instanceof GatewayConnectError, 'connect() rejects with a GatewayConnectError');
    const error = outcome instanceof GatewayConnectError ? outcome : null;
    expect(error?.code === 'protocol_unsupported', 'the code is protocol_unsupported', { code: error?.code });
    expect(error?.nextStep === 'upgrade_client', 'the next step is upgrade_client', { nextStep: error?.nextStep });
    expect(client.state === 'disconnected', 'the client stops in disconnected');

    await step('Watch for a retry loop: there must be none.');
    const before = (await stage.stats()).accepted;
    await quietFor('no reconnect attempt', 600, () => timeline.of('backoff').length > 0 || timeline.states().includes('reconnecting'));
    const after = await stage.stats();
    expect(after.accepted === before && after.accepted === 1, 'the gateway saw exactly one connection', after);
  },
};
