// Reconnect client process: `k` clients of one library, each with that library's defaults, on
// the same transport (`ws`, wrapped only to count socket creations). After `arm`, it records for
// each client the sockets created until it is back, and the wall time it was back (`joined`
// for Lifeline, `connect` for socket.io-client, `open` for the two reconnecting sockets).
//   argv: <kind> <url> <k> [lifeline reconnect options as JSON]
import { io } from 'socket.io-client';
import PartySocket from 'partysocket/ws';
import { createRequire } from 'node:module';
import type RwsModule from 'reconnecting-websocket';
import { createGatewayClient, type ReconnectOptions, type WebSocketClass } from '../../src/client/index.js';
import { arm, countingWebSocket, newTracked, type Tracked } from '../lib/counting-ws.js';
import { serve, tell, wallNow } from '../lib/proc.js';

// reconnecting-websocket is CommonJS (`module.exports = Class`) with an ESM-style `export default`
// in its types: under NodeNext, TS sees the class at `.default`, while Node hands us the class.
type RwsClass = typeof RwsModule.default;

/**
 * A fresh copy of reconnecting-websocket for each client. Its default minimum delay
 * (`1000 + Math.random() * 4000`) is drawn once per module instance, i.e. once per browser tab;
 * sharing one copy would give all our clients the same draw, where real users each have their own.
 */
function freshRws(): RwsClass {
  const require = createRequire(import.meta.url);
  const path = require.resolve('reconnecting-websocket');
  delete require.cache[path];
  const loaded: unknown = require(path);
  if (typeof loaded !== 'function') throw new Error('reconnecting-websocket did not export a class');
  return loaded as RwsClass;
}

const [kind = 'lifeline', url = '', kText = '1', optionsText] = process.argv.slice(2);
const k = Number(kText);
const tracked: Tracked[] = [];

function up(t: Tracked): void {
  t.up = true;
  if (t.armed && Number.isNaN(t.backAt)) t.backAt = wallNow();
  if (tracked.length === k && tracked.every((x) => x.up) && tracked.every((x) => !x.armed || !Number.isNaN(x.backAt))) report();
}

function down(t: Tracked): void {
  t.up = false;
}

let reported = true;
function report(): void {
  if (reported) return;
  reported = true;
  tell({ type: 'rejoined', backAt: tracked.map((t) => t.backAt), attempts: tracked.map((t) => t.attempts) });
}

function lifelineReconnect(): ReconnectOptions | undefined {
  if (optionsText === undefined || optionsText === '') return undefined;
  const parsed: unknown = JSON.parse(optionsText);
  return typeof parsed === 'object' && parsed !== null ? (parsed as ReconnectOptions) : undefined;
}

function start(t: Tracked): void {
  const WS = countingWebSocket(t);
  switch (kind) {
    case 'lifeline': {
      const reconnect = lifelineReconnect();
      const client = createGatewayClient({
        url,
        agentId: 'bench',
        WebSocket: WS as unknown as WebSocketClass,
        ...(reconnect === undefined ? {} : { reconnect }),
      });
      client.onState((s) => (s === 'joined' ? up(t) : down(t)));
      void client.connect().catch(() => undefined);
      return;
    }
    case 'socket.io-client': {
      // forceNew: io() shares one Manager per URL otherwise, and we want k independent clients.
      const socket = io(url, { forceNew: true });
      socket.on('connect', () => up(t));
      socket.on('disconnect', () => down(t));
      // socket.io creates its transports itself; count its own reconnect attempts instead.
      socket.io.on('reconnect_attempt', () => {
        if (t.armed) t.attempts++;
      });
      return;
    }
    case 'partysocket': {
      const socket = new PartySocket(url, undefined, { WebSocket: WS });
      socket.addEventListener('open', () => up(t));
      socket.addEventListener('close', () => down(t));
      return;
    }
    case 'reconnecting-websocket': {
      const ReconnectingWebSocket = freshRws();
      const socket = new ReconnectingWebSocket(url, undefined, { WebSocket: WS });
      socket.addEventListener('open', () => up(t));
      socket.addEventListener('close', () => down(t));
      return;
    }
    default:
      throw new Error(`unknown client kind ${kind}`);
  }
}

serve((msg) => {
  if (msg.type === 'arm') {
    for (const t of tracked) arm(t);
    reported = false;
    tell({ type: 'armed' });
  } else if (msg.type === 'report') {
    reported = false;
    report();
  }
});

for (let i = 0; i < k; i++) {
  const t = newTracked();
  tracked.push(t);
  start(t);
}
tell({ type: 'ready' });
const poll = setInterval(() => {
  if (tracked.every((t) => t.up)) {
    clearInterval(poll);
    tell({ type: 'joined' });
  }
}, 20);
