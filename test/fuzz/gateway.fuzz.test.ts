// Generated hostile frames against a live gateway. Before hello each one is refused with a typed
// hello_error and the documented close code; after hello each gets a typed error and only that
// frame is lost. Throughout, a bystander on another session keeps receiving its stream intact,
// and the gateway's own bad-frame counter matches what was sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/server/index.js';
import { connect, join, seqs, startGateway } from '../support/gateway-kit.js';
import type { RawClient } from '../support/raw-client.js';
import { badClientFrame, type BadFrame } from './hostile-frames.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_501);
const MAX_PAYLOAD = 4096;

/** A bystander joined to its own session, fed a steady stream while the fuzzing goes on. */
async function startBystander(gateway: Gateway): Promise<{ client: RawClient; publish: () => Promise<number>; published: () => number }> {
  const { client, helloOk } = await join(gateway, {}, { autoPong: true });
  const sessionId = String(helloOk['session_id']);
  let count = 0;
  return {
    client,
    publish: async () => {
      await gateway.publish(sessionId, { type: 'tick', data: { i: ++count } });
      return count;
    },
    published: () => count,
  };
}

/** The bystander saw exactly 1..n, in order, once each, and its socket never closed. */
async function expectUndisturbed(bystander: Awaited<ReturnType<typeof startBystander>>): Promise<void> {
  const n = bystander.published();
  await bystander.client.until((frames) => seqs(frames).length >= n, 5000, `${n} events at the bystander`);
  expect(seqs(bystander.client.frames)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(bystander.client.ws.readyState).toBe(bystander.client.ws.OPEN);
}

const sample = (count: number, salt: number): BadFrame[] => fc.sample(badClientFrame, { seed: SEED + salt, numRuns: count });

describe('fuzzed frames against the gateway', () => {
  it('after hello: every bad frame gets a typed error, the connection and the bystander carry on', async () => {
    const gateway = await startGateway({ maxPayload: MAX_PAYLOAD, rateLimit: false });
    const bystander = await startBystander(gateway);
    const { client: fuzzer } = await join(gateway, {}, { autoPong: true });
    const frames = sample(600, 1);
    const binaries = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 512 }), { seed: SEED + 2, numRuns: 40 });
    const oversized = fc.sample(fc.integer({ min: MAX_PAYLOAD + 1, max: MAX_PAYLOAD * 2 - 64 }), { seed: SEED + 3, numRuns: 20 });
    const before = gateway.stats().counters.badFrames;
    let i = 0;
    for (const frame of frames) {
      fuzzer.send(frame.text);
      if (++i % 50 === 0) await bystander.publish();
    }
    for (const bytes of binaries) fuzzer.sendBinary(bytes);
    for (const size of oversized) fuzzer.send(JSON.stringify({ type: 'message', id: 'big', content: 'x'.repeat(size) }));
    await bystander.publish();
    await fuzzer.sync(5000);

    const errors = fuzzer.frames.filter((f) => f.type === 'error');
    const sent = frames.length + binaries.length + oversized.length;
    expect(errors).toHaveLength(sent);
    for (const error of errors) {
      expect(['bad_frame', 'payload_too_large']).toContain(error['code']);
      expect(typeof error['message']).toBe('string');
      expect(typeof error['next_step']).toBe('string');
    }
    expect(errors.filter((e) => e['code'] === 'payload_too_large')).toHaveLength(oversized.length);
    expect(gateway.stats().counters.badFrames - before).toBe(sent);
    // Only those frames were lost: the fuzzer's socket still works end to end.
    fuzzer.send({ type: 'message', id: 'after-fuzz', content: 'still here' });
    expect(await fuzzer.next('ack')).toMatchObject({ id: 'after-fuzz' });
    await expectUndisturbed(bystander);
  });

  it('before hello: every bad first frame gets hello_error and close 4000 (4009 when oversized)', async () => {
    const gateway = await startGateway({ maxPayload: MAX_PAYLOAD, rateLimit: false });
    const bystander = await startBystander(gateway);
    const inputs: Array<{ label: string; send: (c: RawClient) => void; code: string; close: number }> = [
      ...sample(150, 4).map((f) => ({ label: f.kind, send: (c: RawClient) => c.send(f.text), code: 'bad_frame', close: 4000 })),
      { label: 'binary', send: (c: RawClient) => c.sendBinary(new Uint8Array([0x7b, 0x00, 0xff])), code: 'bad_frame', close: 4000 },
      { label: 'oversized hello', send: (c: RawClient) => c.send(JSON.stringify({ type: 'hello', agent_id: 'demo', pad: 'x'.repeat(MAX_PAYLOAD + 10) })), code: 'payload_too_large', close: 4009 },
    ];
    // A few sockets at a time: enough to overlap handshakes, not enough to starve the 2 CI cores.
    for (let start = 0; start < inputs.length; start += 8) {
      await Promise.all(
        inputs.slice(start, start + 8).map(async (input) => {
          const client = await connect(gateway);
          input.send(client);
          const refusal = await client.next('hello_error', 3000);
          expect(refusal, input.label).toMatchObject({ code: input.code, next_step: expect.any(String), message: expect.any(String) });
          expect((await client.closed(3000)).code, input.label).toBe(input.close);
        }),
      );
      await bystander.publish();
    }
    await expectUndisturbed(bystander);
    // And the gateway still admits newcomers.
    await expect(join(gateway)).resolves.toMatchObject({ helloOk: { type: 'hello_ok' } });
  });

  it('frames over twice max_payload close 1009 (before and after hello) and hurt nobody else', async () => {
    const gateway = await startGateway({ maxPayload: MAX_PAYLOAD, rateLimit: false });
    const bystander = await startBystander(gateway);
    for (const joined of [false, true]) {
      const client = joined ? (await join(gateway)).client : await connect(gateway);
      client.send(JSON.stringify({ type: 'message', content: 'x'.repeat(MAX_PAYLOAD * 2 + 100) }));
      expect((await client.closed(3000)).code).toBe(1009);
      await bystander.publish();
    }
    await expectUndisturbed(bystander);
  });
});
