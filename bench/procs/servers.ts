// Server process for the reconnect, storm and memory benches: the reference Lifeline gateway, a
// socket.io server and a bare `ws` server, each on its own port. Started with ports it stays idle
// until `listen`, so a replacement can be warm before the outage and listen at an exact moment.
// Like a deploy behind a proxy would, the gateway has no per-address rate limit or caps: every
// bench client shares 127.0.0.1.
//   argv: <gateway-port|0> <socketio-port|0> <ws-port|0> <listen-now: 1|0>
import { createServer, type Server as HttpServer } from 'node:http';
import { pino } from 'pino';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocketServer } from 'ws';
import { createGateway, type Gateway } from '../../src/server/index.js';
import { serve, tell, wallNow } from '../lib/proc.js';

const [gatewayPort = 0, socketIoPort = 0, wsPort = 0] = process.argv.slice(2, 5).map(Number);
const listenNow = process.argv[5] === '1';

let gateway: Gateway | undefined;
// Gateway-side accept times, for the storm's peak. The gateway offers no accept hook, but it logs
// every accepted socket ("connection opened"); a logger whose sink notes the time gives exactly
// that moment, in this process, at the cost of one JSON log line per connection event.
let accepts: number[] = [];
const acceptLogger = pino(
  { level: 'info' },
  {
    write(line: string) {
      if (line.includes('"connection opened"')) accepts.push(wallNow());
    },
  },
);
const others: HttpServer[] = [];
const PER_ADDRESS_UNLIMITED = { maxConnectionsPerAddress: 1_000_000, maxSessionsPerAddress: 1_000_000, maxSessions: 1_000_000 } as const;

function listenHttp(server: HttpServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

async function listenAll(): Promise<Record<string, number>> {
    gateway = await createGateway({ host: '127.0.0.1', port: gatewayPort, rateLimit: false, ...PER_ADDRESS_UNLIMITED, logger: acceptLogger, replayWindow: 1000 });
  const gatewayAt = wallNow();
  const sioHttp = createServer();
  new SocketIoServer(sioHttp, { serveClient: false });
  const sioPort = await listenHttp(sioHttp, socketIoPort);
  const sioAt = wallNow();
  const wsHttp = createServer();
  const wss = new WebSocketServer({ server: wsHttp });
  wss.on('connection', (socket) => socket.on('message', () => undefined));
  const bareWsPort = await listenHttp(wsHttp, wsPort);
  const wsAt = wallNow();
  others.push(sioHttp, wsHttp);
  return { gatewayPort: gateway.port, socketIoPort: sioPort, wsPort: bareWsPort, gatewayAt, sioAt, wsAt };
}

serve(async (msg) => {
  switch (msg.type) {
    case 'listen':
      tell({ type: 'listening', ...(await listenAll()) });
      return;
    case 'drain': {
      // Spread hints over `spreadMs`; clients come back to this same listener.
      tell({ type: 'draining', at: wallNow() });
      await gateway?.drain({ spreadMs: Number(msg['spreadMs'] ?? 5000) });
      tell({ type: 'drained', at: wallNow() });
      return;
    }
    case 'accepts':
      tell({ type: 'accepts', at: accepts });
      accepts = [];
      return;
    case 'stats':
      tell({ type: 'stats', joined: gateway?.stats().joined ?? 0, accepted: gateway?.stats().counters.accepted ?? 0 });
      return;
    default:
      return;
  }
});

if (listenNow) tell({ type: 'ready', ...(await listenAll()) });
else tell({ type: 'ready' });
