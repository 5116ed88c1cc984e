// Listener isolation: a listener that throws (or an async one that rejects) is reported as
// `listener_error` and never stops delivery to other listeners, to events(), or to the rest of a batch.
import { describe, expect, it } from 'vitest';
import type { GatewayConnectError, GatewayEvent } from '../../src/client/index.js';
import { startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForGap, waitForState } from '../support/wait-for.js';
import { makeClient } from './kit.js';

function boom(kind: string): never {
  throw new Error(`${kind} listener bug`);
}

describe('listener isolation', () => {
  it('a throwing onEvent listener costs nothing: other listeners, events() and the whole batch still get every event', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    client.onEvent(() => boom('onEvent'));
    const { events } = recordEvents(client);
    const streamed: GatewayEvent[] = [];
    const loop = (async () => {
      for await (const event of client.events()) streamed.push(event);
    })();
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    // Published in one tick: under v2 they reach the client as one `batch` frame.
    await Promise.all(Array.from({ length: 20 }, (_, i) => gw.publish(sessionId, { type: 'tick', data: { i } })));
    await waitForCount(events, 20, 2000);
    await waitFor(() => streamed.length === 20, 2000, 'twenty streamed events');
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(streamed.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(errors).toHaveLength(20);
    expect(errors[0]).toMatchObject({ code: 'listener_error', nextStep: 'do_not_retry' });
    expect((errors[0]?.cause as Error).message).toBe('onEvent listener bug');
    expect(client.info.listenerErrors).toBe(20);
    // The socket was never disturbed: still the first connection.
    expect(client.state).toBe('joined');
    expect(client.info.lastClose).toBeNull();
    await client.disconnect();
    await loop;
  });

  it('an async listener that rejects is reported as listener_error, never an unhandled rejection', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      client.onState(async (state) => {
        await Promise.resolve();
        if (state === 'joined') throw new Error('async onState listener bug');
      });
      await client.connect();
      await waitFor(() => errors.some((e) => e.code === 'listener_error'), 2000, 'the listener_error');
      expect((errors.find((e) => e.code === 'listener_error')?.cause as Error).message).toBe('async onState listener bug');
      expect(client.info.listenerErrors).toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('isolates the inspect option: a throwing inspector never breaks the chart', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url, { inspect: () => boom('inspect') });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    await client.connect();
    expect(client.state).toBe('joined');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ code: 'listener_error' });
    expect(errors[0]?.message).toContain('inspect');
  });

  it('isolates onState, onGap and onSnapshot, and a throwing onError listener cannot loop', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    const heard: string[] = [];
    client.onState(() => boom('onState'));
    client.onState((state) => heard.push(`state:${state}`));
    client.onGap(() => boom('onGap'));
    client.onGap((gap) => heard.push(`gap:${gap.expected}`));
    client.onSnapshot(() => boom('onSnapshot'));
    client.onSnapshot((snapshot) => heard.push(`snapshot:${snapshot.cursor}`));
    const codes: string[] = [];
    client.onError(() => boom('onError'));
    client.onError((error) => codes.push(error.code));

    await client.connect();
    expect(heard).toContain('state:joined');
    await gw.publish(client.info.sessionId ?? '', { type: 'tick' });
    await waitFor(() => client.info.cursor === 1, 1000, 'cursor 1');
    const gap = waitForGap(client, 2000);
    await gw.expireSession(client.info.sessionId ?? '');
    await gap;
    await waitForState(client, 'joined', 2000);
    await expect(client.resync()).resolves.toMatchObject({ cursor: 0 });

    expect(heard).toEqual(expect.arrayContaining(['gap:2', 'snapshot:0', 'state:reconnecting']));
    // Every throw reached the healthy onError listener as one listener_error; the throwing onError
    // listener threw once more on hearing it, which was counted but not re-reported (no loop).
    const reported = codes.filter((c) => c === 'listener_error').length;
    expect(reported).toBeGreaterThanOrEqual(5);
    expect(client.info.listenerErrors).toBe(2 * reported);
    expect(client.state).toBe('joined');
  });
});
