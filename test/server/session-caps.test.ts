// Sessions are capped per address (without verified credentials), per owner (per token) and in
// total, each refusal a typed session_limit with a retry hint and close 4030; resuming is never
// refused. Anonymous sessions that never received an event are forgotten sooner.
import { describe, expect, it } from 'vitest';
import { createMemoryLog, createMemorySessionCaps } from '../../src/server/index.js';
import { connect, helloFrame, join, startGateway } from '../support/gateway-kit.js';
import { createManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait-for.js';

type Gateway = Awaited<ReturnType<typeof startGateway>>;

/** Send a hello that must be refused with session_limit, and check the refusal and the close. */
async function expectSessionLimit(gateway: Gateway, fields: Record<string, unknown> = {}): Promise<string> {
  const client = await connect(gateway);
  client.send(helloFrame(fields));
  const refusal = await client.next('hello_error');
  expect(refusal).toMatchObject({ code: 'session_limit', next_step: 'wait_then_retry', retry_after_seconds: 60 });
  expect(await client.closed()).toMatchObject({ code: 4030, reason: 'session_limit' });
  return String(refusal['message']);
}

describe('session caps', () => {
  it('caps anonymous sessions per address, still lets them resume, and frees a slot when one goes', async () => {
    const gateway = await startGateway({ maxSessionsPerAddress: 3 });
    const first = await join(gateway);
    await join(gateway);
    await join(gateway);
    expect(await expectSessionLimit(gateway)).toMatch(/address already holds 3 sessions/);
    // An unknown id would be a new session too.
    await expectSessionLimit(gateway, { session_id: 'made-up' });
    expect(gateway.stats().counters.sessionLimited).toBe(2);
    expect(gateway.sessions()).toHaveLength(3);

    first.client.close();
    const resumed = await join(gateway, { session_id: first.helloOk['session_id'], since: 0, epoch: first.helloOk['epoch'] });
    expect(resumed.helloOk['resumed']).toBe(true);

    expect(await gateway.expireSession(String(first.helloOk['session_id']))).toBe(true);
    await join(gateway);
  });

  it('charges verified sessions to their owner, not to the shared address', async () => {
    const gateway = await startGateway({ verifyToken: () => true, maxSessionsPerOwner: 2, maxSessionsPerAddress: 1 });
    await join(gateway, { token: 'alice' });
    await join(gateway, { token: 'alice' });
    expect(await expectSessionLimit(gateway, { token: 'alice' })).toMatch(/credentials already hold 2 sessions/);
    await join(gateway, { token: 'bob' });
    await join(gateway, { token: 'bob' });
    // Anonymous sessions from the same address have a cap of their own.
    await join(gateway);
    await expectSessionLimit(gateway);
  });

  it('charges made-up tokens to the address when nothing verifies them', async () => {
    const gateway = await startGateway({ maxSessionsPerAddress: 2 });
    await join(gateway, { token: 't1' });
    await join(gateway, { token: 't2' });
    await expectSessionLimit(gateway, { token: 't3' });
  });

  it('caps sessions in total', async () => {
    const gateway = await startGateway({ maxSessions: 2 });
    await join(gateway);
    await join(gateway, { token: 'x' });
    expect(await expectSessionLimit(gateway, { token: 'y' })).toMatch(/maximum of 2 sessions/);
  });

  it('takes its counts from an injected SessionCaps', async () => {
    const caps = createMemorySessionCaps({ total: 1, perOwner: 10, perAddress: 10 });
    const gateway = await startGateway({ sessionCaps: caps });
    const first = await join(gateway);
    expect(caps.counted).toBe(1);
    await expectSessionLimit(gateway);
    await gateway.expireSession(String(first.helloOk['session_id']));
    expect(caps.counted).toBe(0);
  });

  it('counts the sessions a kept log brings to a restarted gateway', async () => {
    const log = createMemoryLog();
    const before = await startGateway({ log, maxSessions: 2 });
    await join(before);
    await join(before, { token: 'x' });
    await before.terminate();
    const after = await startGateway({ log, maxSessions: 2 });
    await expectSessionLimit(after);
  });

  it('refuses a bad cap at start-up', async () => {
    await expect(startGateway({ maxSessions: 0 })).rejects.toMatchObject({ code: 'configuration_error' });
    await expect(startGateway({ maxSessionsPerAddress: 1.5 })).rejects.toMatchObject({ code: 'configuration_error' });
  });
});

describe('anonymous session TTL', () => {
  it('forgets anonymous sessions that never received an event sooner, and keeps the others to sessionTtlMs', async () => {
    const clock = createManualClock();
    const gateway = await startGateway({ clock, anonymousSessionTtlMs: 1000, sessionTtlMs: 10_000, maxSessionsPerAddress: 3 });
    const empty = await join(gateway);
    const fed = await join(gateway);
    const owned = await join(gateway, { token: 'kept' });
    await gateway.publish(String(fed.helloOk['session_id']), { type: 't' });
    for (const s of [empty, fed, owned]) {
      s.client.close();
      await s.client.closed();
    }
    const ids = (): string[] => gateway.sessions().map((s) => s.id).sort();

    // Sweeps run every anonymousSessionTtlMs: the first marks the sessions idle, the next forgets.
    const sweep = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await new Promise((resolve) => setImmediate(resolve));
    };
    await sweep(1000);
    await sweep(1000);
    const kept = [fed, owned].map((s) => String(s.helloOk['session_id'])).sort();
    await waitFor(() => ids().length === 2, 2000, 'the empty anonymous session to go');
    expect(ids()).toEqual(kept);
    // Its slot is free again.
    await join(gateway);

    for (let t = 0; t < 10; t++) await sweep(1000);
    await waitFor(() => !ids().some((id) => kept.includes(id)), 2000, 'the others to go after sessionTtlMs');
  });
});
