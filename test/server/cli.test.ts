// `agent-lifeline gateway` as a user runs it: a real process that prints its URL, serves the demo
// agent, and drains on SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/gateway-command.js';
import { spawnCli } from '../support/cli-process.js';
import { connect, eventFrames, helloFrame, join } from '../support/gateway-kit.js';

describe('agent-lifeline gateway', () => {
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

  it('serves only the agents it names: a typo gets agent_not_found, a named agent ticks', { timeout: 30_000 }, async () => {
    const cli = spawnCli(['gateway', '--port', '0', '--agents', 'alpha,beta', '--tick', '50ms']);
    const [url] = await cli.waitForOutput(/ws:\/\/[\d.]+:\d+/);
    const typo = await connect(url);
    typo.send(helloFrame({ agent_id: 'alpah' }));
    expect(await typo.next('hello_error')).toMatchObject({ code: 'agent_not_found', next_step: 'do_not_retry' });
    const { client, helloOk } = await join(url, { agent_id: 'beta' });
    expect((helloOk['features'] as { events: string[] }).events).toContain('tick');
    await client.until((frames) => eventFrames(frames).filter((f) => (f['event'] as { type: string }).type === 'tick').length >= 2, 5000, 'two ticks');
  });

  it('charges the limits to the client behind a trusted proxy (--trust-proxy, --max-connections-per-address)', { timeout: 30_000 }, async () => {
    const cli = spawnCli(['gateway', '--port', '0', '--trust-proxy', '127.0.0.1', '--max-connections-per-address', '1']);
    const [url] = await cli.waitForOutput(/ws:\/\/[\d.]+:\d+/);
    const via = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    await join(url, {}, via('203.0.113.1'));
    await join(url, {}, via('203.0.113.2'));
    const again = await connect(url, via('203.0.113.1'));
    again.send(helloFrame());
    expect(await again.next('hello_error')).toMatchObject({ code: 'rate_limited' });
  });

  it('refuses a --trust-proxy entry that is not an address, as a configuration error', async () => {
    const write = process.stderr.write;
    const lines: string[] = [];
    process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write;
    try {
      await expect(run(['--port', '0', '--trust-proxy', 'lb.internal'])).resolves.toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toContain('trustedProxies entries must be IP addresses or CIDR ranges');
  });

  it.each([[['--protocol', '3..1']], [['--port', 'eighty']], [['--heartbeat-ms', '0']], [['--bogus']], [['--agents', 'a', '--any-agent']], [['--tick', 'often']], [['--trust-proxy', '10.0.0.0/8,']], [['--max-sessions-per-address', '0']]])('rejects %j with exit code 2', async (args) => {
    const write = process.stderr.write;
    const lines: string[] = [];
    process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write;
    try {
      await expect(run(args)).resolves.toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toContain('usage: agent-lifeline gateway');
  });
});
