// Memory client process (run with --expose-gc): `count` idle joined clients of one kind, and the
// RSS and heap they added, measured after forced GCs before and after.
//   lifeline  createGatewayClient, joined and idle
//   ws        a bare `ws` socket that sends the same `hello` and JSON.parses what comes back
//   chart     the client's chart alone, no socket: an XState actor of `gatewayMachine` driven to
//             `joined.live` with its inert socket actor, as a joined client's chart
//             is in Node (no browser signals). What any client built on this chart pays at least.
//   argv: <kind> <url> <count>
import WebSocket from 'ws';
import { createActor, type AnyActorRef } from 'xstate';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { createGatewayClient, type GatewayClient } from '../../src/client/index.js';
import { sleep, tell, waitUntil } from '../lib/proc.js';

const [kind = 'ws', url = '', countText = '1'] = process.argv.slice(2);
const count = Number(countText);
const WARMUP = 10;
const HELLO = JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 2, capabilities: ['ack', 'batch', 'epoch'] });

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  collect();
  collect();
}

function usage(): { rss: number; heap: number } {
  const m = process.memoryUsage();
  // Heap as V8 sees it plus off-heap buffers the sockets hold (ws read/write buffers).
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

// Keep every client reachable, so GC measures what an app holding them pays.
const held: Array<GatewayClient | WebSocket | AnyActorRef> = [];
let joined = 0;

// As client-machine.ts provides it where the runtime has no browser signals.
const nodeChart = gatewayMachine.provide({ actions: { watchBrowserSignals: () => undefined } });

function open(): void {
  if (kind === 'chart') {
    const actor = createActor(nodeChart, { input: {} }).start();
    actor.send({ type: 'user.connect' });
    actor.send({ type: 'socket.opened' });
    actor.send({ type: 'hello.accepted', protocol: 2, heartbeatMs: 15_000 });
    actor.send({ type: 'caught_up' });
    if (!actor.getSnapshot().matches({ joined: 'live' })) throw new Error('chart: not in joined.live');
    held.push(actor);
    joined++;
  } else if (kind === 'lifeline') {
    const client = createGatewayClient({ url, agentId: 'bench' });
    held.push(client);
    void client.connect().then(() => joined++, () => undefined);
  } else {
    const ws = new WebSocket(url);
    let seen = false;
    ws.on('open', () => ws.send(HELLO));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type?: string };
      if (!seen && frame.type === 'hello_ok') {
        seen = true;
        joined++;
      }
    });
    held.push(ws);
  }
}

/** Open `n` more clients and wait until all are joined. */
async function openMany(n: number): Promise<void> {
  const target = joined + n;
  for (let i = 0; i < n; i++) open();
  if (!(await waitUntil(() => joined === target, 60_000, 20))) throw new Error(`${kind}: only ${joined}/${target} joined`);
}

// Warm-up clients first: code compiled on first use and module-level caches are one-time costs,
// not per-client ones, so they are paid before the baseline is taken.
await openMany(WARMUP);
await sleep(200);
gc();
await sleep(100);
gc();
const before = usage();
await openMany(count);
// Let replay/caught_up and the first timers settle, then measure idle.
await sleep(500);
gc();
await sleep(100);
gc();
const after = usage();
tell({ type: 'ready', rssPerClient: (after.rss - before.rss) / count, heapPerClient: (after.heap - before.heap) / count, joined: joined - WARMUP });
process.on('disconnect', () => process.exit(0));
