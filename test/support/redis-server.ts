// A real `redis-server` child process for tests, the bench and the soak: a free loopback port
// (picked and retried, since `--port 0` does not work), no persistence unless asked, and kill,
// restart, replica and cluster helpers. No test framework imports: the soak and bench use it too.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options for {@link startRedis}. */
export interface RedisServerOptions {
  /** Persist with an AOF using this fsync policy; omitted, nothing is persisted. */
  readonly appendfsync?: 'always' | 'everysec';
  /** Start as a replica of the server on this loopback port (a RedisServer, or a proxy in front of one). */
  readonly replicaOf?: { readonly port: number };
  /** Start as a Redis Cluster node (its bus uses port + 10000). @default false */
  readonly cluster?: boolean;
  /** Reuse this data directory (a restart keeps its files). @default a fresh temp directory */
  readonly dir?: string;
  /** Use this port instead of a random free one (a restart keeps its port). */
  readonly port?: number;
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly dir: string;
  readonly options: RedisServerOptions;
  /** Run redis-cli against this server and return its trimmed output. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL: nothing is flushed, like a crash. */
  kill(): Promise<void>;
  /** Kill (SIGKILL) and start again on the same port and directory, with `changes` applied. */
  restart(changes?: Partial<Pick<RedisServerOptions, 'appendfsync'>>): Promise<RedisServer>;
  /** SIGSTOP / SIGCONT, to make a replica miss writes. */
  pause(): void;
  resume(): void;
  /** Stop and remove its directory (unless the caller passed `dir`). */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Ports 20000..29999, so a cluster bus (port + 10000) also stays below 40000. */
function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 10_000);
}

function argsFor(port: number, dir: string, options: RedisServerOptions): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'no'];
  // A replica syncs at once instead of after the default 5 s diskless-sync delay.
  args.push('--repl-diskless-sync-delay', '0');
  if (options.appendfsync) args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync);
  else args.push('--appendonly', 'no');
  if (options.replicaOf) args.push('--replicaof', '127.0.0.1', String(options.replicaOf.port));
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000');
  return args;
}

/** Spawn and wait for "Ready to accept connections"; resolves false if the port was taken. */
function spawnOn(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess | false> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', argsFor(port, dir, options), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on ${port} not ready within 10 s:\n${output.slice(-2000)}`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        running.add(child);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Cannot start redis-server (install the redis-server package): ${error.message}`));
    });
    child.once('exit', () => {
      running.delete(child);
      clearTimeout(timer);
      if (/Address already in use/.test(output)) resolve(false);
      else reject(new Error(`redis-server on ${port} exited:\n${output.slice(-2000)}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Start a redis-server on a free loopback port; retries on a port collision. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  return start(options, options.dir === undefined);
}

/** `ownDir`: the directory is ours to remove on stop(), also after restarts that reuse it. */
async function start(options: RedisServerOptions, ownDir: boolean): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'lifeline-redis-'));
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = options.port ?? randomPort();
    const child = await spawnOn(port, dir, options);
    if (child) return wrap(child, port, dir, options, ownDir);
    if (options.port !== undefined) throw new Error(`Port ${port} is taken`);
  }
  throw new Error('No free port for redis-server after 20 attempts');
}

function wrap(child: ChildProcess, port: number, dir: string, options: RedisServerOptions, ownDir: boolean): RedisServer {
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exited(child);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    options,
    cli: async (...args) => (await run('redis-cli', ['-p', String(port), ...args])).stdout.trim(),
    kill,
    async restart(changes = {}) {
      await kill();
      return start({ ...options, ...changes, dir, port }, ownDir);
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Wait (bounded) until `replica` is linked (its initial sync done, so a WAIT counts it) and has
 * applied everything `primary` had written when this was called.
 *
 * A replica that is `online` right after a diskless sync still gets no commands until its first
 * REPLCONF ACK (sent once a second), and a WAIT meanwhile counts 0. So a PUBLISH (replicated, but
 * no key) goes first, and the wait is for the replica to have applied it too.
 */
export async function replicaCaughtUp(primary: RedisServer, replica: RedisServer, timeoutMs = 10_000): Promise<void> {
  const field = (info: string, name: string): number => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? -1);
  await primary.cli('publish', 'lifeline-test:replication-probe', '1');
  const target = field(await primary.cli('info', 'replication'), 'master_repl_offset');
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const info = await replica.cli('info', 'replication');
    const online = (await primary.cli('info', 'replication')).includes('state=online');
    if (online && info.includes('master_link_status:up') && field(info, 'slave_repl_offset') >= target) return;
    if (performance.now() > deadline) throw new Error(`replica did not reach offset ${target} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The AOF file that takes new writes (Redis 7 multi-part AOF: the manifest's `type i` entry).
 * A test truncates it back to an earlier size to play what `appendfsync everysec` loses in a crash.
 */
export function aofTail(server: RedisServer): { path: string; size(): number; truncate(size: number): void } {
  const dir = join(server.dir, 'appendonlydir');
  const manifest = readFileSync(join(dir, 'appendonly.aof.manifest'), 'utf8');
  const name = /^file (\S+) seq \d+ type i$/m.exec(manifest)?.[1];
  if (name === undefined) throw new Error(`no incremental AOF file in ${dir}`);
  const path = join(dir, name);
  return { path, size: () => statSync(path).size, truncate: (size) => truncateSync(path, size) };
}

/** A Redis Cluster of `masters` nodes with no replicas, slots spread by redis-cli. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** Root node URLs for node-redis `createCluster`. */
  readonly urls: readonly string[];
  stop(): Promise<void>;
}

/** Start `masters` cluster nodes and join them with `redis-cli --cluster create`. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < masters; i++) nodes.push(await startRedis({ cluster: true }));
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
  // Wait until every node agrees the cluster is up (slots are assigned and gossip has spread).
  const deadline = performance.now() + 15_000;
  for (const node of nodes) {
    while (!(await node.cli('cluster', 'info')).includes('cluster_state:ok')) {
      if (performance.now() > deadline) throw new Error('Redis Cluster did not reach cluster_state:ok within 15 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
