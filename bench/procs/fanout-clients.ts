// Fan-out client process: `count` thin `ws` clients (the server is what we measure), each counting
// event deliveries (`event` frames and `batch` members) until it has `m`; then one `done` with the
// time the last of them got there. With `latency`, each client also stamps every event's arrival
// (wallNow(), by seq), and `done` carries the first client's stamps.
//   argv: <gateway|ws|ws-batch> <url> <count> <m> [latency]
import WebSocket from 'ws';
import { serve, tell, wallNow } from '../lib/proc.js';

const [mode = 'gateway', url = '', countText = '1', mText = '1', measure = ''] = process.argv.slice(2);
const count = Number(countText);
const m = Number(mText);
const stamping = measure === 'latency';
const HELLO = JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 2, capabilities: ['batch'], session_id: 'fanout-session' });
let ready = 0;
let finished = 0;
/** Arrival time of each seq at the first client (index seq - 1), when stamping. */
const arrivals: number[] = [];

interface Frame {
  type?: string;
  seq?: number;
  frames?: Array<{ type?: string; seq?: number }>;
}

for (let i = 0; i < count; i++) {
  const ws = new WebSocket(url);
  let got = 0;
  const stamp = stamping && i === 0 ? (seq: number | undefined, at: number) => void (seq !== undefined && (arrivals[seq - 1] = at)) : undefined;
  ws.on('open', () => {
    if (mode === 'gateway') ws.send(HELLO);
    else if (++ready === count) tell({ type: 'joined' });
  });
  ws.on('message', (data: Buffer) => {
    const at = stamp ? wallNow() : 0;
    const frame = JSON.parse(data.toString()) as Frame;
    if (frame.type === 'event') {
      got++;
      stamp?.(frame.seq, at);
    } else if (frame.type === 'batch') {
      for (const f of frame.frames ?? []) {
        if (f.type !== 'event') continue;
        got++;
        stamp?.(f.seq, at);
      }
    } else {
      if (frame.type === 'caught_up' && ++ready === count) tell({ type: 'joined' });
      return;
    }
    if (got === m && ++finished === count) tell({ type: 'done', at: wallNow(), arrivals });
  });
}
serve(() => undefined);
tell({ type: 'ready' });
