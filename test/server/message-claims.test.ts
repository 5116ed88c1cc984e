// Client messages on one gateway (the memory log): an `ack` means the app's handlers finished, a
// resend meeting a message still in its handler is told to retry (never acked as a duplicate
// before it was applied), the real client resends it under the same id, and the bounds hold
// (docs/scaling.md, "Client messages").
import { describe, expect, it } from 'vitest';
import { createGatewayClient, memoryOutboxStore } from '../../src/client/index.js';
import { createMemoryLog } from '../../src/server/index.js';
import { join, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

/** A handler the test finishes by hand: `release()` settles the promise of the nth call. */
function heldHandler() {
  const calls: Array<{ content: unknown; release: () => void }> = [];
  const handler = (message: { content?: unknown }) =>
    new Promise<void>((resolve) => {
      calls.push({ content: message.content, release: resolve });
    });
  return { calls, handler };
}

/** A gateway whose handler holds on, and a client whose message m-1 is in that handler now. */
async function messageInHandler() {
  const gateway = await startGateway();
  const held = heldHandler();
  gateway.onMessage(held.handler);
  const first = await join(gateway);
  first.client.send({ type: 'message', id: 'm-1', content: 'hi' });
  await waitFor(() => held.calls.length === 1, 2000, 'the handler to start');
  return { gateway, held, first };
}

describe('client messages on one gateway', () => {
  it('acks only once the handler finished; a resend meanwhile gets message_in_flight, then a duplicate ack', async () => {
    const { gateway, held, first } = await messageInHandler();
    // The same message again, on a second connection to the session (the client reconnected).
    const second = await join(gateway, { session_id: first.helloOk['session_id'] });
    second.client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await second.client.next('error')).toMatchObject({ code: 'message_in_flight', id: 'm-1', next_step: 'wait_then_retry', retry_after_seconds: expect.any(Number) });
    await first.client.sync();
    expect(first.client.frames.some((f) => f.type === 'ack')).toBe(false);

    held.calls[0]!.release();
    expect(await first.client.next('ack')).toEqual({ type: 'ack', id: 'm-1' });
    second.client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await second.client.next('ack')).toEqual({ type: 'ack', id: 'm-1', duplicate: true });
    expect(held.calls).toHaveLength(1);
    expect(gateway.stats().counters).toMatchObject({ messageRetries: 1, duplicates: 1 });
  });

  it('the client keeps a message told message_in_flight and resends it under the same id until it is acknowledged', async () => {
    const { gateway, held, first } = await messageInHandler();
    // A client restored from its outbox store resends m-1 while the handler still runs.
    const store = memoryOutboxStore();
    store.put({ id: 'm-1', content: 'hi' });
    const client = createGatewayClient({ url: gateway.url, agentId: 'demo', sessionId: String(first.helloOk['session_id']), outbox: { store } });
    try {
      const errors: string[] = [];
      client.onError((e) => void errors.push(e.code));
      await client.connect();
      await waitFor(() => gateway.stats().counters.messageRetries >= 1, 3000, 'the resend to be told to retry');
      expect(store.load()).toHaveLength(1); // kept, not failed
      held.calls[0]!.release();
      await waitFor(() => store.load().length === 0, 5000, 'the resend to be acknowledged');
      expect(held.calls).toHaveLength(1);
      expect(errors).toEqual([]);
    } finally {
      await client.disconnect();
    }
  });

  it('a handler that rejects is logged and its message still acked once', async () => {
    const gateway = await startGateway();
    let calls = 0;
    gateway.onMessage(async () => {
      calls++;
      throw new Error('app failure');
    });
    const { client } = await join(gateway);
    client.send({ type: 'message', id: 'm-1', content: 1 });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'm-1' });
    client.send({ type: 'message', id: 'm-1', content: 1 });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'm-1', duplicate: true });
    expect(calls).toBe(1);
  });

  it('a handler that never settles is cut off at messageHandlerTimeoutMs: counted as applied, acked once, its slot freed', async () => {
    const gateway = await startGateway({ messageHandlerTimeoutMs: 200, maxMessagesInFlight: 1 });
    let calls = 0;
    gateway.onMessage(() => {
      calls++;
      return new Promise<never>(() => undefined);
    });
    const { client } = await join(gateway);
    client.send({ type: 'message', id: 'm-1', content: 1 });
    expect(await client.next('ack', 3000)).toEqual({ type: 'ack', id: 'm-1' });
    expect(gateway.stats().counters.messageHandlerTimeouts).toBe(1);
    client.send({ type: 'message', id: 'm-1', content: 1 });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'm-1', duplicate: true });
    // With one slot per connection, m-2 is read only because m-1's slot was given back.
    client.send({ type: 'message', id: 'm-2', content: 2 });
    expect(await client.next('ack', 3000)).toEqual({ type: 'ack', id: 'm-2' });
    expect(calls).toBe(2);
  });

  it('refuses a messageHandlerTimeoutMs that is not a positive integer', async () => {
    await expect(startGateway({ messageHandlerTimeoutMs: 0 })).rejects.toThrow(/messageHandlerTimeoutMs/);
  });

  it('runs at most maxMessagesInFlight handlers per connection, then stops reading until one finishes', async () => {
    const gateway = await startGateway({ maxMessagesInFlight: 2 });
    const held = heldHandler();
    gateway.onMessage(held.handler);
    const { client } = await join(gateway);
    for (const id of ['a', 'b', 'c']) client.send({ type: 'message', id, content: id });
    await waitFor(() => held.calls.length === 2, 2000, 'two handlers to start');
    await waitFor(() => gateway.stats().counters.messagePauses === 1, 2000, 'the connection to pause');
    expect(held.calls.map((c) => c.content)).toEqual(['a', 'b']);
    held.calls[1]!.release();
    await waitFor(() => held.calls.length === 3, 2000, 'the third handler to start once one finished');
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'b' });
    held.calls[0]!.release();
    held.calls[2]!.release();
    await client.until((frames) => frames.filter((f) => f.type === 'ack').length === 3);
  });

  it('close() lets a running handler finish and be recorded before the log closes', async () => {
    const log = createMemoryLog();
    const gateway = await startGateway({ log });
    const held = heldHandler();
    gateway.onMessage(held.handler);
    const { client, helloOk } = await join(gateway);
    client.send({ type: 'message', id: 'm-1', content: 'hi' });
    await waitFor(() => held.calls.length === 1, 2000, 'the handler to start');
    let closed = false;
    const closing = gateway.close().then(() => void (closed = true));
    await client.closed();
    expect(closed).toBe(false);
    held.calls[0]!.release();
    await closing;
    expect(await log.claimMessage(String(helloOk['session_id']), 'm-1', { owner: 'next/1', leaseMs: 1000 })).toEqual({ status: 'applied' });
  });
});
