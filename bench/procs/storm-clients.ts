// Storm client process: `count` Lifeline clients against one gateway, with the default reconnect
// policy or the one given. After `arm` it reports, per client, the time it was joined again and
// the sockets it created to get there.
//   argv: <url> <count> [reconnect options as JSON]
import { createGatewayClient, type ReconnectOptions, type WebSocketClass } from '../../src/client/index.js';
import { arm, countingWebSocket, newTracked, type Tracked } from '../lib/counting-ws.js';
import { serve, tell, wallNow } from '../lib/proc.js';

const [url = '', countText = '1', optionsText = ''] = process.argv.slice(2);
const count = Number(countText);
const reconnect: ReconnectOptions | undefined = optionsText === '' ? undefined : (JSON.parse(optionsText) as ReconnectOptions);
const tracked: Tracked[] = [];
let upCount = 0;
let backCount = 0;
let armed = false;

function report(): void {
  tell({ type: 'back', backAt: tracked.map((t) => t.backAt), attempts: tracked.map((t) => t.attempts), attemptAt: tracked.flatMap((t) => t.attemptAt) });
}

for (let i = 0; i < count; i++) {
  const t = newTracked();
  tracked.push(t);
  const client = createGatewayClient({
    url,
    agentId: 'bench',
    WebSocket: countingWebSocket(t) as unknown as WebSocketClass,
    ...(reconnect === undefined ? {} : { reconnect }),
  });
  client.onState((state) => {
    const isUp = state === 'joined';
    if (isUp === t.up) return;
    t.up = isUp;
    upCount += isUp ? 1 : -1;
    if (!isUp) return;
    if (upCount === count && !armed) tell({ type: 'joined' });
    if (armed && Number.isNaN(t.backAt)) {
      t.backAt = wallNow();
      if (++backCount === count) report();
    }
  });
  void client.connect().catch(() => undefined);
}

serve((msg) => {
  if (msg.type === 'arm') {
    for (const t of tracked) arm(t);
    armed = true;
    backCount = 0;
    tell({ type: 'armed' });
  } else if (msg.type === 'report') {
    report();
  }
});
tell({ type: 'ready' });
