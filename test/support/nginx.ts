// A real nginx (Debian's nginx-light) as a child process in front of a gateway, configured the way
// many reverse proxies are: a plain `proxy_pass` that does not pass `Upgrade` (so a WebSocket
// cannot open through it) and proxy buffering left on, its default. Everything it writes (config,
// error log, pid, temp files) lives in its own prefix under a temp directory; it listens on a free
// loopback port the caller may keep across a kill and a start. No test framework imports: the
// bench uses it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NGINX_PATH } from './system.js';

/** How long nginx may take to listen, and to exit once killed. */
const START_DEADLINE_MS = 5000;
const STOP_DEADLINE_MS = 5000;

/** Options for {@link startNginx}. */
export interface NginxOptions {
  /** The upstream on 127.0.0.1 (the gateway, or a fault proxy in front of it). */
  readonly upstreamPort: number;
  /** Extra directives inside the proxied `location`, e.g. `proxy_buffering off;`. @default none */
  readonly locationDirectives?: string;
}

/** A running nginx. */
export interface Nginx {
  /** `ws://127.0.0.1:PORT/`: what a client is given (the HTTP transport requests it over http). */
  readonly url: string;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
  readonly port: number;
  /** Whether the process runs now. */
  readonly running: boolean;
  /** SIGKILL: every connection through it dies at once, as in a proxy crash. Resolves once it exited. */
  kill(): Promise<void>;
  /** Start again, on the same port and config, after `kill()`. */
  start(): Promise<void>;
  /** Kill it and remove its directory. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A port free on 127.0.0.1 now (nginx cannot listen on port 0 and report it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('no TCP port'))));
    });
  });
}

/**
 * The whole config: one process (`master_process off`, so a SIGKILL takes every connection with
 * it and leaves no orphaned worker), logs and temp files in `dir`, and one server that proxies
 * everything to the upstream with nginx's defaults: HTTP/1.0 upstream, no `Upgrade` or
 * `Connection: upgrade` passed, responses buffered unless the upstream says `X-Accel-Buffering: no`.
 */
function config(dir: string, port: number, options: NginxOptions): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${options.upstreamPort};
      ${options.locationDirectives ?? ''}
    }
  }
}
`;
}

/** Resolve once something accepts TCP connections on the port; reject after `deadlineMs`. */
async function listening(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (performance.now() > deadline) throw new Error(`nginx did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function exited(child: ChildProcess, deadlineMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nginx (pid ${child.pid}) did not exit within ${deadlineMs} ms`)), deadlineMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Start nginx on a free loopback port in front of `options.upstreamPort`. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-nginx-'));
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
  const conf = join(dir, 'nginx.conf');
  let child: ChildProcess | undefined;
  let port = 0;

  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000);
    } catch {
      return '';
    }
  };
  const launch = async (): Promise<void> => {
    if (child) throw new Error('nginx is already running');
    // `-e`: errors before the config is read go to the prefix too, not to the package's log path.
    const proc = spawn(NGINX_PATH, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    const spawned = new Promise<void>((_, reject) => proc.once('error', (error) => reject(new Error(`Cannot run ${NGINX_PATH} (install nginx-light): ${error.message}`))));
    child = proc;
    try {
      await Promise.race([listening(port, proc, START_DEADLINE_MS), spawned]);
    } catch (error) {
      proc.kill('SIGKILL');
      await exited(proc, STOP_DEADLINE_MS).catch(() => undefined);
      throw new Error(`${(error as Error).message}\n${stderr}${errorLog()}`, { cause: error });
    }
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    proc.kill('SIGKILL');
    await exited(proc, STOP_DEADLINE_MS);
  };

  // A port taken between the probe and nginx's bind is tried again with another.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    writeFileSync(conf, config(dir, port, options));
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt < 3 && /Address already in use/.test(errorLog())) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  return {
    url: `ws://127.0.0.1:${port}/`,
    httpUrl: `http://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined;
    },
    kill,
    start: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
