// One gateway node of a test fleet, as a real child process: a gateway on a Redis fleet, its port
// on stdout as `listening <port>`, every applied client message as `applied <c>:<k> <id>`. SIGTERM
// drains and exits 0 (a rolling restart); SIGKILL is a crash. Arguments: <redis urls> <node id>;
// env REPLAY_WINDOW, FLEET_REPORT_MS, DURABILITY (async | replicated) and MESSAGE_LEASE_MS.
import { createGateway, createRedisFleet, type EventLog } from '../../src/server/index.js';

const [urls = 'redis://127.0.0.1:6379', nodeId = 'n'] = process.argv.slice(2);
const list = urls.split(',');
const durability = process.env['DURABILITY'] === 'replicated' ? 'replicated' : 'async';
const { log, fleet } = createRedisFleet({ url: list.length === 1 ? urls : list, secret: 'fleet-test-secret-0123456789', replayWindow: Number(process.env['REPLAY_WINDOW'] ?? 200), durability });
const fleetReportMs = Number(process.env['FLEET_REPORT_MS'] ?? 2000);
// `claiming <id>` once a claim is on its way to Redis (node-redis writes on the next macrotask),
// so a test can kill the node between the claim and the handler.
const traced: EventLog = {
  ...log,
  claimMessage(sessionId, messageId, holder) {
    const claim = log.claimMessage(sessionId, messageId, holder);
    setImmediate(() => process.stdout.write(`claiming ${messageId}\n`));
    return claim;
  },
  // `recorded <id>`: the node got past the window in which a crash re-applies a message.
  async recordMessageApplied(sessionId, messageId, owner) {
    const held = await log.recordMessageApplied(sessionId, messageId, owner);
    process.stdout.write(`recorded ${messageId}\n`);
    return held;
  },
};
const lease = process.env['MESSAGE_LEASE_MS'];
const gateway = await createGateway({
  log: traced,
  fleet,
  nodeId,
  logger: false,
  rateLimit: false,
  heartbeatMs: 2000,
  drainSpreadMs: 200,
  fleetReportMs,
  ...(lease === undefined ? {} : { messageLeaseMs: Number(lease) }),
});
gateway.onMessage((message) => {
  const content = message.content as { c?: number; k?: number } | undefined;
  process.stdout.write(`applied ${String(content?.c)}:${String(content?.k)} ${message.id ?? '-'}\n`);
});
process.stdout.write(`listening ${gateway.port}\n`);
process.once('SIGTERM', () => {
  void gateway
    .drain({ spreadMs: 200 })
    .then(() => gateway.close())
    .then(() => process.exit(0));
});
