// Frames that arrive while the token check is pending wait in a bounded queue: past
// maxInboundQueueBytes the gateway stops reading, TCP pushes back on the sender, and every frame
// is still handled, in order, once the verifier answers.
import { describe, expect, it } from 'vitest';
import { connect, helloFrame, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

describe('inbound queue bound', () => {
  it('stops reading 20,000 x 4 KB frames sent behind a pending verifier, then handles them all', async () => {
    let release: (allowed: boolean) => void = () => undefined;
    const verdict = new Promise<boolean>((resolve) => {
      release = resolve;
    });
    const limit = 1_048_576;
    const gateway = await startGateway({ verifyToken: () => verdict, handshakeTimeoutMs: 30_000 });
    const client = await connect(gateway, { timeoutMs: 30_000 });
    client.send(helloFrame({ token: 't' }));
    const body = 'z'.repeat(4096);
    const total = 20_000;
    for (let i = 0; i < total; i++) client.send({ type: 'message', id: `m${i}`, content: body });

    await waitFor(() => gateway.stats().counters.inboundPauses >= 1, 10_000, 'the gateway to stop reading');
    // Paused: what the gateway holds stays near the bound (plus the chunk being parsed), and the
    // rest waits in the sender's buffer: most of the 80 MB never reached the gateway.
    expect(gateway.stats().inboundQueuedBytes).toBeLessThanOrEqual(limit + 256 * 1024);
    expect(client.ws.bufferedAmount).toBeGreaterThan(10 * 1024 * 1024);

    release(true);
    await client.next('hello_ok', 5000);
    let seen = 0;
    let acked = 0;
    const allAcked = (frames: readonly { type: string }[]): boolean => {
      for (; seen < frames.length; seen++) if (frames[seen]?.type === 'ack') acked++;
      return acked === total;
    };
    await client.until(allAcked, 30_000, 'every message acked');
    const acks = client.frames.filter((f) => f.type === 'ack').map((f) => f['id']);
    expect(acks).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    expect(gateway.stats().counters.messages).toBe(total);
    expect(gateway.stats().inboundQueuedBytes).toBe(0);
  });

  it('still refuses and closes promptly when the verifier says no while reading is paused', async () => {
    let release: (allowed: boolean) => void = () => undefined;
    const verdict = new Promise<boolean>((resolve) => {
      release = resolve;
    });
    const gateway = await startGateway({ verifyToken: () => verdict });
    const client = await connect(gateway);
    client.send(helloFrame({ token: 'wrong' }));
    for (let i = 0; i < 2000; i++) client.send({ type: 'message', id: `m${i}`, content: 'z'.repeat(4096) });
    await waitFor(() => gateway.stats().counters.inboundPauses >= 1, 10_000, 'the gateway to stop reading');
    release(false);
    expect(await client.next('hello_error', 5000)).toMatchObject({ code: 'auth_unauthorized' });
    expect(await client.closed(5000)).toMatchObject({ code: 4003 });
    expect(gateway.stats().counters.messages).toBe(0);
    await waitFor(() => gateway.stats().inboundQueuedBytes === 0, 5000, 'the queue to empty');
  });
});
