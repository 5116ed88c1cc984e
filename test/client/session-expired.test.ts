// A session ended by the server (4040): the client starts a new session within the first backoff
// step, reports the gap, and keeps delivering: nothing is lost silently, no retry budget is spent.
import { describe, expect, it } from 'vitest';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForGap, waitForState } from '../support/wait-for.js';
import { makeClient } from './kit.js';

describe('session expired by the gateway', () => {
  it('reconnects as a new session, reports the gap, and carries on', async () => {
    const gateway = await startGateway();
    const client = makeClient(gateway.url);
    const { events } = recordEvents(client);
    await client.connect();
    const oldSession = client.info.sessionId ?? '';
    await publishMany(gateway, oldSession, 3);
    await waitFor(() => client.info.cursor === 3, 1000, 'cursor 3');

    const gap = waitForGap(client, 2000);
    await gateway.expireSession(oldSession);
    await expect(gap).resolves.toMatchObject({ expected: 4 });
    await waitForState(client, 'joined', 1500);
    const newSession = client.info.sessionId ?? '';
    expect(newSession).not.toBe(oldSession);
    expect(client.info.lastClose?.code).toBe(4040);
    // A server decision, not a failure: the retry budget is untouched.
    expect(client.info.attempt).toBe(0);

    await publishMany(gateway, newSession, 1);
    await waitFor(() => events.length === 4, 1000, 'the new session’s first event');
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 1]);
  });
});
