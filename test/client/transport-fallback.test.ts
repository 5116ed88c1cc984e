// Which node and transport each attempt uses, on the chart alone under XState's SimulatedClock: the
// socket actor is a recorder of the node and transport it was started with, the transport probe a
// recorder of its input, events are sent by hand and time is moved by hand. The states are the
// same over both transports; only the context moves.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock, type EventObject } from 'xstate';
import type { SocketActorInput, SocketCommand, TransportProbeInput } from '../../machines/actor-contracts.js';
import { gatewayMachine, type GatewayMachineEvent, type GatewayMachineInput } from '../../machines/gateway-machine.js';
import { currentNode, TRANSPORT_RETRY, transportRetryDelay } from '../../machines/transport-fallback.js';

const opened: GatewayMachineEvent = { type: 'socket.opened' };
const accepted: GatewayMachineEvent = { type: 'hello.accepted', protocol: 2, heartbeatMs: 0 };
/** A socket that never opened though a server answered: a refused upgrade, a close before open. */
const refused: GatewayMachineEvent = { type: 'socket.closed', code: 1006, reason: 'HTTP 426' };
/** A connect that reached no server: the gateway is down (restarting). */
const connectRefused: GatewayMachineEvent = { type: 'socket.closed', code: 1006, reason: 'ECONNREFUSED', noConnection: true };
const dropped: GatewayMachineEvent = { type: 'socket.closed', code: 1006, reason: '' };
const probeOpened: GatewayMachineEvent = { type: 'transport.probe_opened' };
const probeFailed: GatewayMachineEvent = { type: 'transport.probe_failed' };
const INITIAL_DELAY = 100;

function start(input: GatewayMachineInput = {}) {
  const clock = new SimulatedClock();
  const attempts: string[] = [];
  const probes: TransportProbeInput[] = [];
  const live = { probe: false };
  const machine = gatewayMachine.provide({
    actors: {
      socket: fromCallback<SocketCommand, SocketActorInput>(({ input: socket }) => {
        attempts.push(input.nodes === undefined ? socket.transport : `${socket.node}:${socket.transport}`);
      }),
      transportProbe: fromCallback<EventObject, TransportProbeInput>(({ input: probe }) => {
        probes.push(probe);
        live.probe = true;
        return () => (live.probe = false);
      }),
    },
  });
  const actor = createActor(machine, { input: { random: () => 0.99, reconnect: { initialDelayMs: INITIAL_DELAY, maxDelayMs: INITIAL_DELAY, minUptimeMs: 50 }, ...input }, clock }).start();
  const send = (...events: GatewayMachineEvent[]) => events.forEach((e) => actor.send(e));
  /** Let the pending retry fire: the next attempt starts. */
  const retry = () => clock.increment(actor.getSnapshot().context.retryInMs ?? 0);
  /** The context, with the current node's transport and its run of failures beside it. */
  const context = () => {
    const c = actor.getSnapshot().context;
    const { transport, failures } = currentNode(c);
    return { ...c, transport, transportFailures: failures };
  };
  return { actor, clock, send, retry, attempts, probes, live, context, value: () => JSON.stringify(actor.getSnapshot().value) };
}

/** A default chart that fell back to HTTP after two refused upgrades and joined over it. */
function joinedOverHttp(input: GatewayMachineInput = {}) {
  const t = start(input);
  t.send({ type: 'user.connect' }, refused);
  t.retry();
  t.send(refused);
  t.retry();
  t.send(opened, accepted);
  expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'waiting' });
  return t;
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

  it('counts an open within the run, a handshake timeout while opening, and nothing for an attempt that reached no server', () => {
    const t = start({ handshakeTimeoutMs: 500 });
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    // Opened, then closed before the handshake: the WebSocket works, so the run ends.
    t.send(opened, dropped);
    t.retry();
    t.send(refused);
    expect(t.context()).toMatchObject({ transport: 'websocket', transportFailures: 1 });
    t.retry();
    // No token to be had, or a connect refused (the gateway is down): not the transport's fault.
    t.send({ type: 'socket.closed', code: 1006, reason: 'token unavailable', noConnection: true });
    t.retry();
    t.send(connectRefused);
    expect(t.context()).toMatchObject({ transport: 'websocket', transportFailures: 1 });
    t.retry();
    t.clock.increment(500);
    expect(t.context()).toMatchObject({ transport: 'http', transportFailures: 0 });
  });

  it('stays on the WebSocket through any number of refused connects (a gateway restarting)', () => {
    const t = start();
    t.send({ type: 'user.connect' }, opened, accepted);
    t.send(dropped);
    for (let i = 0; i < 6; i++) {
      t.retry();
      t.send(connectRefused);
    }
    t.retry();
    t.send(opened, accepted);
    expect(new Set(t.attempts)).toEqual(new Set(['websocket']));
    expect(t.context()).toMatchObject({ transport: 'websocket', transportFailures: 0, transportRetry: 'idle' });
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
});

