// Fan-out server process: the reference gateway (all clients join one session; the app publishes
// M events) or a bare `ws` server broadcasting the same event frames, one per event per socket
// (`ws`) or grouped 256 to a `batch` frame as the gateway does under v2 (`ws-batch`).
//   argv: <gateway|ws|ws-batch>
// Commands: `start` (M events, each published once the one before resolved: throughput), `cpu`
// (the CPU time this process spent since `start`) and `latency`: a client of its own in this
// process (one clock; the clients of other processes are idle then) joins, and M events go one
// at a time, `gapMs` apart, each timed from just before its publish to its arrival.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import WebSocketClient, { WebSocketServer, type WebSocket } from 'ws';
import { createGateway } from '../../src/server/index.js';
import { serve, sleep, tell, wallNow } from '../lib/proc.js';

const mode = process.argv[2] === 'ws' || process.argv[2] === 'ws-batch' ? process.argv[2] : 'gateway';
const BATCH = 256;
/** The session every fan-out client joins (fanout-clients.ts sends it in `hello`). */
const FANOUT_SESSION = 'fanout-session';
let cpuAtStart = process.cpuUsage();

/** Answer `cpu` with the microseconds of CPU (user + system) spent since `start`. */
function cpuSinceStart(): number {
  const used = process.cpuUsage(cpuAtStart);
  return used.user + used.system;
}

const HELLO = JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 2, capabilities: ['batch'], session_id: FANOUT_SESSION });

/**
 * Latency of `m` events published one at a time, `gapMs` apart, to a client in this process:
 * ms from just before each publish to its arrival. `publishOne` publishes event `seq`.
 */
async function latencies(port: number, m: number, gapMs: number, publishOne: (seq: number) => unknown): Promise<number[]> {
  const ws = new WebSocketClient(`ws://127.0.0.1:${port}`);
  let arrived: (seq: number) => void = () => undefined;
  const joined = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => (mode === 'gateway' ? ws.send(HELLO) : resolve()));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type?: string; seq?: number; frames?: Array<{ seq?: number }> };
      if (frame.type === 'caught_up') resolve();
      else if (frame.type === 'event') arrived(frame.seq ?? -1);
      else if (frame.type === 'batch') for (const f of frame.frames ?? []) arrived(f.seq ?? -1);
    });
  });
  await joined;
  const out: number[] = [];
  try {
    for (let seq = 1; seq <= m; seq++) {
      const delivered = new Promise<void>((resolve) => (arrived = (got) => void (got === seq && resolve())));
      const at = performance.now();
      await publishOne(seq);
      await delivered;
      out.push(performance.now() - at);
      await sleep(gapMs);
    }
  } finally {
    ws.terminate();
  }
  return out;
}

if (mode === 'gateway') {
  // No rate limit or per-address caps (one address) and no slow-consumer eviction: the run
  // publishes faster than clients read by design, and we measure delivery, not the eviction policy.
  const gateway = await createGateway({ port: 0, logger: false, rateLimit: false, maxConnectionsPerAddress: 1_000_000, maxSessionsPerAddress: 1_000_000, maxBufferedBytes: 1 << 30, replayWindow: 1000 });
  const publish = (): Promise<number> => gateway.publish(FANOUT_SESSION, { type: 'token', data: { t: 'hi' } });
  serve(async (msg) => {
    const m = Number(msg['m']);
    if (msg.type === 'latency') return tell({ type: 'latency', ms: await latencies(gateway.port, m, Number(msg['gapMs']), publish) });
    if (msg.type === 'cpu') return tell({ type: 'cpu', us: cpuSinceStart() });
    if (msg.type !== 'start') return;
    cpuAtStart = process.cpuUsage();
    tell({ type: 'started', at: wallNow() });
    // Each publish as soon as the one before resolved, as an app streaming its events does.
    for (let i = 0; i < m; i++) await publish();
    tell({ type: 'published', at: wallNow() });
  });
  tell({ type: 'ready', port: gateway.port });
} else {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', () => undefined);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  // The same frames the gateway sends for live events, each built once and sent to every socket.
  const event = (seq: number): object => ({ type: 'event', seq, event: { type: 'token', data: { t: 'hi' }, event_id: randomUUID(), timestamp: Date.now() / 1000 } });
  serve(async (msg) => {
    const m = Number(msg['m']);
    if (msg.type === 'latency') {
      const port = (http.address() as { port: number }).port;
      const ms = await latencies(port, m, Number(msg['gapMs']), (seq) => {
        const frame = JSON.stringify(event(seq));
        for (const ws of sockets) ws.send(frame);
      });
      return tell({ type: 'latency', ms });
    }
    if (msg.type === 'cpu') return tell({ type: 'cpu', us: cpuSinceStart() });
    if (msg.type !== 'start') return;
    cpuAtStart = process.cpuUsage();
    tell({ type: 'started', at: wallNow() });
    const step = mode === 'ws-batch' ? BATCH : 1;
    for (let first = 1; first <= m; first += step) {
      let frame: string;
      if (step === 1) frame = JSON.stringify(event(first));
      else {
        const members: object[] = [];
        for (let seq = first; seq < first + step && seq <= m; seq++) members.push(event(seq));
        frame = JSON.stringify({ type: 'batch', frames: members });
      }
      for (const ws of sockets) ws.send(frame);
    }
    tell({ type: 'published', at: wallNow() });
  });
  const address = http.address();
  tell({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
}
