// Counting what a Redis server really executed, for the one-round-trip-per-publish check in
// tests and the bench: INFO commandstats deltas over every command, split by MONITOR into the
// commands clients sent and the ones Lua scripts ran inside them. No test framework imports.
import { spawn } from 'node:child_process';
import type { RedisServer } from './redis-server.js';

/** Calls per command name, as INFO commandstats reports them. */
export type CommandCounts = Record<string, number>;

/** `INFO commandstats` as calls per command (script-internal calls included, as Redis counts them). */
export async function commandStats(server: RedisServer): Promise<CommandCounts> {
  const out: CommandCounts = {};
  for (const line of (await server.cli('info', 'commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) out[match[1]!] = Number(match[2]);
  }
  return out;
}

/** `after - before` for every command, leaving out those that did not change. */
export function statsDelta(before: CommandCounts, after: CommandCounts): CommandCounts {
  const out: CommandCounts = {};
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0);
    if (delta > 0) out[name] = delta;
  }
  return out;
}

/** What ran while `during` did: commands sent by clients, and commands run inside scripts. */
export interface Executed {
  /** Commands that arrived over a client connection: each one is a round trip. */
  readonly sent: CommandCounts;
  /** Commands run by Lua scripts inside those. */
  readonly inScripts: CommandCounts;
  /** INFO commandstats delta over all commands (sent + inScripts, plus the counting itself). */
  readonly stats: CommandCounts;
}

const MARK = 'lifeline-monitor-mark';

/** Run `during` under MONITOR and commandstats, and report what the server executed. */
export async function countCommands(server: RedisServer, during: () => Promise<void>): Promise<Executed> {
  const monitor = spawn('redis-cli', ['-p', String(server.port), 'monitor'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  monitor.stdout.setEncoding('utf8');
  monitor.stdout.on('data', (chunk: string) => {
    text += chunk;
  });
  const seen = async (needle: string): Promise<void> => {
    const deadline = performance.now() + 10_000;
    while (!text.includes(needle)) {
      if (performance.now() > deadline) throw new Error(`MONITOR never showed ${needle}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  try {
    await seen('OK');
    await server.cli('echo', `${MARK}-start`);
    await seen(`${MARK}-start`);
    const before = await commandStats(server);
    await during();
    const after = await commandStats(server);
    await server.cli('echo', `${MARK}-end`);
    await seen(`${MARK}-end`);
    const sent: CommandCounts = {};
    const inScripts: CommandCounts = {};
    const body = text.slice(text.indexOf(`${MARK}-start`), text.indexOf(`${MARK}-end`));
    for (const line of body.split('\n')) {
      const match = /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (!match) continue;
      const name = match[2]!.toLowerCase();
      // The counting itself (our ECHO marks and INFO commandstats), and the PING with which each
      // connection of the log checks its link (redis-link.ts), which belongs to no operation.
      if (name === 'echo' || name === 'ping' || (name === 'info' && line.includes('"commandstats"'))) continue;
      const bucket = match[1] === 'lua' ? inScripts : sent;
      bucket[name] = (bucket[name] ?? 0) + 1;
    }
    const stats = statsDelta(before, after);
    // The `before` INFO commandstats ran after its own snapshot: take it out again.
    if (stats['info'] !== undefined) stats['info'] -= 1;
    if (stats['info'] === 0) delete stats['info'];
    delete stats['ping'];
    return { sent, inScripts, stats };
  } finally {
    monitor.kill('SIGKILL');
  }
}

/** Total of every count. */
export function total(counts: CommandCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
