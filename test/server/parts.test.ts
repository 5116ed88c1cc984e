// The gateway's pure parts, driven directly: the resume rule, the memory log's window, the rate
// limiter's clock arithmetic. Plus the small HTTP surface and API edges.
import { describe, expect, it } from 'vitest';
import { createMemoryLog } from '../../src/server/index.js';
import { planResume } from '../../src/server/resume-plan.js';
import { createRateLimiter } from '../../src/server/rate-limiter.js';
import { appendOne } from '../support/append-one.js';
import { join, startGateway } from '../support/gateway-kit.js';
import { createManualClock } from '../support/manual-clock.js';

describe('planResume', () => {
  const position = { epoch: 'e-1', oldest: 11, head: 20, movedUnseen: false };
  it.each([
    ['no since', { since: undefined, epoch: undefined }, { replayAfter: 20, resyncRequired: false, gap: undefined }],
    ['inside the window', { since: 15, epoch: 'e-1' }, { replayAfter: 15, resyncRequired: false, gap: undefined }],
    ['right at the window edge', { since: 10, epoch: 'e-1' }, { replayAfter: 10, resyncRequired: false, gap: undefined }],
    ['at the head', { since: 20, epoch: undefined }, { replayAfter: 20, resyncRequired: false, gap: undefined }],
    ['one short of the window', { since: 9, epoch: 'e-1' }, { replayAfter: 10, resyncRequired: true, gap: { expected: 10, received: 11 } }],
    ['beyond the head', { since: 21, epoch: 'e-1' }, { replayAfter: 10, resyncRequired: true, gap: { expected: 22, received: 11 } }],
    ['another epoch', { since: 15, epoch: 'e-2' }, { replayAfter: 10, resyncRequired: true, gap: { expected: 16, received: 11 } }],
  ] as const)('%s', (_name, request, expected) => {
    expect(planResume(request, position)).toEqual(expected);
  });

  it('treats a since without an epoch as another epoch\'s while the history\'s move is unseen', () => {
    const moved = { ...position, movedUnseen: true };
    const acrossTheMove = { replayAfter: 10, resyncRequired: true, gap: { expected: 16, received: 11 } };
    expect(planResume({ since: 15, epoch: undefined }, moved)).toEqual(acrossTheMove);
    // An epoch says which history the since is from; without a move pending, none is needed.
    expect(planResume({ since: 15, epoch: 'e-1' }, moved)).toEqual({ replayAfter: 15, resyncRequired: false, gap: undefined });
    expect(planResume({ since: 15, epoch: undefined }, position)).toEqual({ replayAfter: 15, resyncRequired: false, gap: undefined });
  });

  it('points the gap past the head when nothing is held', () => {
    expect(planResume({ since: 3, epoch: 'old' }, { epoch: 'new', oldest: 0, head: 0, movedUnseen: false })).toEqual({ replayAfter: 0, resyncRequired: true, gap: { expected: 4, received: 1 } });
  });
});

/** Two gateway processes claiming client messages, with 300 ms leases. */
const A = { owner: 'a/1', leaseMs: 300 };
const B = { owner: 'b/1', leaseMs: 300 };

