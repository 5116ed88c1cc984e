// Resume after a restart: a client process is SIGKILLed mid-stream with messages still
// unacknowledged; a new process resumes from the stored checkpoint and outbox. Exactly the missed
// events arrive, and every message is applied exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../support/cli-process.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';
import { proxyFor } from './kit.js';

const CLIENT = ['--import', 'tsx', fileURLToPath(new URL('./fixtures/resume-client.ts', import.meta.url))];
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Seqs printed as `event <seq>`, in order. */
const seqsOf = (child: CliProcess): number[] => [...child.output.stdout.matchAll(/^event (\d+)$/gm)].map((m) => Number(m[1]));

describe('resume after a restart', () => {
  it('a killed client process resumes in a new one: exactly the missed events, every message applied once', { timeout: 30_000 }, async () => {
    const gw = await startGateway({ heartbeatMs: 200 });
    const proxy = await proxyFor(gw);
    const applied = new Map<string, number>();
    gw.onMessage((message) => void applied.set(String(message.content), (applied.get(String(message.content)) ?? 0) + 1));
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-restart-'));
    dirs.push(dir);

    const first = spawnCli([proxy.url, dir], { entry: CLIENT });
    const session = (await first.waitForOutput(/joined (\S+)/))[1] ?? '';
    await publishMany(gw, session, 20);
    await first.waitForOutput(/^event 20$/m);
    first.child.stdin.write('send a1\nsend a2\n');
    await first.waitForOutput(/acked a2/);
    // The link goes half-open: these stay unacknowledged, and the next 10 events never arrive.
    proxy.stall();
    first.child.stdin.write('send b1\nsend b2\nsend b3\n');
    await first.waitForOutput(/queued b3/);
    await publishMany(gw, session, 10);
    first.child.kill('SIGKILL');
    await first.exited(5000);
    proxy.drop();
    proxy.resume();
    expect(seqsOf(first)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const second = spawnCli([proxy.url, dir], { entry: CLIENT });
    expect((await second.waitForOutput(/joined (\S+)/))[1]).toBe(session);
    await second.waitForOutput(/^event 30$/m);
    await waitFor(() => applied.size === 5, 5000, 'all five messages applied');
    await publishMany(gw, session, 1);
    await second.waitForOutput(/^event 31$/m);
    expect(seqsOf(second)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
    expect(Object.fromEntries(applied)).toEqual({ a1: 1, a2: 1, b1: 1, b2: 1, b3: 1 });
    second.child.kill('SIGTERM');
  });
});
