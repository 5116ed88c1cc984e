// A rolling upgrade: the gateway speaks only protocol 1; a new version that also speaks 2 is
// deployed and the old one drains. The client, which offers 1..2, negotiates up on reconnect.
import { eventsDelivered, expectSeqs, range, sessionOf } from './helpers.js';
import type { Story } from './story.js';

export const rollingUpgrade: Story = {
  name: 'rolling-upgrade',
  title: 'Rolling upgrade 1..1 -> 1..2',
  summary: 'The gateway speaks protocol 1 only, so the client (1..2) joins at v1. A gateway speaking 1..2 is deployed and the old one drains; the client reconnects and negotiates v2, without losing an event.',
  gateway: { protocol: { min: 1, max: 1 } },
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client({ protocol: { min: 1, max: 2 } });
    await step('Connect to a gateway that speaks protocol 1 only.');
    await client.connect();
    expect(client.info.protocol === 1, 'joined at protocol v1');
    const session = sessionOf(ctx, client);
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 2);

    await step('Deploy a gateway that speaks 1..2; the old one drains its clients towards it.');
    await stage.deploy({ protocol: { min: 1, max: 2 } });
    await until('the rejoin', () => timeline.of('joined').length >= 2);
    expect(client.info.protocol === 2, 'negotiated up to protocol v2 on reconnect', { protocol: client.info.protocol });
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 4);
    expectSeqs(ctx, range(1, 4));
    expect(timeline.of('gap').length === 0, 'no gap across the upgrade');
  },
};
