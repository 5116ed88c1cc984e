// `agent-lifeline gateway`: run the reference gateway with the demo agent until SIGINT/SIGTERM, then
// drain (clients get a spread reconnect hint) and close. The URL goes to stdout, logs to stderr.
import { env, stderr, stdout } from 'node:process';
import { parseRange } from '../protocol/versions.js';
import { attachDemoAgent, createGateway, createRedisFleet, DEMO_EVENT_TYPES, type GatewayDialect, type RedisFleet } from '../server/index.js';
import { DEMO_TICK_TYPE } from '../server/demo-agent.js';
import { redactRedisUrl } from '../server/redis/connection.js';
import { GATEWAY_DIALECTS } from '../server/dialects/choose.js';
import { withDefaultScheme } from './address.js';
import { packageDoc } from './package-docs.js';
import { defaultLogFormat, defaultLogLevel, durationOption, parseCommandLine, portOption, reportFailure, stderrLogger, UsageError, waitForSignal } from './cli-options.js';

const USAGE = `usage: agent-lifeline gateway [--port 8787] [--host 127.0.0.1] [--agents demo | --any-agent] [--tick 1s]
                        [--protocol 1..2] [--replay-window 1000] [--heartbeat-ms 15000] [--log-level info]
                        [--log-format human|json]
                        [--dialect auto|lifeline|praisonai]
                        [--trust-proxy 10.0.0.0/8,127.0.0.1] [--max-connections-per-address 1000]
                        [--max-sessions-per-address 1000] [--max-sessions-per-owner 100] [--max-sessions 100000]
                        [--websocket-only]
                        [--redis redis://127.0.0.1:6379 [--secret …] [--node-id n1] [--durability async|replicated]
                                                        [--redis-connect-timeout 30s]]

Runs the reference gateway. The demo agent answers each served agent id (--agents, comma-separated,
default "demo"); any other id is refused with agent_not_found. --any-agent accepts every id (only
"demo" answers). --tick publishes a "tick" event to every session of the served agents this often,
so events keep coming while a client is away.
--dialect auto (the default) answers PraisonAI clients (a hello whose capabilities list "streaming")
in PraisonAI's frames and every other client in Lifeline's; lifeline or praisonai fixes one for all.
--redis keeps every session's history in Redis Streams instead of this process, so several
gateway nodes on one Redis (or Redis Cluster: comma-separated root URLs) serve the same sessions
and a client resumes on any of them. A bare host:port means redis://; TLS is rediss://. --secret (or LIFELINE_SECRET; the same on every node, at
least 16 characters) keys the owner digests kept in Redis. --node-id names this node in /health.
--trust-proxy names the load balancers (addresses or CIDR ranges, comma-separated) whose
X-Forwarded-For header gives the client's address; the per-address limits then count users, not
the balancer. Never list an address clients can reach the gateway from directly.
--websocket-only turns off the HTTP binding (SSE down, POST up), which is served on the same port
by default for clients behind proxies that refuse the WebSocket upgrade.
--max-* raise or lower the per-address, per-token and total caps (see ${packageDoc('docs/reliability.md')}).
--durability replicated also WAITs for one replica per publish (see ${packageDoc('docs/scaling.md')}).
At start-up the gateway waits for Redis up to --redis-connect-timeout (30s), saying so at once,
then exits 2. Once running, a node that cannot reach Redis answers /health with 503 and refuses
joins and publishes with unavailable until Redis is back; it does not exit.
Logs go to stderr at --log-level (trace, debug, info, warn, error, fatal, silent; default info,
or LIFELINE_LOG_LEVEL), as lines for a person, or with --log-format json (or LIFELINE_LOG_FORMAT)
as JSON lines for a log collector.
`;

function dialectOption(text: string): GatewayDialect {
  const dialect = GATEWAY_DIALECTS.find((d) => d === text);
  if (dialect === undefined) throw new UsageError(`--dialect must be one of ${GATEWAY_DIALECTS.join(', ')}, got "${text}"`);
  return dialect;
}

function integer(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  return value;
}

function agentList(text: string | undefined, any: boolean): string[] | undefined {
  if (any && text !== undefined) throw new UsageError('--agents and --any-agent exclude each other: name the agents, or accept any');
  if (any) return undefined;
  const agents = (text ?? 'demo').split(',').map((a) => a.trim());
  if (agents.some((a) => a === '')) throw new UsageError(`--agents must be comma-separated agent ids, got "${text ?? ''}"`);
  return agents;
}

function proxyList(text: string): string[] {
  const entries = text.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new UsageError(`--trust-proxy must be comma-separated addresses or CIDR ranges, got "${text}"`);
  return entries;
}

