// Gateway process for the `http` bench: the reference gateway (with its HTTP binding, as
// `createGateway` serves it) whose app publishes a burst of `m` events to one session on `start`,
// in chunks that stay under `maxPendingPublishes`, as fast as the event store takes them.
//   argv: none; `start` names the session and the count.
import { createGateway } from '../../src/server/index.js';
import { serve, tell, wallNow } from '../lib/proc.js';

/** Publishes in flight at once: well under the default maxPendingPublishes (10,000). */
const CHUNK = 1000;

// No rate limit or per-address caps (every bench client is 127.0.0.1) and no slow-consumer
// eviction: the burst is published faster than a client reads, and delivery is what is measured.
const gateway = await createGateway({ port: 0, logger: false, rateLimit: false, maxConnectionsPerAddress: 1_000_000, maxSessionsPerAddress: 1_000_000, maxBufferedBytes: 1 << 30, replayWindow: 1000 });
serve(async (msg) => {
  if (msg.type !== 'start') return;
  const m = Number(msg['m']);
  const session = String(msg['session']);
  tell({ type: 'started', at: wallNow() });
  for (let first = 0; first < m; first += CHUNK) {
    const pending: Array<Promise<number>> = [];
    for (let i = first; i < Math.min(m, first + CHUNK); i++) pending.push(gateway.publish(session, { type: 'token', data: { t: 'hi' } }));
    await Promise.all(pending);
  }
  tell({ type: 'published', at: wallNow() });
});
tell({ type: 'ready', port: gateway.port });
