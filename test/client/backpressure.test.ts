// The events() bound: a slow loop makes the client leave and rejoin from its cursor instead of
// buffering without limit (nothing lost); the early buffer says when it drops; concurrent next()
// calls all settle.
import { describe, expect, it } from 'vitest';
import type { GatewayConnectError, GatewayEvent } from '../../src/client/index.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState, within } from '../support/wait-for.js';
import { makeClient } from './kit.js';

describe('events() backpressure', () => {
  it('pauses at maxBufferedEvents, rejoins once the loop drains, and loses nothing', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url, { maxBufferedEvents: 40 });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    const iterator = client.events()[Symbol.asyncIterator]();
    await client.connect();
    const sessionId = client.info.sessionId ?? '';

    // Nobody reads: the queue must stop near the bound, with the client paused, not growing.
    await publishMany(gw, sessionId, 150);
    await waitFor(() => client.info.backpressure.paused, 2000, 'the pause');
    expect(client.state).toBe('reconnecting');
    expect(client.info.lastClose).toEqual({ code: 1000, reason: 'consumer_overflow' });
    expect(client.info.attempt).toBe(0);
    expect(client.info.retryInMs).toBeNull();
    expect(client.info.backpressure.buffered).toBeLessThanOrEqual(45);
    expect(errors.map((e) => e.code)).toContain('consumer_overflow');
    await waitFor(() => gw.presence('demo').every((p) => p.connections === 0), 2000, 'the gateway to see the client gone');

    // The loop catches up: the client rejoins from its cursor and the replay fills in the rest.
    const seen: GatewayEvent[] = [];
    const reading = (async () => {
      for (;;) {
        const result = await iterator.next();
        if (result.done) return;
        seen.push(result.value);
      }
    })();
    await waitFor(() => seen.length === 150, 5000, '150 events');
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    await waitForState(client, 'joined', 2000);
    await publishMany(gw, sessionId, 1);
    await waitFor(() => seen.length === 151, 2000, 'a live event after the rejoin');
    expect(client.info.backpressure.overflows).toBeGreaterThanOrEqual(1);
    await client.disconnect();
    await within(reading, 1000, 'the loop to end');
  });

  it('settles two concurrent next() calls on one iterator, in call order', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    const iterator = client.events()[Symbol.asyncIterator]();
    await client.connect();
    const first = iterator.next();
    const second = iterator.next();
    await publishMany(gw, client.info.sessionId ?? '', 2);
    const results = await within(Promise.all([first, second]), 2000, 'both next() calls');
    expect(results.map((r) => (r.done ? null : r.value.seq))).toEqual([1, 2]);
    const third = iterator.next();
    await client.disconnect();
    await expect(within(third, 1000, 'the pending next() at disconnect')).resolves.toEqual({ done: true, value: undefined });
  });

  it('says when the early buffer drops events nobody reads, and a later loop starts from the next event', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url, { maxBufferedEvents: 5 });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    await client.connect();
    await publishMany(gw, client.info.sessionId ?? '', 7);
    await waitFor(() => client.info.cursor === 7, 2000, 'cursor 7');
    expect(errors.map((e) => e.code)).toEqual(['events_dropped']);
    expect(client.info.backpressure.earlyDropped).toBe(5);
    // Dropping is not a pause: the client stays joined.
    expect(client.state).toBe('joined');

    const iterator = client.events()[Symbol.asyncIterator]();
    const next = iterator.next();
    await publishMany(gw, client.info.sessionId ?? '', 1);
    await expect(within(next, 2000, 'the next event')).resolves.toMatchObject({ value: { seq: 8 } });
  });

  // The bound, exactly: a loop's queue fills to maxBufferedEvents and pauses the client on the event
  // that fills it; it never holds one more (the next is replayed after the rejoin).
  it('pauses on the event that fills a queue to exactly maxBufferedEvents, never queues one more, and loses nothing', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url, { maxBufferedEvents: 5 });
    const iterator = client.events()[Symbol.asyncIterator]();
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 4);
    await waitFor(() => client.info.cursor === 4, 2000, 'cursor 4');
    // One below the bound: still joined.
    expect(client.state).toBe('joined');
    expect(client.info.backpressure).toMatchObject({ buffered: 4, paused: false, overflows: 0 });
    // The 5th fills the queue to the bound; the 6th comes right behind it.
    await publishMany(gw, sessionId, 2);
    await waitFor(() => client.info.backpressure.paused, 2000, 'the pause');
    expect(client.info.backpressure).toMatchObject({ buffered: 5, overflows: 1 });
    expect(client.info.cursor).toBe(5);
    expect(client.state).toBe('reconnecting');
    const seen: number[] = [];
    while (seen.length < 6) {
      const result = await within(iterator.next(), 3000, `event ${seen.length + 1}`);
      if (result.done) break;
      seen.push(result.value.seq ?? -1);
      expect(client.info.backpressure.buffered).toBeLessThanOrEqual(5);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    await waitForState(client, 'joined', 2000);
  });

  it('keeps exactly maxBufferedEvents early events for a first loop, and drops from one past it', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url, { maxBufferedEvents: 5 });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 5);
    await waitFor(() => client.info.cursor === 5, 2000, 'cursor 5');
    // At the bound: all kept, nothing reported.
    expect(errors).toEqual([]);
    expect(client.info.backpressure.earlyDropped).toBe(0);
    await publishMany(gw, sessionId, 1);
    await waitFor(() => errors.length > 0, 2000, 'events_dropped');
    expect(errors.map((e) => e.code)).toEqual(['events_dropped']);
    expect(client.info.backpressure.earlyDropped).toBe(5);
    expect(client.state).toBe('joined');
  });
});
