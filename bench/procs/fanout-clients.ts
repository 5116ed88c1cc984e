// Fan-out client process: `count` thin `ws` clients (the server is what we measure), each counting
// event deliveries (`event` frames and `batch` members) until it has `m`; then one `done` with the
// time the last of them got there.
//   argv: <gateway|ws|ws-batch> <url> <count> <m>
import WebSocket from 'ws';
import { serve, tell, wallNow } from '../lib/proc.js';

const [mode = 'gateway', url = '', countText = '1', mText = '1'] = process.argv.slice(2);
const count = Number(countText);
const m = Number(mText);
const HELLO = JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 2, capabilities: ['batch'], session_id: 'fanout-session' });
let ready = 0;
let finished = 0;

interface Frame {
  type?: string;
  frames?: Array<{ type?: string }>;
}

for (let i = 0; i < count; i++) {
  const ws = new WebSocket(url);
  let got = 0;
  ws.on('open', () => {
    if (mode === 'gateway') ws.send(HELLO);
    else if (++ready === count) tell({ type: 'joined' });
  });
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Frame;
    if (frame.type === 'event') {
      got++;
    } else if (frame.type === 'batch') {
      for (const f of frame.frames ?? []) if (f.type === 'event') got++;
    } else {
      if (frame.type === 'caught_up' && ++ready === count) tell({ type: 'joined' });
      return;
    }
    if (got === m && ++finished === count) tell({ type: 'done', at: wallNow() });
  });
}
serve(() => undefined);
tell({ type: 'ready' });
