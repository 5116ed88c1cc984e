// A stand-in for the PraisonAI gateway, built from the recorded transcripts in
// test/fixtures/conformance/praisonai-gateway/ (see its README.md). It reproduces that gateway's
// dialect and its gaps, so the kit can be checked against a partial implementation:
// `/ws` only, `?token=`, hello_ok without epoch/extensions, flat numbered `response` frames,
// replays numbered by `event.sequence` only, no caught_up, server pings, unknown types ignored,
// non-JSON text closing the socket (1000), version refusals that leave the socket open, and
// max_payload not enforced: an oversized message is answered, and an answer over
// max_buffered_bytes evicts the client with 1013 slow_consumer.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';

const fixtures = join(import.meta.dirname, '../fixtures/conformance/praisonai-gateway');

/** `features` and `policy` exactly as the recorded hello_ok had them. */
function recordedHelloOk(): { features: unknown; policy: Record<string, unknown> } {
  const recording = JSON.parse(readFileSync(join(fixtures, 'hello_ok_basic.json'), 'utf8')) as { transcript: Array<{ frame?: Record<string, unknown> }> };
  const helloOk = recording.transcript.find((e) => e.frame?.['type'] === 'hello_ok')?.frame;
  if (!helloOk) throw new Error('hello_ok_basic.json has no hello_ok');
  return { features: helloOk['features'], policy: helloOk['policy'] as Record<string, unknown> };
}

interface StoredEvent {
  readonly seq: number;
  readonly frame: Record<string, unknown>;
  readonly eventId: string;
}

interface Session {
  readonly id: string;
  readonly agentId: string;
  events: StoredEvent[];
  head: number;
  /** The socket the session is on, if any: its events go out there. */
  socket?: WebSocket | undefined;
}

export interface FakePraisonAI {
  readonly url: string;
  readonly port: number;
  /**
   * Answer `count` turns in every session, as another client of the same session would cause:
   * each adds a `response` event, sent live where the session has a socket, persisted either way.
   */
  publish(count: number): void;
  close(): Promise<void>;
}

export interface FakePraisonAIOptions {
  readonly token: string;
  /** The recordings used 1000 and 30000 ms. */
  readonly heartbeatMs: number;
  /** Events persisted per session (the recording kept 100). */
  readonly persisted?: number;
}

const SERVER_MIN = 1;
const SERVER_MAX = 1;

