// The chart on its own, under XState's SimulatedClock: no sockets, events sent by hand, time moved
// by hand. Every delay is named, so these tests read the schedule straight off the context.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock, type SnapshotFrom } from 'xstate';
import { gatewayMachine, type GatewayMachineEvent, type GatewayMachineInput } from '../../machines/gateway-machine.js';

type Snapshot = SnapshotFrom<typeof gatewayMachine>;

function start(input: GatewayMachineInput = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(gatewayMachine, { input: { random: () => 0.5, ...input }, clock }).start();
  const send = (...events: GatewayMachineEvent[]) => events.forEach((e) => actor.send(e));
  const value = () => JSON.stringify(actor.getSnapshot().value);
  return { actor, clock, send, value, context: () => actor.getSnapshot().context };
}

const opened: GatewayMachineEvent = { type: 'socket.opened' };
const accepted: GatewayMachineEvent = { type: 'hello.accepted', protocol: 2, heartbeatMs: 100 };
const dropped: GatewayMachineEvent = { type: 'socket.closed', code: 1006, reason: '' };

/** Drive a fresh chart to joined.live. */
function joined(input: GatewayMachineInput = {}) {
  const t = start(input);
  t.send({ type: 'user.connect' }, opened, accepted, { type: 'caught_up' });
  return t;
}

