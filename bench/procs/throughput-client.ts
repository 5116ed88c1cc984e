// Throughput client process. On `run` it connects one client of the given kind to the blaster
// and times the delivery of N events: from the first event to the Nth (handshake excluded).
//   ws        raw `ws` + JSON.parse per frame (batch members counted after one parse)
//   lifeline       createGatewayClient: structural validation, dedupe, gap tracking, fan-out to onEvent
//   lifeline-http  the same client over its HTTP transport (SSE down read with fetch, POST up)
import WebSocket from 'ws';
import { createGatewayClient } from '../../src/client/index.js';
import { serve, tell, wallNow, type Msg } from '../lib/proc.js';

interface RunResult {
  readonly eps: number;
  /** Events per second of this process's CPU time (user + system) over the same span. */
  readonly cpuEps: number;
  readonly received: number;
  readonly live: boolean;
}

/** CPU time of this process so far, in ms (user + system, GC threads included). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const HELLO = JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 2 });

function runRaw(url: string, n: number, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let count = 0;
    let first = 0;
    let firstCpu = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`raw ws: ${count}/${n} events after ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('open', () => ws.send(HELLO));
    ws.on('message', (data: Buffer) => {
      // What a hand-written client does at minimum: parse, look at the type, take the event.
      const frame = JSON.parse(data.toString()) as { type: string; seq?: number; frames?: Array<{ seq?: number }> };
      if (frame.type === 'event' || frame.type === 'replay') {
        if (typeof frame.seq === 'number') count++;
      } else if (frame.type === 'batch') {
        for (const member of frame.frames ?? []) if (typeof member.seq === 'number') count++;
      } else return;
      if (first === 0) {
        first = wallNow();
        firstCpu = cpuMs();
      }
      if (count >= n) {
        const elapsed = wallNow() - first;
        const cpu = cpuMs() - firstCpu;
        clearTimeout(timer);
        ws.terminate();
        resolve({ eps: ((n - 1) * 1000) / elapsed, cpuEps: ((n - 1) * 1000) / cpu, received: count, live: true });
      }
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function runLifeline(url: string, n: number, timeoutMs: number, transport: 'websocket' | 'http'): Promise<RunResult> {
  // The WebSocket client keeps the default transports (it opens over WebSocket at once).
  const client = createGatewayClient({ url, agentId: 'bench', reconnect: false, ...(transport === 'http' ? { transports: ['http'] as const } : {}) });
  let count = 0;
  let first = 0;
  let firstCpu = 0;
  let cpu = 0;
  let live = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  client.onEvent(() => {
    count++;
    if (count === 1) {
      first = wallNow();
      firstCpu = cpuMs();
      live = client.chart.getSnapshot().matches({ joined: 'live' });
    }
    if (count === n) {
      cpu = cpuMs() - firstCpu;
      resolveDone();
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lifeline: ${count}/${n} events after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await client.connect();
    await Promise.race([done, timeout]);
    const elapsed = wallNow() - first;
    return { eps: ((n - 1) * 1000) / elapsed, cpuEps: ((n - 1) * 1000) / cpu, received: count, live };
  } finally {
    clearTimeout(timer);
    await client.disconnect();
  }
}

serve(async (msg: Msg) => {
  if (msg.type !== 'run') return;
  const url = String(msg['url']);
  const n = Number(msg['n']);
  const timeoutMs = Number(msg['timeoutMs'] ?? 60_000);
  const kind = msg['kind'];
  const result = kind === 'lifeline' || kind === 'lifeline-http' ? await runLifeline(url, n, timeoutMs, kind === 'lifeline' ? 'websocket' : 'http') : await runRaw(url, n, timeoutMs);
  tell({ type: 'result', ...result });
});
tell({ type: 'ready' });
