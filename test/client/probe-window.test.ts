// The probe window with real sockets: a joined client whose gateway stops answering probes within
// initialDelayMs until probeWindowMs without counting the probes, while its backoff runs as it
// would without them, and rejoins when the gateway answers. Time is the client's manual clock;
// refusals are the fault proxy's.
import { describe, expect, it } from 'vitest';
import type { GatewayClient } from '../../src/client/index.js';
import { startGateway } from '../support/gateway-kit.js';
import { createManualClock, type ManualClock } from '../support/manual-clock.js';
import { waitFor, waitForState } from '../support/wait-for.js';
import { makeClient, proxyFor } from './kit.js';

/** Let the pending retry fire and wait for its refused connection to be counted. */
async function refusedRetry(client: GatewayClient, clock: ManualClock): Promise<{ attempt: number; retryInMs: number | null; outage: string }> {
  clock.advance(client.info.retryInMs ?? 0);
  expect(client.state).toBe('connecting');
  await waitForState(client, 'reconnecting', 2000);
  const { attempt, retryInMs, outage } = client.info;
  return { attempt, retryInMs, outage };
}

describe('the probe window', () => {
  it('probes a dropped gateway within initialDelayMs, counts only the backoff\'s own failures, and rejoins', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const clock = createManualClock();
    // random 0.5 waits half of each ceiling: probes every 50 ms; the backoff's own attempts at 50, 150, 350 and 750 ms.
    const client = makeClient(proxy.url, { clock, random: () => 0.5, reconnect: { initialDelayMs: 100, maxDelayMs: 5000, probeWindowMs: 500 } });
    await client.connect();
    proxy.refuse(true);
    proxy.drop();
    await waitForState(client, 'reconnecting', 2000);
    expect(client.info).toMatchObject({ outage: 'probing', attempt: 1, retryInMs: 50 });

    const seen = [];
    for (let i = 0; i < 11; i++) seen.push(await refusedRetry(client, clock));
    const probe = (attempt: number) => ({ attempt, retryInMs: 50, outage: 'probing' });
    expect(seen).toEqual([
      probe(2), probe(2), probe(3), probe(3), probe(3), probe(3), probe(4), probe(4), probe(4),
      // 500 ms: the window is over; the rest of the 400 ms step is served whole, then the next step is drawn.
      { attempt: 4, retryInMs: 250, outage: 'young' },
      { attempt: 5, retryInMs: 800, outage: 'young' },
    ]);

    proxy.pass();
    clock.advance(800);
    await waitForState(client, 'joined', 2000);
    await waitFor(() => client.info.outage === 'young', 1000, 'the outage to last until a stable join');
  });
});
