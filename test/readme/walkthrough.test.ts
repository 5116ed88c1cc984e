// README's "Your first program", run as written: its code blocks are read from README.md and
// executed in order (the gateway and proxy commands, first.mjs, the commands that switch the
// proxy), and the test checks what the README promises the reader will see. The proxy keeps its
// control key in a runtime directory of the test's own (XDG_RUNTIME_DIR), where `proxy refuse`
// finds it. Two mechanical substitutions only:
// `npx agent-lifeline` runs the CLI from source, and `import 'agent-lifeline'` resolves to src/client, and
// ports 8790-8792 become free ports (same offsets), so parallel runs on one machine never meet.
// With nothing listening, first.mjs says why after its first attempt instead of waiting in silence.
// README's testing example is test/readme/app-reconnect.test.ts, which the suite runs as it is.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../support/cli-process.js';
import { eventFrames, join } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

const README = readFileSync('README.md', 'utf8');
const work = mkdtempSync(joinPath(tmpdir(), 'lifeline-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fenced code blocks of one `## ` section, in order. */
function codeBlocks(heading: string): Array<{ lang: string; code: string }> {
  const start = README.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? '', code: m[2] ?? '' }));
}

function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Three consecutive free ports, for the README's 8790, 8791 and 8792. */
async function freePorts(): Promise<number[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = [base, base + 1, base + 2];
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return ports;
  }
  throw new Error('no three consecutive free ports');
}

/** Run first.mjs as written (ports mapped) with `agent-lifeline` resolving to this checkout's source. */
function runFirstProgram(program: string): CliProcess {
  const shim = joinPath(work, 'node_modules', 'agent-lifeline');
  mkdirSync(shim, { recursive: true });
  writeFileSync(joinPath(shim, 'package.json'), JSON.stringify({ name: 'agent-lifeline', type: 'module', exports: './index.js' }));
  writeFileSync(joinPath(shim, 'index.js'), `export * from ${JSON.stringify(pathToFileURL(resolve('src/client/index.ts')).href)};\n`);
  writeFileSync(joinPath(work, 'first.mjs'), program);
  const tsx = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
  return spawnCli([], { entry: ['--import', tsx, joinPath(work, 'first.mjs')], cwd: work });
}

interface Printed {
  readonly seq: number;
  readonly type: string;
  readonly replayed: boolean;
  readonly n: number | undefined;
}

/** first.mjs's event lines: `seq type [(replayed)] data`. */
function printed(client: CliProcess): Printed[] {
  return [...client.output.stdout.matchAll(/^(\d+) (\w+) (\(replayed\))? ?(.*)$/gm)].map((m) => {
    const data = JSON.parse(m[4] ?? 'null') as { n?: number } | null;
    return { seq: Number(m[1]), type: m[2] ?? '', replayed: m[3] !== undefined, n: data?.n };
  });
}

describe("README's testing example", () => {
  it('is test/readme/app-reconnect.test.ts as written, so the suite runs it', () => {
    const blocks = codeBlocks('Testing your app against drops and restarts').filter((b) => b.lang === 'ts');
    expect(blocks.map((b) => b.code)).toEqual([readFileSync('test/readme/app-reconnect.test.ts', 'utf8')]);
  });
});

