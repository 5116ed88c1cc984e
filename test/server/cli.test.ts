// `lifeline gateway` as a user runs it: a real process that prints its URL, serves the demo
// agent, and drains on SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/gateway-command.js';
import { eventFrames, join } from '../support/gateway-kit.js';

describe('lifeline gateway', () => {
  it('serves the demo agent and drains on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--port', '0', '--protocol', '1..2'], {
      env: { ...process.env, LIFELINE_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no URL printed within 10 s')), 10_000);
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /ws:\/\/[\d.]+:\d+/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[0]);
          }
        });
      });
      const { client, helloOk } = await join(url, { protocol_max: 1 });
      expect((helloOk['features'] as { events: string[] }).events).toEqual(['message', 'token', 'reply']);
      client.send({ type: 'message', id: 'm1', content: 'hello there' });
      await client.next('ack');
      await client.until((frames) => eventFrames(frames).some((f) => (f['event'] as { type: string }).type === 'reply'), 5000, 'demo reply');
      const types = eventFrames(client.frames).map((f) => (f['event'] as { type: string }).type);
      expect(types[0]).toBe('message');
      expect(types.filter((t) => t === 'token').length).toBeGreaterThan(1);

      child.kill('SIGTERM');
      await client.next('draining', 5000);
      expect(await client.closed()).toMatchObject({ code: 1001 });
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.each([[['--protocol', '3..1']], [['--port', 'eighty']], [['--heartbeat-ms', '0']], [['--bogus']]])('rejects %j with exit code 2', async (args) => {
    const write = process.stderr.write;
    const lines: string[] = [];
    process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write;
    try {
      await expect(run(args)).resolves.toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toContain('usage: lifeline gateway');
  });
});
