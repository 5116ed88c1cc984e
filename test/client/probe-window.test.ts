// The probe window with real sockets: a joined client whose gateway stops answering retries
// within initialDelayMs until probeWindowMs, then backs off from the next step, and rejoins when
// the gateway answers. Time is the client's manual clock; refusals are the fault proxy's.
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
  it('probes a dropped gateway within initialDelayMs, backs off from the next step after the window, and rejoins', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const clock = createManualClock();
    // 100, 200 and 400 ms ceilings fit a 500 ms window; random 0.5 waits half of each ceiling.
    const client = makeClient(proxy.url, { clock, random: () => 0.5, reconnect: { initialDelayMs: 100, maxDelayMs: 5000, probeWindowMs: 500 } });
    await client.connect();
    proxy.refuse(true);
    proxy.drop();
    await waitForState(client, 'reconnecting', 2000);
    expect(client.info).toMatchObject({ outage: 'probing', attempt: 1, retryInMs: 50 });

    const probes = [];
    for (let i = 0; i < 9; i++) probes.push(await refusedRetry(client, clock));
    expect(probes).toEqual([{ attempt: 2, retryInMs: 50, outage: 'probing' }, ...Array.from({ length: 8 }, () => ({ attempt: 3, retryInMs: 50, outage: 'probing' }))]);
    // 500 ms since the drop: the window is over, and the next refusal waits the 800 ms step.
    expect(await refusedRetry(client, clock)).toEqual({ attempt: 4, retryInMs: 400, outage: 'young' });

    proxy.pass();
    clock.advance(400);
    await waitForState(client, 'joined', 2000);
    await waitFor(() => client.info.outage === 'young', 1000, 'the outage to last until a stable join');
  });
});
