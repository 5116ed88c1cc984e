// `agent-lifeline gateway --redis` as a real child process: it never waits in silence. With Redis
// down it says at once what it waits for, and gives up after --redis-connect-timeout with one line
// and exit code 2. Once running, a lost Redis degrades the node (HTTP 503 on /health) and the
// node keeps running until Redis is back.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.js';
import { startRedis } from '../support/redis-server.js';
import { waitFor, waitForAsync } from '../support/wait-for.js';

const SECRET = { LIFELINE_SECRET: 'cli-test-secret-0123456789' };

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

async function healthStatus(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/health`)).status;
}

describe('agent-lifeline gateway --redis', () => {
  it('with Redis down says at once that it is waiting, then exits 2 with one line after --redis-connect-timeout', { timeout: 45_000 }, async () => {
    const port = await closedPort();
    const url = `redis://127.0.0.1:${port}`;
    const cli = spawnCli(['gateway', '--port', '0', '--redis', url, '--redis-connect-timeout', '1500ms'], { env: SECRET });
    await waitFor(() => cli.output.stderr.includes('waiting for Redis'), 20_000, 'the waiting line');
    const saidWaiting = performance.now();
    expect(await cli.exited(15_000)).toBe(2);
    // Said at the first failed attempt, not at the end: the bound still ran its course after it.
    expect(performance.now() - saidWaiting).toBeGreaterThan(1000);
    const lines = cli.output.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`agent-lifeline gateway: waiting for Redis at ${url} (retrying for up to 1500 ms): connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(lines[1]).toMatch(new RegExp(`^agent-lifeline gateway: Cannot connect to Redis at ${url} within 1500 ms \\(.*ECONNREFUSED.*\\)\\. Start Redis, or check --redis`));
    expect(cli.output.stdout).toBe('');
  });

  it('once running, a lost Redis answers /health 503 and the node stays up; 200 again when Redis is back', { timeout: 40_000 }, async () => {
    let redis = await startRedis();
    try {
      const cli = spawnCli(['gateway', '--port', '0', '--redis', redis.url], { env: SECRET });
      const port = Number((await cli.waitForOutput(/listening on ws:\/\/127\.0\.0\.1:(\d+)/))[1]);
      expect(await healthStatus(port)).toBe(200);
      await redis.kill();
      await waitForAsync(async () => (await healthStatus(port)) === 503, 5000, '/health to answer 503');
      redis = await redis.restart();
      await waitForAsync(async () => (await healthStatus(port)) === 200, 10_000, '/health to answer 200 again');
      expect(cli.child.exitCode).toBeNull();
      cli.child.kill('SIGTERM');
      expect(await cli.exited()).toBe(0);
    } finally {
      await redis.stop();
    }
  });
});