/** Start the fake on 127.0.0.1, port 0, serving agents `echo` and `stream`. */
export async function startFakePraisonAI(options: FakePraisonAIOptions): Promise<FakePraisonAI> {
  const { features, policy } = recordedHelloOk();
  const persisted = options.persisted ?? 100;
  const sessions = new Map<string, Session>();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // transport_variants: any other path is refused with HTTP 403.
    verifyClient: (info, done) => done(new URL(info.req.url ?? '/', 'http://x').pathname === '/ws', 403),
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));

  const record = (current: Session, frame: Record<string, unknown>): void => {
    current.head += 1;
    const numbered = { ...frame, session_id: current.id, cursor: current.head, seq: current.head };
    current.events.push({ seq: current.head, frame: numbered, eventId: randomUUID() });
    if (current.events.length > persisted) current.events.shift();
    // big_payload: an answer over max_buffered_bytes evicts the client (1013) instead of going out.
    const text = JSON.stringify(numbered);
    if (text.length > Number(policy['max_buffered_bytes'])) current.socket?.close(1013, 'slow_consumer');
    else current.socket?.send(text);
  };

  wss.on('connection', (ws: WebSocket, request) => {
    const send = (frame: object): void => ws.send(JSON.stringify(frame));
    const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token');
    if (token !== options.token) {
      // auth_missing_token / auth_bad_token: the upgrade completes, then a refusal and 4003.
      send({ type: 'hello_error', code: 'auth_required', message: 'Authentication required', next_step: 'reauthenticate', next: 'reauthenticate' });
      ws.close(4003, 'Authentication required');
      return;
    }
    let session: Session | undefined;
    let lastHeard = Date.now();
    const heartbeat = setInterval(() => {
      // liveness_reap: silence past twice heartbeat_ms closes 4002.
      if (Date.now() - lastHeard > options.heartbeatMs * 2) ws.close(4002, 'liveness_timeout');
      else send({ type: 'ping' });
    }, options.heartbeatMs);
    ws.on('close', () => {
      clearInterval(heartbeat);
      if (session?.socket === ws) session.socket = undefined;
    });

    const replay = (current: Session, since: number, withSeq: boolean): void => {
      for (const event of current.events.filter((e) => e.seq > since)) {
        const payload = { type: event.frame['type'], data: event.frame, event_id: event.eventId, timestamp: Date.now() / 1000, source: 'gateway', sequence: event.seq };
        // resume_hello: replays after hello carry only event.sequence; join_legacy adds seq.
        send(withSeq ? { type: 'replay', event: payload, seq: event.seq } : { type: 'replay', event: payload });
      }
    };

    const onHello = (frame: Record<string, unknown>): void => {
      const nested = (frame['protocol'] ?? {}) as Record<string, unknown>;
      const min = frame['protocol_min'] ?? nested['min'] ?? 1;
      const max = frame['protocol_max'] ?? nested['max'] ?? min;
      // hello_min_gt_max: non-integer versions make the server drop the socket with 1000.
      if (typeof min !== 'number' || typeof max !== 'number') return ws.close(1000);
      if (max < SERVER_MIN) {
        return send({ type: 'hello_error', code: 'protocol_unsupported', message: `Protocol version ${max} is too old, minimum required is ${SERVER_MIN}`, next_step: 'upgrade_client', next: 'upgrade_client' });
      }
      if (min > SERVER_MAX) {
        return send({ type: 'hello_error', code: 'protocol_unsupported', message: `Protocol version ${min} is too new, server supports up to ${SERVER_MAX}`, next_step: 'downgrade_client', next: 'use_older_client' });
      }
      const agentId = String(frame['agent_id']);
      if (agentId !== 'echo' && agentId !== 'stream') {
        return send({ type: 'hello_error', code: 'agent_not_found', message: `Agent not found: ${agentId}`, next_step: 'do_not_retry', next: 'check_agent_id' });
      }
      const requested = typeof frame['session_id'] === 'string' ? frame['session_id'] : undefined;
      const known = requested === undefined ? undefined : sessions.get(requested);
      if (known && known.agentId !== agentId) {
        return send({ type: 'hello_error', code: 'auth_unauthorized', message: 'Session does not belong to the requested agent', next_step: 'reauthenticate', next: 'start_new_session' });
      }
      // hello_unknown_session: an unknown id is adopted verbatim as a new session.
      session = known ?? { id: requested ?? randomUUID(), agentId, events: [], head: 0 };
      session.socket = ws;
      sessions.set(session.id, session);
      send({ type: 'hello_ok', protocol: Math.min(max, SERVER_MAX), features, policy: { ...policy, heartbeat_ms: options.heartbeatMs }, session_id: session.id, resumed: known !== undefined, cursor: session.head });
      // join_resync_snapshot: a hello resume never signals a gap; it replays whatever is left.
      if (known && typeof frame['since'] === 'number') replay(known, frame['since'], false);
    };

    const onJoin = (frame: Record<string, unknown>): void => {
      const min = frame['min_version'] ?? 1;
      const max = frame['max_version'] ?? min;
      if (typeof min !== 'number' || typeof max !== 'number') {
        return send({ type: 'error', code: 'invalid_protocol_hello', message: 'Invalid protocol version fields. Expected integer min_version/max_version.' });
      }
      if (min > SERVER_MAX || max < SERVER_MIN) {
        return send({ type: 'error', code: 'version_unsupported', message: `Protocol version mismatch. Server supports ${SERVER_MIN}-${SERVER_MAX}, client supports ${min}-${max}`, server_min_version: SERVER_MIN, server_max_version: SERVER_MAX });
      }
      const agentId = String(frame['agent_id']);
      session = { id: randomUUID(), agentId, events: [], head: 0, socket: ws };
      sessions.set(session.id, session);
      send({ type: 'joined', session_id: session.id, agent_id: agentId, resumed: false, cursor: 0, oldest_cursor: 0, resync_required: false, sequence: 0, protocol_version: 1, server_min_version: SERVER_MIN, server_max_version: SERVER_MAX, presence: [], health: { status: 'healthy', uptime: 1.5, agents: 2, sessions: sessions.size, clients: 1 } });
    };

    ws.on('message', (data, isBinary) => {
      lastHeard = Date.now();
      let frame: Record<string, unknown>;
      try {
        // Binary frames were not recorded; Python's json.loads accepts bytes, so they parse like text.
        void isBinary;
        frame = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        // unknown_and_garbage: non-JSON text closes the socket with 1000.
        ws.close(1000);
        return;
      }
      const type = frame['type'];
      if (type === 'ping') return send({ type: 'pong' });
      if (type === 'pong') return;
      if (type === 'hello') return onHello(frame);
      if (type === 'join') return onJoin(frame);
      if (!session) return send({ type: 'error', message: 'Not joined to any session' });
      if (type === 'leave') return send({ type: 'left', session_id: session.id });
      if (type === 'message') {
        // message_roundtrip: accepted then final, each flat and numbered. max_payload is not
        // enforced (big_payload): an oversized message is accepted, and its echo evicts the client.
        const content = typeof frame['content'] === 'string' ? frame['content'] : JSON.stringify(frame['content']);
        record(session, { type: 'response', status: 'accepted', content: 'Started processing.' });
        record(session, { type: 'response', status: 'final', content: `echo: ${content}`, outcome: { status: 'ok' } });
      }
      // Anything else (unknown_and_garbage: "frobnicate") is silently ignored.
    });
  });

  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    publish(count) {
      for (const current of sessions.values()) {
        for (let n = 0; n < count; n++) record(current, { type: 'response', status: 'final', content: `turn ${current.head + 1}`, outcome: { status: 'ok' } });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        wss.clients.forEach((client) => client.terminate());
        wss.close(() => resolve());
      }),
  };
}
