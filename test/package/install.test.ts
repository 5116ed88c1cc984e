// The package as a user gets it: packed (which runs `prepare`, i.e. the build) from a separate
// copy of this tree, so the dist/ that parallel tests use is never rewritten; installed into an
// empty project with no dev dependencies (no vite, no tsx, no typescript at run time) under its
// name, `agent-lifeline`; then its commands run (`gateway`, `start`, and `npx agent-lifeline
// inspect`, each serving what it says), its client and its testing kit run, the documents README and `--help` point
// to are in it, a consumer type-checks under the node16, bundler and default (node10) module
// resolutions, and each entry's declarations export exactly the names in test/package/exports/
// (see surface.ts).
// About 30 s on a quiet 2-core machine, most of it the build that `npm pack` runs.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.js';
import { committedList, ENTRIES, readSurface, VALUE_BUDGET, valueCount } from './surface.js';
import { controlUrl } from '../support/inspector-urls.js';

const REPO = resolve('.');
const README_TEXT = readFileSync(join(REPO, 'README.md'), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'lifeline-package-'));
// The copy sits inside the checkout (in the git-ignored .scratch/) so the build finds the dev
// tools in the checkout's node_modules by walking up, as in the tree itself; a symlinked
// node_modules would make tsc's declaration emit see paths outside the package (TS2742).
mkdirSync(join(REPO, '.scratch'), { recursive: true });
const tree = mkdtempSync(join(REPO, '.scratch', 'package-tree-'));
const app = join(root, 'app');
const installed = join(app, 'node_modules', 'agent-lifeline');
const BIN = [join(installed, 'bin', 'agent-lifeline.js')];
/** npm's npx, next to this node: `npx agent-lifeline …` as README writes it. */
const NPX = [realpathSync(join(dirname(process.execPath), 'npx'))];

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(tree, { recursive: true, force: true });
});

/** Run a command; a failure's message carries its output. */
async function run(command: string, args: readonly string[], options: { cwd: string; timeout: number; maxBuffer?: number }): Promise<{ stdout: string }> {
  try {
    return await promisify(execFile)(command, args, options);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

beforeAll(async () => {
  // The tree as git sees it (tracked, plus new files not ignored), without dist/ or node_modules/.
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO, timeout: 10_000, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter((f) => f !== '')) {
    try {
      cpSync(join(REPO, file), join(tree, file));
    } catch {
      // A file deleted in the work tree but still in the index: not part of the package.
    }
  }
  await run('npm', ['pack', '--silent', '--pack-destination', root], { cwd: tree, timeout: 240_000 });
  const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');

  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', join(root, tarball), '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, timeout: 240_000 });
}, 300_000); // generous: on a loaded shared machine this has taken 190 s; the budget is about 30 s quiet