describe('memory log', () => {
  it('keeps exactly the last replayWindow events across its compaction', async () => {
    const log = createMemoryLog({ replayWindow: 3 });
    await log.createSession('s', 'a');
    for (let i = 1; i <= 10; i++) {
      await appendOne(log, 's', { type: 't' });
      const held = (await log.readAfter('s', 0)).events.map((e) => e.seq);
      const oldest = Math.max(1, i - 2);
      expect(held).toEqual(Array.from({ length: i - oldest + 1 }, (_, k) => oldest + k));
      expect(await log.position('s')).toMatchObject({ oldest, head: i });
    }
    expect((await log.readAfter('s', 8)).events.map((e) => e.seq)).toEqual([9, 10]);
    expect((await log.readAfter('s', 0, 2)).events.map((e) => e.seq)).toEqual([8, 9]);
    expect(await log.readAfter('s', 10)).toEqual({ epoch: (await log.position('s')).epoch, events: [] });
  });

  it('forgets the oldest message ids past its dedupe window', async () => {
    const log = createMemoryLog({ dedupeWindow: 2 });
    await log.createSession('s', 'a');
    const apply = async (id: string) => {
      const claim = await log.claimMessage('s', id, A);
      if (claim.status === 'claimed') await log.recordMessageApplied('s', id, A.owner);
      return claim.status;
    };
    expect([await apply('a'), await apply('b'), await apply('a')]).toEqual(['claimed', 'claimed', 'applied']);
    await apply('c');
    expect(await apply('a')).toBe('claimed');
  });

  it('holds a message in flight under one owner until it is applied; another owner waits out the lease, then takes it over', async () => {
    const clock = createManualClock();
    const log = createMemoryLog({ clock });
    await log.createSession('s', 'a');
    expect(await log.claimMessage('s', 'm', A)).toEqual({ status: 'claimed', takenOver: false });
    clock.advance(100);
    expect(await log.claimMessage('s', 'm', B)).toEqual({ status: 'in_flight', leaseLeftMs: 200 });
    expect(await log.renewMessageClaim('s', 'm', A)).toBe(true);
    clock.advance(250);
    expect(await log.claimMessage('s', 'm', B)).toEqual({ status: 'in_flight', leaseLeftMs: 50 });
    clock.advance(50);
    // A's lease lapsed (A died, or lost the store): B applies it.
    expect(await log.claimMessage('s', 'm', B)).toEqual({ status: 'claimed', takenOver: true });
    expect(await log.renewMessageClaim('s', 'm', A)).toBe(false);
    expect(await log.recordMessageApplied('s', 'm', A.owner)).toBe(false);
    expect(await log.recordMessageApplied('s', 'm', B.owner)).toBe(true);
    expect(await log.claimMessage('s', 'm', A)).toEqual({ status: 'applied' });
    // An owner's own claim, which it is not running (its caller checks): claimed again, at once.
    await log.claimMessage('s', 'n', A);
    expect(await log.claimMessage('s', 'n', A)).toEqual({ status: 'claimed', takenOver: false });
  });

  it('gives every session its own epoch', async () => {
    const log = createMemoryLog();
    const [a, b] = [await log.createSession('a', 'x'), await log.createSession('b', 'x')];
    expect(a.epoch).not.toBe(b.epoch);
    expect(() => log.createSession('a', 'x')).toThrow();
  });
});

describe('rate limiter', () => {
  it('allows n per window, then says how long to wait, and does not count refusals', () => {
    let now = 0;
    const limiter = createRateLimiter({ connections: 2, perMs: 10_000 }, () => now);
    expect(limiter.check('ip')).toEqual({ ok: true });
    now = 4000;
    expect(limiter.check('ip')).toEqual({ ok: true });
    expect(limiter.check('other')).toEqual({ ok: true });
    now = 5000;
    expect(limiter.check('ip')).toEqual({ ok: false, retryAfterSeconds: 5 });
    now = 10_000;
    expect(limiter.check('ip')).toEqual({ ok: true });
    expect(limiter.check('ip')).toEqual({ ok: false, retryAfterSeconds: 4 });
  });
});

describe('gateway API edges', () => {
  it('serves health over plain HTTP and asks for an upgrade elsewhere', async () => {
    const gateway = await startGateway();
    await join(gateway);
    const base = gateway.url.replace('ws://', 'http://');
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', connections: 1, sessions: 1, protocol: { min: 1, max: 2 } });
    expect((await fetch(`${base}/`)).status).toBe(426);
  });

  it('lists sessions and refuses to publish after close', async () => {
    const gateway = await startGateway();
    const { helloOk } = await join(gateway, { agent_id: 'alice' });
    expect(gateway.sessions()).toEqual([{ id: helloOk['session_id'], agentId: 'alice', epoch: helloOk['epoch'], connections: 1 }]);
    expect(gateway.stats()).toMatchObject({ connections: 1, joined: 1, sessions: 1, counters: { joined: 1 } });
    await gateway.close();
    await expect(gateway.publish(String(helloOk['session_id']), { type: 'x' })).rejects.toMatchObject({ code: 'gateway_closed' });
  });

  it('rejects bad options with configuration_error', async () => {
    await expect(startGateway({ heartbeatMs: 0 })).rejects.toMatchObject({ code: 'configuration_error' });
    await expect(startGateway({ rateLimit: { connections: 0, perMs: 1 } })).rejects.toMatchObject({ code: 'configuration_error' });
  });
});