/** `--redis` as URLs: comma-separated for a cluster, each `redis://`, `rediss://` or a bare `host:port`. */
function redisUrls(text: string): string[] {
  const urls = text.split(',').map((u) => withDefaultScheme(u.trim(), 'redis'));
  if (urls.some((u) => !/^rediss?:\/\//.test(u))) throw new UsageError(`--redis must be redis://host:port or host:port (comma-separated for a cluster), got "${text}"`);
  return urls;
}

/** What `--redis` configures besides the URLs. */
interface RedisFlags {
  readonly secret: string | undefined;
  readonly durability: string;
  readonly replayWindow: number;
  readonly connectTimeoutMs: number;
}

function redisFleet(urls: readonly string[], flags: RedisFlags): RedisFleet {
  const { secret, durability, replayWindow, connectTimeoutMs } = flags;
  if (secret === undefined || secret.length < 16) throw new UsageError('--redis needs --secret (or LIFELINE_SECRET), at least 16 characters, the same on every node');
  if (durability !== 'async' && durability !== 'replicated') throw new UsageError(`--durability must be async or replicated, got "${durability}"`);
  if (connectTimeoutMs < 1) throw new UsageError('--redis-connect-timeout must be at least 1ms');
  const [only, ...more] = urls;
  let waiting = false;
  return createRedisFleet({
    url: only !== undefined && more.length === 0 ? only : [...urls],
    secret,
    durability,
    replayWindow,
    connectTimeoutMs,
    // Never wait in silence: the first failed attempt says what the gateway is waiting for.
    onConnectFailed: (cause) => {
      if (waiting) return;
      waiting = true;
      const shown = urls.map(redactRedisUrl).join(',');
      stderr.write(`agent-lifeline gateway: waiting for Redis at ${shown} (retrying for up to ${formatSeconds(connectTimeoutMs)}): ${cause.message}\n`);
    },
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Run the command; resolves with the exit code after a signal, or 2 on bad arguments or a port it cannot use. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandLine(args, {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      agents: { type: 'string' },
      'any-agent': { type: 'boolean', default: false },
      tick: { type: 'string', default: '0' },
      protocol: { type: 'string', default: '1..2' },
      'replay-window': { type: 'string', default: '1000' },
      'heartbeat-ms': { type: 'string', default: '15000' },
      'log-level': { type: 'string', default: defaultLogLevel() },
      'log-format': { type: 'string', default: defaultLogFormat() },
      dialect: { type: 'string', default: 'auto' },
      redis: { type: 'string' },
      secret: { type: 'string' },
      'node-id': { type: 'string' },
      durability: { type: 'string', default: 'async' },
      'redis-connect-timeout': { type: 'string', default: '30s' },
      'trust-proxy': { type: 'string' },
      'max-connections-per-address': { type: 'string', default: '1000' },
      'max-sessions-per-address': { type: 'string', default: '1000' },
      'max-sessions-per-owner': { type: 'string', default: '100' },
      'max-sessions': { type: 'string', default: '100000' },
      'websocket-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    const protocol = parseRange(values.protocol);
    if (!protocol) throw new UsageError(`--protocol must look like 1..2, got "${values.protocol}"`);
    const agents = agentList(values.agents, values['any-agent']);
    const tickMs = durationOption('tick', values.tick);
    const dialect = dialectOption(values.dialect);
    const logger = stderrLogger(values['log-level'], values['log-format']);
    const replayWindow = integer('replay-window', values['replay-window'], 1);
    const redis = values.redis === undefined ? undefined : redisUrls(values.redis);
    const shared =
      redis === undefined
        ? undefined
        : redisFleet(redis, {
            secret: values.secret ?? env['LIFELINE_SECRET'],
            durability: values.durability,
            replayWindow,
            connectTimeoutMs: durationOption('redis-connect-timeout', values['redis-connect-timeout']),
          });
    const gateway = await createGateway({
      host: values.host,
      port: portOption('port', values.port),
      protocol,
      replayWindow,
      ...(shared ? { log: shared.log, fleet: shared.fleet } : {}),
      ...(values['node-id'] === undefined ? {} : { nodeId: values['node-id'] }),
      heartbeatMs: integer('heartbeat-ms', values['heartbeat-ms'], 1),
      eventTypes: tickMs > 0 ? [...DEMO_EVENT_TYPES, DEMO_TICK_TYPE] : DEMO_EVENT_TYPES,
      ...(agents ? { agents } : {}),
      logger,
      dialect,
      ...(values['trust-proxy'] === undefined ? {} : { trustedProxies: proxyList(values['trust-proxy']) }),
      maxConnectionsPerAddress: integer('max-connections-per-address', values['max-connections-per-address'], 1),
      maxSessionsPerAddress: integer('max-sessions-per-address', values['max-sessions-per-address'], 1),
      maxSessionsPerOwner: integer('max-sessions-per-owner', values['max-sessions-per-owner'], 1),
      maxSessions: integer('max-sessions', values['max-sessions'], 1),
      http: !values['websocket-only'],
    });
    const detach = (agents ?? ['demo']).map((agent) => attachDemoAgent(gateway, agent, { tickMs }));
    const served = agents ? `agents ${agents.map((a) => `"${a}"`).join(', ')}` : 'any agent id, "demo" answers';
    const ticking = tickMs > 0 ? `, a tick every ${tickMs} ms` : '';
    const store = redis === undefined ? '' : `, log on Redis ${redis.map(redactRedisUrl).join(',')}`;
    stdout.write(`agent-lifeline gateway listening on ${gateway.url} (protocol ${protocol.min}..${protocol.max}, ${served}${ticking}, dialect ${dialect}${store})\n`);
    // The HTTP binding and the operator endpoints share the port: say where, so nobody has to guess.
    const http = gateway.url.replace(/^ws/, 'http');
    const origin = new URL(http).origin;
    const binding = values['websocket-only'] ? 'HTTP binding off (--websocket-only)' : `over HTTP (SSE down, POST up): ${http}`;
    stdout.write(`  ${binding}   health: ${origin}/health   metrics: ${origin}/metrics\n`);

    const signal = await waitForSignal();
    stderr.write(`agent-lifeline gateway: ${signal}, draining\n`);
    for (const off of detach) off();
    await gateway.drain();
    await gateway.close();
    return 0;
  } catch (error) {
    return reportFailure('gateway', error, USAGE);
  }
}