describe('README walkthrough', () => {
  it('runs as written: ticks, a cut network resumed with exactly the missed ticks replayed, a restart seen as an epoch gap', async () => {
    const blocks = codeBlocks('Your first program');
    expect(blocks.map((b) => b.lang)).toEqual(['sh', 'sh', 'js', 'sh', 'sh']);
    const [gatewayBlock, proxyBlock, program, cut, heal] = blocks.map((b) => b.code.trim()) as [string, string, string, string, string];
    const ports = await freePorts();
    const mapPorts = (text: string): string => text.replace(/\b879([0-2])\b/g, (_, i: string) => String(ports[Number(i)]));
    const runtime = mkdtempSync(joinPath(work, 'runtime-'));
    const lifeline = (command: string): CliProcess => {
      const words = mapPorts(command).split(/\s+/);
      expect(words.slice(0, 2)).toEqual(['npx', 'agent-lifeline']);
      return spawnCli(words.slice(2), { env: { XDG_RUNTIME_DIR: runtime } });
    };
    /** Run a command that finishes, such as `proxy refuse`; it must succeed. */
    const finish = async (command: string): Promise<void> => {
      const cli = lifeline(command);
      const code = await cli.exited();
      expect(code, cli.output.stderr).toBe(0);
    };

    // Terminals one and two.
    let gateway = lifeline(gatewayBlock);
    const proxy = lifeline(proxyBlock);
    const [, gatewayUrl] = await gateway.waitForOutput(/listening on (ws:\/\/\S+)/);
    await proxy.waitForOutput(/listening on/);

    // Terminal three: first.mjs, with `agent-lifeline` resolving to this checkout's source.
    const client = runFirstProgram(mapPorts(program));
    await client.waitForOutput(/^state: joined$/m);
    await waitFor(() => printed(client).some((e) => e.type === 'reply') && printed(client).some((e) => e.type === 'tick'), 10_000, 'the reply and a tick');

    // A second session, straight to the gateway, sees the ticks the gateway publishes meanwhile.
    const { client: watcher } = await join(gatewayUrl ?? '');
    const watched = (): number[] => eventFrames(watcher.frames).flatMap((f) => {
      const event = f['event'] as { type: string; data: { n: number } };
      return event.type === 'tick' ? [event.data.n] : [];
    });

    // Cut the network and stay away for two ticks.
    await finish(cut);
    await client.waitForOutput(/^state: reconnecting$/m, 5000);
    const lastBeforeCut = Math.max(...printed(client).flatMap((e) => (e.type === 'tick' && e.n !== undefined ? [e.n] : [])));
    await waitFor(() => Math.max(...watched()) >= lastBeforeCut + 2, 6000, 'two ticks while the client is away');

    // Heal it: the missed ticks come back replayed, then live ones follow.
    await finish(heal);
    await waitFor(() => printed(client).some((e) => e.type === 'tick' && !e.replayed && (e.n ?? 0) > lastBeforeCut + 2), 15_000, 'a live tick after the resume');
    const events = printed(client);
    const seqs = events.map((e) => e.seq);
    expect(seqs, 'no duplicates, no reordering').toEqual([...seqs].sort((a, b) => a - b).filter((s, i, all) => all.indexOf(s) === i));
    expect(seqs, 'no holes').toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
    const replayedTicks = events.filter((e) => e.replayed && e.type === 'tick').map((e) => e.n);
    expect(replayedTicks.length).toBeGreaterThanOrEqual(2);
    expect(replayedTicks[0]).toBe(lastBeforeCut + 1);
    expect(client.output.stdout).not.toContain('missed');

    // Stop the gateway (Ctrl-C) and start it again with the same command: an epoch gap.
    watcher.ws.terminate();
    gateway.child.kill('SIGINT');
    expect(await gateway.exited(8000)).toBe(0);
    gateway = lifeline(gatewayBlock);
    await gateway.waitForOutput(/listening on/);
    await client.waitForOutput(/^gateway history was reset$/m, 20_000);
  }, 60_000);

  it('with nothing listening, first.mjs says why after its first attempt, not after 30 s of bare state lines', async () => {
    const program = codeBlocks('Your first program').find((b) => b.lang === 'js')?.code ?? '';
    const ports = await freePorts();
    const client = runFirstProgram(program.replace(/\b879([0-2])\b/g, (_, i: string) => String(ports[Number(i)])));
    await waitFor(() => /^error: connect_failed: Nothing accepts connections at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the gateway running/m.test(client.output.stderr), 10_000, 'the cause on stderr');
    // Said at the first failed attempts (its backoff starts at 250 ms), not at connect()'s 30 s deadline.
    expect(client.output.stdout.match(/^state: reconnecting$/gm)?.length ?? 0).toBeLessThanOrEqual(2);
    client.child.kill('SIGTERM');
    await client.exited(5000);
  }, 20_000);
});
