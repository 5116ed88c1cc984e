// Which transport each attempt uses, on the chart alone under XState's SimulatedClock: the socket
// actor is a recorder of the transport it was started with, events are sent by hand and time is
// moved by hand. The states are the same over both transports; only the context moves.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import type { SocketActorInput, SocketCommand } from '../../machines/actor-contracts.js';
import { gatewayMachine, type GatewayMachineEvent, type GatewayMachineInput } from '../../machines/gateway-machine.js';
import { TRANSPORT_RETRY, transportRetryDelay } from '../../machines/transport-fallback.js';

const opened: GatewayMachineEvent = { type: 'socket.opened' };
const accepted: GatewayMachineEvent = { type: 'hello.accepted', protocol: 2, heartbeatMs: 0 };
/** A socket that never opened: a refused upgrade, a close before open. */
const refused: GatewayMachineEvent = { type: 'socket.closed', code: 1006, reason: 'HTTP 426' };
const dropped: GatewayMachineEvent = { type: 'socket.closed', code: 1006, reason: '' };
const INITIAL_DELAY = 100;

function start(input: GatewayMachineInput = {}) {
  const clock = new SimulatedClock();
  const attempts: string[] = [];
  const machine = gatewayMachine.provide({
    actors: {
      socket: fromCallback<SocketCommand, SocketActorInput>(({ input: socket }) => {
        attempts.push(socket.transport);
      }),
    },
  });
  const actor = createActor(machine, { input: { random: () => 0.99, reconnect: { initialDelayMs: INITIAL_DELAY, maxDelayMs: INITIAL_DELAY, minUptimeMs: 50 }, ...input }, clock }).start();
  const send = (...events: GatewayMachineEvent[]) => events.forEach((e) => actor.send(e));
  /** Let the pending retry fire: the next attempt starts. */
  const retry = () => clock.increment(actor.getSnapshot().context.retryInMs ?? 0);
  return { actor, clock, send, retry, attempts, context: () => actor.getSnapshot().context };
}

describe('transport fallback on the chart', () => {
  it('moves to HTTP after two WebSocket attempts in a row that never opened, keeping its states', () => {
    const t = start();
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    t.send(refused);
    expect(t.actor.getSnapshot().matches('reconnecting')).toBe(true);
    expect(t.context().transport).toBe('http');
    t.retry();
    t.send(opened, accepted);
    expect(t.attempts).toEqual(['websocket', 'websocket', 'http']);
    expect(t.actor.getSnapshot().matches('joined')).toBe(true);
  });

  it('counts an open within the run, a handshake timeout while opening, and nothing for an attempt that made no connection', () => {
    const t = start({ handshakeTimeoutMs: 500 });
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    // Opened, then closed before the handshake: the WebSocket works, so the run ends.
    t.send(opened, dropped);
    t.retry();
    t.send(refused);
    expect(t.context()).toMatchObject({ transport: 'websocket', transportFailures: 1 });
    t.retry();
    // No token to be had: no connection was tried, so the transport is not to blame.
    t.send({ type: 'socket.closed', code: 1006, reason: 'token unavailable', noConnection: true });
    expect(t.context()).toMatchObject({ transport: 'websocket', transportFailures: 1 });
    t.retry();
    t.clock.increment(500);
    expect(t.context()).toMatchObject({ transport: 'http', transportFailures: 0 });
  });

  it('goes round the list: after two HTTP attempts that never opened, back to the WebSocket', () => {
    const t = start();
    t.send({ type: 'user.connect' });
    for (let i = 0; i < 4; i++) {
      t.send(refused);
      t.retry();
    }
    expect(t.attempts).toEqual(['websocket', 'websocket', 'http', 'http', 'websocket']);
  });

  it("with one transport, never moves; ['http', 'websocket'] starts on HTTP", () => {
    const one = start({ transports: ['websocket'] });
    one.send({ type: 'user.connect' });
    for (let i = 0; i < 4; i++) {
      one.send(refused);
      one.retry();
    }
    expect(new Set(one.attempts)).toEqual(new Set(['websocket']));
    const httpFirst = start({ transports: ['http', 'websocket'] });
    httpFirst.send({ type: 'user.connect' });
    expect(httpFirst.attempts).toEqual(['http']);
  });

  it('after joining over HTTP, tries the WebSocket at the first attempt after 60 s, falls back after one failure, and doubles the wait up to 10 min', () => {
    const t = start();
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(opened, accepted);
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'waiting' });

    // A drop before the wait is over rejoins over HTTP; the clock keeps running from the first join.
    t.clock.increment(TRANSPORT_RETRY.initialMs / 2);
    t.send(dropped);
    t.retry();
    t.send(opened, accepted);
    expect(t.attempts.slice(3)).toEqual(['http']);
    t.clock.increment(TRANSPORT_RETRY.initialMs / 2);
    // Due: a healthy connection is left alone; the next attempt tries the WebSocket.
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'due' });
    expect(t.actor.getSnapshot().matches('joined')).toBe(true);
    t.send(dropped);
    t.retry();
    expect(t.attempts.slice(4)).toEqual(['websocket']);
    t.send(refused);
    expect(t.context().transport).toBe('http');
    t.retry();
    t.send(opened, accepted);
    expect(t.attempts.slice(5)).toEqual(['http']);

    // Twice the wait now: nothing is due at 60 s, the WebSocket is tried after 120 s.
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.context().transportRetry).toBe('waiting');
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.context().transportRetry).toBe('due');
    expect([0, 1, 2, 3, 4, 5, 9].map(transportRetryDelay)).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]);
  });

  it('resets the schedule when the WebSocket joins, and a new start after disconnect() tries the WebSocket first', () => {
    const t = start();
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(opened, accepted);
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    t.send(dropped);
    t.retry();
    t.send(opened, accepted);
    expect(t.context()).toMatchObject({ transport: 'websocket', transportRetry: 'idle', transportRetries: 0 });

    // Over HTTP again, then stopped by the app while the clock runs: no timer while disconnected.
    t.send(dropped);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(opened, accepted);
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'waiting' });
    t.send({ type: 'user.disconnect' });
    expect(t.context().transportRetry).toBe('due');
    t.send({ type: 'user.connect' });
    expect(t.attempts.at(-1)).toBe('websocket');
    t.send(refused);
    expect(t.context().transport).toBe('http');
  });
});
