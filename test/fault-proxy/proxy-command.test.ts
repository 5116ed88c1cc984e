// `agent-lifeline proxy` driven from the keyboard, as a reader uses it: the command runs in a real
// pseudo-terminal (util-linux `script`, part of every Debian base system), a key press drops the
// connection of a client joined through it, and `q` quits cleanly.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { join, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

describe('agent-lifeline proxy keys', () => {
  it('d drops every connection, r refuses, p passes, q quits', { timeout: 30_000 }, async () => {
    const gateway = await startGateway();
    const command = `${process.execPath} --import tsx src/cli/main.ts proxy --to ${gateway.url} --port 0`;
    const child = spawn('script', ['-qfc', command, '/dev/null'], { env: { ...process.env, LIFELINE_LOG_LEVEL: 'silent' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await waitFor(() => /keys: d drop/.test(out) && /listening on (ws:\/\/\S+)/.exec(out)?.[1], 20_000, 'the proxy to start');
      const { client } = await join(url);
      child.stdin.write('d');
      expect((await client.closed(5000)).code).toBe(1006);
      await waitFor(() => out.includes('dropped every connection (still pass)'), 5000, 'the drop to be reported');
      child.stdin.write('r');
      await waitFor(() => out.includes('now refuse'), 5000, 'refuse');
      child.stdin.write('p');
      await waitFor(() => out.includes('now pass'), 5000, 'pass');
      await join(url);
      child.stdin.write('q');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
