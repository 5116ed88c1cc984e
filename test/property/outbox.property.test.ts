// The client outbox against a model: arbitrary interleavings of send, flush over a flaky socket,
// acks (fresh, duplicate, unknown), per-message errors and rejectAll. Every message settles at
// most once, resends keep their id and order, and the bound is never passed silently.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/client/outbox.js';
import type { SendResult } from '../../src/client/index.js';
import { connectError } from '../../src/client/errors.js';

type Op =
  | { readonly op: 'add' }
  | { readonly op: 'flush'; readonly okWrites: number; readonly acks: boolean }
  | { readonly op: 'ack'; readonly pick: number; readonly duplicate: boolean }
  | { readonly op: 'ackUnknown' }
  | { readonly op: 'fail'; readonly pick: number }
  | { readonly op: 'rejectAll' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ op: 'add' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flush' as const), okWrites: fc.nat(6), acks: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('ack' as const), pick: fc.nat(20), duplicate: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'ackUnknown' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'rejectAll' as const }) },
);

interface Settled {
  readonly id: string;
  readonly outcome: 'resolved' | 'rejected';
  readonly value: SendResult | string;
}

describe('client outbox: model-based', () => {
  it('matches the model under arbitrary sends, flaky flushes, acks and failures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 1, max: 6 }), async (ops, max) => {
        let counter = 0;
        const outbox = createOutbox(max, () => `m${++counter}`);
        // The model: ids pending, in the order they were added.
        let model: string[] = [];
        const settled: Settled[] = [];
        const written: string[] = [];
        let fullRejections = 0;
        const track = (id: string, done: Promise<SendResult>): void => {
          done.then(
            (value) => void settled.push({ id, outcome: 'resolved', value }),
            (error: { code: string }) => void (id === '' ? fullRejections++ : settled.push({ id, outcome: 'rejected', value: error.code })),
          );
        };
        let expectedFull = 0;
        const expected = new Map<string, SendResult | string>();
        for (const op of ops) {
          switch (op.op) {
            case 'add': {
              const { id, done } = outbox.add({ body: counter });
              track(id, done);
              if (model.length >= max) {
                expect(id).toBe('');
                expectedFull++;
              } else model.push(id);
              break;
            }
            case 'flush': {
              let budget = op.okWrites;
              const attempted: string[] = [];
              outbox.flush((frame) => {
                attempted.push(frame.id);
                expect(JSON.parse(frame.text)).toMatchObject({ type: 'message', id: frame.id });
                if (budget === 0) return false;
                budget--;
                written.push(frame.id);
                return true;
              }, op.acks);
              // Oldest first, stopping at the first failed write.
              const wrote = Math.min(op.okWrites, model.length);
              expect(attempted).toEqual(model.slice(0, Math.min(model.length, wrote + 1)));
              // Without the ack extension a written message is done at once.
              if (!op.acks) {
                for (const id of model.slice(0, wrote)) expected.set(id, { id, duplicate: false, acknowledged: false });
                model = model.slice(wrote);
              }
              break;
            }
            case 'ack': {
              const id = model[op.pick % Math.max(1, model.length)];
              if (id === undefined) break;
              outbox.ack(id, op.duplicate);
              expected.set(id, { id, duplicate: op.duplicate, acknowledged: true });
              model = model.filter((m) => m !== id);
              break;
            }
            case 'ackUnknown':
              outbox.ack('never-sent', false);
              break;
            case 'fail': {
              const id = model[op.pick % Math.max(1, model.length)];
              if (id === undefined) break;
              outbox.fail(id, connectError('payload_too_large', 'too big'));
              expected.set(id, 'payload_too_large');
              model = model.filter((m) => m !== id);
              break;
            }
            case 'rejectAll':
              outbox.rejectAll(connectError('client_closed', 'bye'));
              for (const id of model) expected.set(id, 'client_closed');
              model = [];
              break;
          }
          expect(outbox.size).toBe(model.length);
          expect(outbox.size).toBeLessThanOrEqual(max);
        }
        await new Promise((resolve) => setImmediate(resolve));
        // Every message left the model exactly once: settled once, never twice.
        const ids = settled.map((s) => s.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length + model.length).toBe(counter);
        expect(fullRejections).toBe(expectedFull);
        // Each settled with exactly the outcome the model predicts.
        expect(new Map(settled.map((s) => [s.id, s.value]))).toEqual(expected);
        // Resends reuse the id: nothing was ever written under an id that was not added.
        for (const id of written) expect(Number(id.slice(1))).toBeLessThanOrEqual(counter);
      }),
      { numRuns: 300 },
    );
  });
});
