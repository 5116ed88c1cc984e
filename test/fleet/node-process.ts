// One gateway node of a test fleet, as a real child process: a gateway on a Redis log, its port
// on stdout as `listening <port>`, every applied client message as `applied <c>:<k>`. SIGTERM
// drains and exits 0 (a rolling restart); SIGKILL is a crash. Arguments: <redis urls> <node id>;
// env REPLAY_WINDOW, FLEET_REPORT_MS and DURABILITY (async | replicated).
import { createGateway, createRedisLog } from '../../src/server/index.js';

const [urls = 'redis://127.0.0.1:6379', nodeId = 'n'] = process.argv.slice(2);
const list = urls.split(',');
const durability = process.env['DURABILITY'] === 'replicated' ? 'replicated' : 'async';
const log = createRedisLog({ url: list.length === 1 ? urls : list, secret: 'fleet-test-secret-0123456789', replayWindow: Number(process.env['REPLAY_WINDOW'] ?? 200), durability });
const fleetReportMs = Number(process.env['FLEET_REPORT_MS'] ?? 2000);
const gateway = await createGateway({ log, nodeId, logger: false, rateLimit: false, heartbeatMs: 2000, drainSpreadMs: 200, fleetReportMs });
gateway.onMessage((message) => {
  const content = message.content as { c?: number; k?: number } | undefined;
  process.stdout.write(`applied ${String(content?.c)}:${String(content?.k)}\n`);
});
process.stdout.write(`listening ${gateway.port}\n`);
process.once('SIGTERM', () => {
  void gateway
    .drain({ spreadMs: 200 })
    .then(() => gateway.close())
    .then(() => process.exit(0));
});