describe('installed package', () => {
  it('ships no vite, the built page, and source maps that carry their sources', async () => {
    const modules = join(app, 'node_modules');
    expect(readdirSync(modules)).not.toContain('vite');
    expect(readdirSync(modules)).not.toContain('tsx');
    expect(readdirSync(join(installed, 'dist', 'page'))).toContain('index.html');
    const map = JSON.parse(readFileSync(join(installed, 'dist', 'src', 'client', 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent?.length).toBe(map.sources.length);
    // The fault proxy ships as part of agent-lifeline/testing; stories/ ships only what the CLI runs.
    expect(existsSync(join(installed, 'dist', 'src', 'testing', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'stories', 'support', 'fault-proxy.js'))).toBe(false);
  });

  it('ships nothing test-only: no test/ built into dist/, no test files, no mutation switches', () => {
    const dist = join(installed, 'dist');
    expect(readdirSync(dist)).not.toContain('test');
    const shipped = readdirSync(dist, { recursive: true, encoding: 'utf8' });
    expect(shipped.length).toBeGreaterThan(100);
    expect(shipped.filter((file) => /(^|\/)(test|tests|mutations?)(\/|\.)|\.(test|spec)\./.test(file))).toEqual([]);
  });

  it('exports from each entry the committed names, within the value budget, each documented, and every type they name', () => {
    const surface = readSurface(join(tree, 'dist'));
    for (const entry of ENTRIES) {
      const lines = surface.exports[entry];
      expect(lines, `${entry}'s surface changed: if on purpose, run npx tsx test/package/surface.ts --write and commit the lists`).toEqual(committedList(entry));
      expect(valueCount(lines), `${entry}'s runtime values`).toBeLessThanOrEqual(VALUE_BUDGET[entry]);
    }
    expect(surface.unexported, 'types an export names but no entry exports').toEqual([]);
    expect(surface.undocumented, 'exports without a doc comment').toEqual([]);
  });

  it('ships every document its README links to and gateway --help names', async () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] ?? '').filter((link) => !/^[a-z]+:/.test(link));
    expect(links).toContain('docs/scaling.md');
    expect(links.filter((link) => !existsSync(join(installed, link)))).toEqual([]);
    const { stdout } = await run(process.execPath, [...BIN, 'gateway', '--help'], { cwd: app, timeout: 10_000 });
    const named = [...stdout.matchAll(/\(see (\S+\.md)\)/g)].map((m) => m[1] ?? '');
    expect(named).toEqual([join(installed, 'docs', 'reliability.md'), join(installed, 'docs', 'scaling.md')]);
    expect(named.filter((path) => !existsSync(path))).toEqual([]);
  });

  it('runs agent-lifeline gateway, npx agent-lifeline inspect and start, and the client, with no dev dependencies', { timeout: 30_000 }, async () => {
    const gateway = spawnCli(['gateway', '--port', '0'], { entry: BIN, cwd: app });
    const [gatewayUrl] = await gateway.waitForOutput(/ws:\/\/[\d.]+:\d+/);

    writeFileSync(
      join(app, 'client.js'),
      `import { createGatewayClient } from 'agent-lifeline';
const client = createGatewayClient({ url: process.argv[2], agentId: 'demo' });
await client.connect();
console.log('state:', client.state);
await client.disconnect();
`,
    );
    const { stdout } = await run(process.execPath, ['client.js', gatewayUrl], { cwd: app, timeout: 10_000 });
    expect(stdout).toBe('state: joined\n');

    // README's first program, as written but for the mechanical port substitution the README
    // walkthrough makes too: from the installed package it joins and prints the demo agent's events.
    const section = README_TEXT.slice(README_TEXT.indexOf('## Your first program\n'));
    const first = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    if (first === undefined || !first.includes('ws://127.0.0.1:8791')) throw new Error("README's first program is not where this test looks");
    writeFileSync(join(app, 'first.mjs'), first.replace('ws://127.0.0.1:8791', gatewayUrl));
    const program = spawnCli([], { entry: ['first.mjs'], cwd: app });
    await program.waitForOutput(/^state: joined$/m);
    await program.waitForOutput(/^\d+ message /m);

    // The testing kit runs from the package too: its gateway behind the proxy, a drop, a rejoin.
    writeFileSync(
      join(app, 'kit.js'),
      `import { createGatewayClient } from 'agent-lifeline';
import { startTestGateway, waitFor } from 'agent-lifeline/testing';
const server = await startTestGateway();
const client = createGatewayClient({ url: server.url, agentId: 'demo', reconnect: { initialDelayMs: 20 } });
await client.connect();
server.proxy.drop();
await waitFor(client, 'reconnecting');
await waitFor(client, 'joined', 5000);
console.log('rejoined');
await client.disconnect();
await server.close();
`,
    );
    expect((await run(process.execPath, ['kit.js'], { cwd: app, timeout: 10_000 })).stdout).toBe('rejoined\n');

    const inspect = spawnCli(['agent-lifeline', 'inspect', gatewayUrl, '--agent', 'demo', '--port', '0'], { entry: NPX, cwd: app, group: true });
    const start = spawnCli(['start', '--port', '0', '--gateway-port', '0'], { entry: BIN, cwd: app });
    const pages: string[] = [];
    for (const cli of [inspect, start]) {
      const [page] = await cli.waitForOutput(/http:\/\/[\d.]+:\d+\/\?key=[\w-]+/);
      const html = await (await fetch(page)).text();
      const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      expect((await fetch(new URL(script ?? '', page))).status).toBe(200);
      pages.push(page);
    }
    const config = (await (await fetch(controlUrl(pages[0] ?? '', 'control/config'))).json()) as { gatewayUrl: string };
    expect(config.gatewayUrl).toBe(`${gatewayUrl}/`);
  });

  it('type-checks a consumer under node16, bundler and the default module resolution', async () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { createGatewayClient, type GatewayClient } from 'agent-lifeline';
import { negotiate } from 'agent-lifeline/protocol';
import { createGateway, type Gateway } from 'agent-lifeline/server';
import { startTestGateway, type TestGateway } from 'agent-lifeline/testing';
export const kit: Promise<TestGateway> = startTestGateway();
export const client: GatewayClient = createGatewayClient({ url: 'ws://127.0.0.1:8790', agentId: 'demo' });
export const range = negotiate({ min: 1, max: 2 }, { min: 1, max: 1 });
export const gateway: Promise<Gateway> = createGateway({ port: 0 });
`,
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const common = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--typeRoots', join(REPO, 'node_modules', '@types'), '--types', 'node', 'consumer.ts'];
    const resolutions = [
      ['--module', 'node16', '--moduleResolution', 'node16'],
      ['--module', 'esnext', '--moduleResolution', 'bundler'],
      // TypeScript's default for CommonJS output: node10, which reads `types` and `typesVersions`.
      ['--module', 'commonjs'],
    ];
    const results = await Promise.all(
      resolutions.map((flags) =>
        run(process.execPath, [tsc, ...flags, ...common], { cwd: app, timeout: 90_000 }).then(
          () => `${flags.join(' ')}: ok`,
          (error: unknown) => `${flags.join(' ')}: ${String(error)}`,
        ),
      ),
    );
    expect(results).toEqual(resolutions.map((flags) => `${flags.join(' ')}: ok`));
  }, 120_000);
});