describe('gatewayMachine', () => {
  it('walks the happy path: disconnected -> connecting -> negotiating -> joined.replaying -> joined.live', () => {
    const t = start();
    const seen: string[] = [];
    t.actor.subscribe((s: Snapshot) => seen.push(JSON.stringify(s.value)));
    t.send({ type: 'user.connect' }, opened, accepted, { type: 'caught_up' });
    expect(seen).toEqual(['"connecting"', '"negotiating"', '{"joined":"replaying"}', '{"joined":"live"}']);
    expect(t.context()).toMatchObject({ protocol: 2, heartbeatMs: 100, attempt: 0, error: null });
  });

  it('backs off with jitter after a drop and retries when the named delay fires', () => {
    const t = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 0 } });
    t.send(dropped);
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    // random 0.5 with full jitter: half of the first ceiling.
    expect(t.context()).toMatchObject({ attempt: 1, retryInMs: 50, lastClose: { code: 1006, reason: '' } });
    t.clock.increment(49);
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    t.clock.increment(1);
    expect(t.value()).toBe('"connecting"');
    expect(t.context().retryInMs).toBeNull();
    t.send(dropped);
    expect(t.context()).toMatchObject({ attempt: 2, retryInMs: 100 });
  });

  it('resets the failure count only after minUptimeMs joined, so accept-then-drop cannot loop fast', () => {
    const t = joined({ reconnect: { initialDelayMs: 100, minUptimeMs: 1000 } });
    t.send(dropped);
    t.clock.increment(50);
    t.send(opened, accepted);
    t.send(dropped);
    expect(t.context().attempt).toBe(2);
    t.clock.increment(100);
    t.send(opened, accepted);
    t.clock.increment(999);
    expect(t.context().attempt).toBe(2);
    t.clock.increment(1);
    expect(t.context().attempt).toBe(0);
  });

  it('stops at a terminal rejection with the typed error and schedules nothing', () => {
    const t = start();
    t.send({ type: 'user.connect' }, opened, {
      type: 'hello.rejected',
      code: 'protocol_unsupported',
      message: 'too new',
      nextStep: 'downgrade_client',
    });
    expect(t.value()).toBe('"disconnected"');
    expect(t.context().error).toEqual({ code: 'protocol_unsupported', message: 'too new', nextStep: 'downgrade_client', closeCode: 4006 });
    expect(t.context().lastClose).toEqual({ code: 4006, reason: 'too new' });
    t.clock.increment(60_000);
    expect(t.value()).toBe('"disconnected"');
  });

  it('takes retry_after_seconds as a floor for the next delay', () => {
    const t = start({ reconnect: { initialDelayMs: 100 } });
    t.send({ type: 'user.connect' }, opened, {
      type: 'hello.rejected',
      code: 'rate_limited',
      message: 'slow down',
      nextStep: 'wait_then_retry',
      retryAfterMs: 2000,
    });
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    expect(t.context().retryInMs).toBe(2000);
    // An early retry on page focus would defy the server's wait.
    t.send({ type: 'page.visible' });
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    t.clock.increment(2000);
    expect(t.value()).toBe('"connecting"');
  });

  it('after a stable join, reconnects after the drain hint without counting a failure; 1001 and 4002 reconnect promptly', () => {
    const stable = (t: ReturnType<typeof joined>) => t.clock.increment(1000);
    const t = joined({ reconnect: { initialDelayMs: 100, minUptimeMs: 1000 } });
    stable(t);
    t.send({ type: 'draining', reconnectAfterMs: 700 });
    expect(t.context()).toMatchObject({ attempt: 0, retryInMs: 700, lastClose: { code: 1001, reason: 'draining' } });
    t.clock.increment(700);
    t.send(opened, accepted);
    stable(t);
    t.send({ type: 'socket.closed', code: 1001, reason: 'shutdown' });
    expect(t.context()).toMatchObject({ attempt: 0, retryInMs: 50 });
    t.clock.increment(50);
    t.send(opened, accepted);
    stable(t);
    t.send({ type: 'heartbeat.missed' });
    expect(t.context()).toMatchObject({ attempt: 0, retryInMs: 50, lastClose: { code: 4002, reason: 'heartbeat_timeout' } });
  });

  // Issue #18: a gateway that accepts and then closes (or drains, or goes silent) at once.
  it.each([
    ['1001', { type: 'socket.closed', code: 1001, reason: 'shutdown' }, 50],
    ['4002', { type: 'socket.closed', code: 4002, reason: 'liveness' }, 50],
    ['4040', { type: 'socket.closed', code: 4040, reason: 'session expired' }, 50],
    ['1012', { type: 'socket.closed', code: 1012, reason: 'restart' }, 50],
    ['a missed heartbeat', { type: 'heartbeat.missed' }, 50],
    ['a drain with a 0 ms hint', { type: 'draining', reconnectAfterMs: 0 }, 0],
  ] as const)('escalates to the normal backoff when %s keeps coming back before a stable join', (_name, loss, firstMs) => {
    const t = joined({ reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, minUptimeMs: 1000 } });
    const planned: Array<{ attempt: number; retryInMs: number | null }> = [];
    for (let i = 0; i < 6; i++) {
      t.send(loss);
      const { attempt, retryInMs } = t.context();
      planned.push({ attempt, retryInMs });
      t.clock.increment(retryInMs ?? 0);
      t.send(opened, accepted, { type: 'caught_up' });
    }
    // The first is prompt (or the hint) and uncounted; every repeat is a failure: 50, 100, 200, 400, 800 ms.
    expect(planned).toEqual([0, 1, 2, 3, 4, 5].map((attempt) => ({ attempt, retryInMs: attempt === 0 ? firstMs : 50 * 2 ** (attempt - 1) })));
    // A stable join ends it: the next one is prompt again.
    t.clock.increment(1000);
    t.send(loss);
    expect(t.context()).toMatchObject({ attempt: 0, retryInMs: firstMs });
  });

  it('takes a drain hint as a floor when the drain repeats before a stable join', () => {
    const t = joined({ reconnect: { initialDelayMs: 100, minUptimeMs: 1000 } });
    t.send({ type: 'draining', reconnectAfterMs: 700 });
    t.clock.increment(700);
    t.send(opened, accepted, { type: 'draining', reconnectAfterMs: 700 });
    expect(t.context()).toMatchObject({ attempt: 1, retryInMs: 700 });
  });

  it('re-arms the fresh-token retry only after a stable join, so accept-then-revoke cannot loop', () => {
    const revoked: GatewayMachineEvent = { type: 'socket.closed', code: 4003, reason: 'token revoked' };
    const t = joined({ reconnect: { initialDelayMs: 100, minUptimeMs: 1000 }, refreshableToken: true });
    t.send(revoked);
    expect(t.context()).toMatchObject({ tokenRefresh: 'used', attempt: 0 });
    t.clock.increment(t.context().retryInMs ?? 0);
    t.send(opened, accepted, revoked);
    expect(t.value()).toBe('"disconnected"');
    expect(t.context().error).toMatchObject({ code: 'auth_required', closeCode: 4003 });

    const stable = joined({ reconnect: { initialDelayMs: 100, minUptimeMs: 1000 }, refreshableToken: true });
    stable.send(revoked);
    stable.clock.increment(stable.context().retryInMs ?? 0);
    stable.send(opened, accepted);
    stable.clock.increment(1000);
    expect(stable.context().tokenRefresh).toBe('ready');
    stable.send(revoked);
    expect(stable.value()).toBe('{"reconnecting":"waiting"}');
  });

  it('stops on a fatal close code, and after maxAttempts failures in a row', () => {
    const fatal = joined();
    fatal.send({ type: 'socket.closed', code: 4003, reason: 'token revoked' });
    expect(fatal.value()).toBe('"disconnected"');
    expect(fatal.context().error).toMatchObject({ code: 'auth_required', nextStep: 'reauthenticate', closeCode: 4003 });

    const t = start({ reconnect: { maxAttempts: 2, initialDelayMs: 10 } });
    t.send({ type: 'user.connect' }, dropped);
    t.clock.increment(10);
    t.send(dropped);
    t.clock.increment(20);
    t.send(dropped);
    expect(t.value()).toBe('"disconnected"');
    expect(t.context().error).toMatchObject({ code: 'retries_exhausted', closeCode: 1006 });
  });

  it('with reconnect: false, the first close ends it', () => {
    const t = joined({ reconnect: false });
    t.send(dropped);
    expect(t.value()).toBe('"disconnected"');
    expect(t.context().error).toMatchObject({ code: 'connection_lost' });
  });

  it('times out a handshake with the named delay', () => {
    const t = start({ handshakeTimeoutMs: 500 });
    t.send({ type: 'user.connect' }, opened);
    t.clock.increment(500);
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    expect(t.context()).toMatchObject({ attempt: 1, lastClose: { code: 4008, reason: 'handshake_timeout' } });
    expect(t.context().failure).toEqual({ count: 1, cause: 'handshake_timeout' });
  });

  it('records what ended each counted failure, and counts them across resets: a gateway close that reads like a timeout is a close', () => {
    const t = start({ handshakeTimeoutMs: 500, reconnect: { initialDelayMs: 100, minUptimeMs: 1000 } });
    t.send({ type: 'user.connect' }, opened);
    // The gateway's own handshake timeout (close 4008 'handshake_timeout') is not the chart's timer.
    t.send({ type: 'socket.closed', code: 4008, reason: 'handshake_timeout' });
    expect(t.context().failure).toEqual({ count: 1, cause: 'closed' });
    t.clock.increment(100);
    t.send(opened, { type: 'hello.rejected', code: 'rate_limited', message: 'slow down', nextStep: 'wait_then_retry' });
    expect(t.context().failure).toEqual({ count: 2, cause: 'refused' });
    t.clock.increment(200);
    t.send(opened, accepted);
    t.clock.increment(1000);
    expect(t.context().attempt).toBe(0);
    t.send({ type: 'heartbeat.missed' });
    // A prompt retry after a stable join counts no failure.
    expect(t.context().failure).toEqual({ count: 2, cause: 'refused' });
    t.clock.increment(100);
    t.clock.increment(500);
    expect(t.context()).toMatchObject({ attempt: 1, failure: { count: 3, cause: 'handshake_timeout' } });
  });

  it('falls back to join and remembers it for the next sockets', () => {
    const t = start();
    t.send({ type: 'user.connect' }, opened, { type: 'hello.unsupported' });
    expect(t.value()).toBe('"negotiating"');
    expect(t.context().handshake).toBe('join');
    t.send({ type: 'hello.accepted', protocol: 0, heartbeatMs: 0 });
    expect(t.context().protocol).toBe(0);
  });

  it('waits offline instead of burning attempts, and retries at once when back online', () => {
    const t = joined({ online: true });
    t.send({ type: 'network.offline' }, dropped);
    expect(t.value()).toBe('{"reconnecting":"offline"}');
    t.clock.increment(59_999);
    expect(t.value()).toBe('{"reconnecting":"offline"}');
    t.send({ type: 'network.online' });
    expect(t.value()).toBe('"connecting"');
  });

  it('retries at once when the page becomes visible while waiting', () => {
    const t = joined({ reconnect: { initialDelayMs: 10_000 } });
    t.send(dropped, { type: 'page.visible' });
    expect(t.value()).toBe('"connecting"');
  });

  describe('the probe window after a joined connection drops', () => {
    /** A refused connect: the retry fires, and the socket closes without ever opening. */
    function refused(t: ReturnType<typeof start>) {
      t.clock.increment(t.context().retryInMs ?? 0);
      expect(t.value()).toBe('"connecting"');
      t.send(dropped);
    }

    /** Refuse every attempt until `untilMs` after the drop; returns [ms since the drop, attempt, retryInMs] after each. */
    function refuseUntil(t: ReturnType<typeof start>, untilMs: number): Array<[number, number, number | null]> {
      const seen: Array<[number, number, number | null]> = [];
      let at = 0;
      while (at + (t.context().retryInMs ?? 0) <= untilMs) {
        at += t.context().retryInMs ?? 0;
        refused(t);
        seen.push([at, t.context().attempt, t.context().retryInMs]);
      }
      return seen;
    }

    it('probes within initialDelayMs until probeWindowMs without counting, and the backoff runs as it would without the probes', () => {
      const t = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 500 } });
      t.send(dropped);
      expect(t.context()).toMatchObject({ outage: 'probing', attempt: 1, retryInMs: 50, backoffLeftMs: 0 });
      const probing = refuseUntil(t, 750);
      // random 0.5: probes every 50 ms. The counted failures (the attempt going up) fall at 50,
      // 150, 350 and 750 ms, as without the window; from 500 ms on the rest of the 400 ms step is
      // served whole, then the next step (1600 ms ceiling) is drawn.
      expect(probing).toEqual([
        [50, 2, 50], [100, 2, 50], [150, 3, 50], [200, 3, 50], [250, 3, 50], [300, 3, 50], [350, 4, 50], [400, 4, 50], [450, 4, 50],
        [500, 4, 250], [750, 5, 800],
      ]);
      expect(t.context()).toMatchObject({ outage: 'young', backoffLeftMs: 0 });

      const plain = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 0 } });
      plain.send(dropped);
      expect(refuseUntil(plain, 750)).toEqual([[50, 2, 100], [150, 3, 200], [350, 4, 400], [750, 5, 800]]);
    });

    it('ends when a socket opens: nothing carried, and a refusal or a drop after that counts and backs off as usual', () => {
      const t = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 500 } });
      t.send(dropped);
      refused(t);
      expect(t.context()).toMatchObject({ outage: 'probing', attempt: 2, backoffLeftMs: 50 });
      t.clock.increment(50);
      t.send(opened);
      expect(t.context()).toMatchObject({ outage: 'young', backoffLeftMs: 0 });
      t.send({ type: 'hello.rejected', code: 'internal_error', message: 'boom', nextStep: 'wait_then_retry' });
      expect(t.context()).toMatchObject({ outage: 'young', attempt: 3, retryInMs: 200, backoffLeftMs: 0 });
      // The window's timer went with it: nothing changes at 500 ms.
      t.clock.increment(500);
      expect(t.context().outage).toBe('young');
    });

    it('never starts on a first connect, with probeWindowMs 0, or when the drop follows an unstable join', () => {
      const first = start({ reconnect: { initialDelayMs: 100, probeWindowMs: 500 } });
      first.send({ type: 'user.connect' }, dropped);
      expect(first.context()).toMatchObject({ outage: 'young', attempt: 1, retryInMs: 50 });
      refused(first);
      expect(first.context()).toMatchObject({ attempt: 2, retryInMs: 100, backoffLeftMs: 0 });

      const off = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 0 } });
      off.send(dropped);
      expect(off.context().outage).toBe('young');
      refused(off);
      expect(off.context()).toMatchObject({ attempt: 2, retryInMs: 100 });

      // Accept-then-drop within the outage: the window is spent once, never re-armed before a stable join.
      const flap = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 500, minUptimeMs: 1000 } });
      flap.send(dropped);
      flap.clock.increment(600);
      flap.send(opened, accepted, dropped);
      expect(flap.context()).toMatchObject({ outage: 'young', attempt: 2, retryInMs: 100 });
    });

    it('counts no probe toward maxAttempts: the client gives up at the same failure, at the same time, as without the window', () => {
      const one = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 500, maxAttempts: 1 } });
      one.send(dropped);
      refused(one);
      expect(one.value()).toBe('"disconnected"');
      expect(one.context().error).toMatchObject({ code: 'retries_exhausted' });
      // maxAttempts 3: without the window the 4th failure in a row comes at 350 ms; the probes between change nothing.
      const three = joined({ reconnect: { initialDelayMs: 100, probeWindowMs: 500, maxAttempts: 3 } });
      three.send(dropped);
      for (let i = 0; i < 6; i++) refused(three);
      expect(three.value()).toBe('{"reconnecting":"waiting"}');
      expect(three.context()).toMatchObject({ outage: 'probing', attempt: 3 });
      refused(three);
      expect(three.value()).toBe('"disconnected"');
    });
  });

  describe('two-tier reconnect', () => {
    /** Fail every attempt until `untilMs` of chart time passed; returns the delays planned, by state. */
    function failFor(t: ReturnType<typeof start>, untilMs: number) {
      const delays: Array<{ state: string; ms: number }> = [];
      let elapsed = 0;
      while (elapsed < untilMs) {
        const ms = t.context().retryInMs ?? 0;
        delays.push({ state: Object.keys(t.actor.getSnapshot().value)[0] ?? '', ms });
        t.clock.increment(ms);
        elapsed += ms;
        t.send(dropped);
      }
      return delays;
    }

    it('caps a young outage at maxDelayMs, then suspends after suspendAfterMs with the long cap', () => {
      // Full jitter draws `ceiling * (1 - random())`: a random near 0 shows the caps.
      const t = joined({ random: () => 0.001 });
      t.send(dropped);
      expect(t.context().outage).toBe('probing');
      const delays = failFor(t, 59_000);
      expect(delays.every((d) => d.state === 'reconnecting' && d.ms <= 5000)).toBe(true);
      expect(Math.max(...delays.map((d) => d.ms))).toBeGreaterThan(4000);
      failFor(t, 6000);
      expect(t.context().outage).toBe('old');
      expect(t.value()).toBe('{"suspended":"waiting"}');
      const late = failFor(t, 120_000);
      expect(late.every((d) => d.state === 'suspended' && d.ms <= 30_000)).toBe(true);
      expect(Math.max(...late.map((d) => d.ms))).toBeGreaterThan(25_000);
    });

    it('keeps the outage clock across an unstable join and resets it only on a stable one', () => {
      const t = joined({ reconnect: { initialDelayMs: 100, minUptimeMs: 1000, suspendAfterMs: 10_000 } });
      t.send(dropped);
      t.clock.increment(5000);
      t.send(opened, accepted);
      t.clock.increment(999);
      t.send(dropped);
      expect(t.value()).toBe('{"reconnecting":"waiting"}');
      failFor(t, 10_000 - 5999);
      expect(t.value()).toBe('{"suspended":"waiting"}');
      t.clock.increment(t.context().retryInMs ?? 0);
      t.send(opened, accepted);
      expect(t.context().outage).toBe('old');
      // A prompt close within the same outage is a failure, and waits in suspended too.
      const attempt = t.context().attempt;
      t.send({ type: 'socket.closed', code: 1012, reason: 'restart' });
      expect(t.value()).toBe('{"suspended":"waiting"}');
      expect(t.context().attempt).toBe(attempt + 1);
      t.clock.increment(t.context().retryInMs ?? 0);
      t.send(opened, accepted);
      t.clock.increment(1000);
      expect(t.context()).toMatchObject({ outage: 'none', attempt: 0 });
      t.send(dropped);
      expect(t.value()).toBe('{"reconnecting":"waiting"}');
      expect(t.context().outage).toBe('probing');
    });

    it('suspends while offline and retries at once when the network returns', () => {
      const t = joined({ reconnect: { suspendAfterMs: 1000 } });
      t.send({ type: 'network.offline' }, dropped);
      t.clock.increment(1000);
      expect(t.value()).toBe('{"suspended":"offline"}');
      t.send({ type: 'network.online' });
      expect(t.value()).toBe('"connecting"');
      expect(t.context().outage).toBe('old');
    });
  });

  it.each([
    ['connecting', [{ type: 'user.connect' }]],
    ['negotiating', [{ type: 'user.connect' }, opened]],
    ['joined.replaying', [{ type: 'user.connect' }, opened, accepted]],
    ['joined.live', [{ type: 'user.connect' }, opened, accepted, { type: 'caught_up' }]],
    ['reconnecting.waiting', [{ type: 'user.connect' }, dropped]],
    ['reconnecting.offline', [{ type: 'network.offline' }, { type: 'user.connect' }, dropped]],
    ['suspended.waiting', [{ type: 'user.connect' }, dropped, { type: 'outage.aged' }]],
    ['suspended.offline', [{ type: 'network.offline' }, { type: 'user.connect' }, dropped, { type: 'outage.aged' }]],
    ['disconnected', []],
  ] as Array<[string, GatewayMachineEvent[]]>)('user.disconnect in %s goes to disconnected and stays there', (_, path) => {
    const t = start();
    t.send(...path);
    t.send({ type: 'user.disconnect' });
    expect(t.value()).toBe('"disconnected"');
    expect(t.context()).toMatchObject({ error: null, outage: 'none' });
    expect(t.actor.getSnapshot().children['socket']).toBeUndefined();
    t.clock.increment(60_000);
    expect(t.value()).toBe('"disconnected"');
  });

  it('keeps at most one socket child, and swaps implementations through provide()', () => {
    let started = 0;
    let live = 0;
    const machine = gatewayMachine.provide({
      actors: {
        socket: fromCallback(() => {
          started++;
          live++;
          return () => void live--;
        }),
      },
      delays: { retryDelay: 1 },
    });
    const clock = new SimulatedClock();
    const actor = createActor(machine, { input: {}, clock }).start();
    actor.send({ type: 'user.connect' });
    for (let i = 0; i < 5; i++) {
      actor.send(dropped);
      expect(live).toBe(0);
      clock.increment(1);
      expect(live).toBe(1);
    }
    expect(started).toBe(6);
    actor.send({ type: 'user.disconnect' });
    expect(live).toBe(0);
  });

  it.each([
    ['rate_limited', 4029],
    ['session_limit', 4030],
    ['unavailable', 4503],
  ])('a visible page never cuts short the wait a %s refusal asked for', (code, closeCode) => {
    const t = start({ reconnect: { initialDelayMs: 100 } });
    t.send({ type: 'user.connect' }, opened, { type: 'hello.rejected', code, message: code, nextStep: 'wait_then_retry', retryAfterMs: 5000 });
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    expect(t.context().lastClose?.code).toBe(closeCode);
    t.send({ type: 'page.visible' });
    expect(t.value()).toBe('{"reconnecting":"waiting"}');
    // An ordinary drop is different: a visible page retries at once.
    const u = joined();
    u.send(dropped, { type: 'page.visible' });
    expect(u.value()).toBe('"connecting"');
  });
});