describe('the probe back to the preferred transport', () => {
  it('probes the WebSocket 60 s after joining over HTTP, while joined; a failed probe doubles the wait up to 10 min', () => {
    const t = joinedOverHttp();
    // A drop before the wait is over rejoins over HTTP; the clock keeps running from the first join.
    t.clock.increment(TRANSPORT_RETRY.initialMs / 2);
    t.send(dropped);
    t.retry();
    t.send(opened, accepted);
    expect(t.attempts.slice(3)).toEqual(['http']);
    expect(t.probes).toEqual([]);
    t.clock.increment(TRANSPORT_RETRY.initialMs / 2);
    expect(t.probes).toEqual([{ transport: 'websocket', deadlineMs: 10_000 }]);
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'due' });
    expect(t.actor.getSnapshot().matches('joined')).toBe(true);

    // Refused: stay joined over HTTP; the next probe comes after twice the wait.
    t.send(probeFailed);
    expect(t.live.probe).toBe(false);
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'waiting', transportRetries: 1 });
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.probes).toHaveLength(1);
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.probes).toHaveLength(2);
    expect(t.attempts).toHaveLength(4);
    expect([0, 1, 2, 3, 4, 5, 9].map(transportRetryDelay)).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]);
  });

  it('when the probe opens, rejoins over the WebSocket at once with no failure counted, and a WebSocket join resets the schedule', () => {
    const t = joinedOverHttp();
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    const { attempt, failure } = t.context();
    t.send(probeOpened);
    expect(t.value()).toBe('"connecting"');
    expect(t.live.probe).toBe(false);
    expect(t.attempts.at(-1)).toBe('websocket');
    expect(t.context()).toMatchObject({ attempt, failure, transport: 'websocket', lastClose: { code: 1000, reason: 'transport_upgrade' }, retryInMs: null });
    t.send(opened, accepted);
    expect(t.context()).toMatchObject({ transport: 'websocket', transportRetry: 'idle', transportRetries: 0 });
  });

  it('falls back after one failure when the rejoin over the WebSocket fails anyway, and waits twice as long', () => {
    const t = joinedOverHttp();
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    t.send(probeOpened, refused);
    expect(t.context().transport).toBe('http');
    t.retry();
    t.send(opened, accepted);
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'waiting', transportRetries: 1 });
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.probes).toHaveLength(1);
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.probes).toHaveLength(2);
  });

  it('a drop while the probe runs stops it, and the next attempt tries the WebSocket; a stop keeps it due for the next start', () => {
    const t = joinedOverHttp();
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    expect(t.live.probe).toBe(true);
    t.send(dropped);
    expect(t.live.probe).toBe(false);
    t.retry();
    expect(t.attempts.at(-1)).toBe('websocket');
    t.send(refused);
    t.retry();
    t.send(opened, accepted);
    expect(t.context()).toMatchObject({ transport: 'http', transportRetry: 'waiting' });

    // Stopped by the app while the clock runs: no timer while disconnected, the WebSocket first at the next start.
    t.send({ type: 'user.disconnect' });
    expect(t.context().transportRetry).toBe('due');
    t.send({ type: 'user.connect' });
    expect(t.attempts.at(-1)).toBe('websocket');
    t.send(refused);
    expect(t.context().transport).toBe('http');
  });

  it('the clock falling due before the join (while negotiating) probes as soon as the client joins', () => {
    const t = start();
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(opened, accepted);
    t.clock.increment(TRANSPORT_RETRY.initialMs - 1000);
    t.send(dropped);
    t.retry();
    t.send(opened);
    t.clock.increment(1000);
    expect(t.value()).toBe('"negotiating"');
    expect(t.context().transportRetry).toBe('due');
    expect(t.probes).toEqual([]);
    t.send(accepted);
    expect(t.probes).toHaveLength(1);
  });
});

describe('transport state per node of a url list', () => {
  it('counts failures per node: refusals on two nodes do not move a third off the WebSocket', () => {
    const t = start({ nodes: 3 });
    t.send({ type: 'user.connect' }, refused);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(opened, accepted);
    expect(t.attempts).toEqual(['0:websocket', '1:websocket', '2:websocket']);
    expect(t.context()).toMatchObject({ node: 2, transport: 'websocket' });
  });

  it('moves one node to HTTP after two failures of its own, and remembers it when the client comes back round', () => {
    const t = start({ nodes: 2 });
    t.send({ type: 'user.connect' });
    for (let i = 0; i < 4; i++) {
      t.send(refused);
      t.retry();
    }
    // Both nodes refused twice: both on HTTP now.
    expect(t.attempts).toEqual(['0:websocket', '1:websocket', '0:websocket', '1:websocket', '0:http']);
    t.send(opened, accepted, dropped);
    t.retry();
    // Node 1 opens over HTTP too; node 0 kept its HTTP.
    t.send(opened, accepted, dropped);
    t.retry();
    expect(t.attempts.slice(5)).toEqual(['1:http', '0:http']);
    expect(t.context().nodes).toEqual([
      { transport: 'http', failures: 0 },
      { transport: 'http', failures: 0 },
    ]);
  });

  it('rejoins the same node when the probe opens', () => {
    const t = start({ nodes: 2 });
    t.send({ type: 'user.connect' }, opened, accepted, dropped);
    t.retry();
    t.send(refused);
    t.retry();
    t.send(opened, accepted, dropped);
    t.retry();
    // Node 1's second refusal: it moves to HTTP. Node 0 opened each time, and is down now.
    t.send(refused);
    t.retry();
    t.send(connectRefused);
    t.retry();
    t.send(opened, accepted);
    expect(t.attempts).toEqual(['0:websocket', '1:websocket', '0:websocket', '1:websocket', '0:websocket', '1:http']);
    t.clock.increment(TRANSPORT_RETRY.initialMs);
    t.send(probeOpened);
    expect(t.attempts.at(-1)).toBe('1:websocket');
  });
});
