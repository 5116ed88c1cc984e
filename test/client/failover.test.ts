// Client failover across gateway nodes: `url` as a list (each attempt after the first goes to the
// next node) or as a function asked before every attempt. Two real gateways share one event log,
// as a fleet on Redis does, so a client that loses node A resumes on node B from its cursor.
import { describe, expect, it } from 'vitest';
import { createMemoryLog } from '../../src/server/index.js';
import type { GatewayUrlContext } from '../../src/client/index.js';
import { GatewayConnectError } from '../../src/client/index.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForState } from '../support/wait-for.js';
import { makeClient } from './kit.js';

describe('failover across gateway nodes', () => {
  it('a list: node A dies, the client resumes on node B with exactly the missed events', async () => {
    const log = createMemoryLog({ replayWindow: 100 });
    const a = await startGateway({ log });
    const b = await startGateway({ log });
    const client = makeClient([a.url, b.url]);
    const { events } = recordEvents(client);
    const gaps: unknown[] = [];
    client.onGap((gap) => gaps.push(gap));
    await client.connect();
    expect(client.info.url).toBe(a.url);
    const sessionId = client.info.sessionId ?? '';
    await publishMany(a, sessionId, 3);
    await waitForCount(events, 3);

    await a.terminate();
    await publishMany(b, sessionId, 2);
    await waitFor(() => client.state === 'joined' && client.info.url === b.url, 3000, 'joined on node B');
    await waitForCount(events, 5);
    await b.publish(sessionId, { type: 'tick', data: { live: true } });
    await waitForCount(events, 6);

    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(gaps).toEqual([]);
    expect(client.info.resume).toEqual({ mode: 'full', from: 4, to: 5 });
  });

  it('a function: asked before every attempt, told of a drain, which moves the client on without a failure', async () => {
    const log = createMemoryLog({ replayWindow: 100 });
    const a = await startGateway({ log });
    const b = await startGateway({ log });
    const asked: GatewayUrlContext[] = [];
    const client = makeClient('ws://unused.invalid', {
      url: (context) => {
        asked.push(context);
        return context.drain ? b.url : a.url;
      },
    });
    await client.connect();
    expect(asked).toEqual([{ attempt: 0, previousUrl: null, lastClose: null, drain: false }]);
    const sessionId = client.info.sessionId ?? '';

    const states: string[] = [];
    client.onState((state) => states.push(state));
    await a.drain({ spreadMs: 0 });
    await waitFor(() => client.state === 'joined' && client.info.url === b.url, 3000, 'joined on node B after the drain');
    expect(asked[1]).toMatchObject({ previousUrl: a.url, drain: true, attempt: 0, lastClose: { code: 1001 } });
    expect(client.info.attempt).toBe(0);
    expect(states).toEqual(['reconnecting', 'connecting', 'negotiating', 'joined']);
    expect(client.info.sessionId).toBe(sessionId);
  });

  it('a url function that throws fails that attempt (reported, retried), then the client gets in', async () => {
    const gw = await startGateway();
    let calls = 0;
    const client = makeClient('ws://unused.invalid', {
      url: () => {
        calls += 1;
        if (calls === 1) throw new Error('service discovery is down');
        return gw.url;
      },
    });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    await client.connect();
    expect(errors[0]).toMatchObject({ code: 'connect_failed' });
    expect(errors[0]?.message).toContain('service discovery is down');
    await waitForState(client, 'joined');
    expect(client.info.url).toBe(gw.url);
  });

  it('refuses an empty list and a bad URL in a list with invalid_options', () => {
    expect(() => makeClient([] as unknown as string)).toThrow(/url must not be an empty list/);
    expect(() => makeClient(['ws://127.0.0.1:1', 'ftp://x'])).toThrow(/url\[1\] must use ws:, wss:, http: or https:/);
    try {
      makeClient([]);
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid_options' });
    }
  });
});
