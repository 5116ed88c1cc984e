// One rule for addresses on every command: a full URL, or a bare host:port that means the plain
// scheme (ws://, redis://). `gateway --redis host:port` runs against a real redis-server and
// `proxy --to host:port` in front of that gateway, as real processes.
import { afterAll, describe, expect, it } from 'vitest';
import { withDefaultScheme } from '../../src/cli/address.js';
import { parseConformanceArgs } from '../../src/cli/conformance-command.js';
import { gatewayUrls } from '../../src/cli/inspect-command.js';
import { captureStderr } from '../support/busy-port.js';
import { spawnCli } from '../support/cli-process.js';
import { join } from '../support/gateway-kit.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});

describe('addresses on the command line', () => {
  it.each([
    ['127.0.0.1:8790', 'ws', 'ws://127.0.0.1:8790'],
    ['localhost:8790/ws?token=t', 'ws', 'ws://localhost:8790/ws?token=t'],
    ['[::1]:8790', 'ws', 'ws://[::1]:8790'],
    ['wss://gw.example:443/ws', 'ws', 'wss://gw.example:443/ws'],
    ['127.0.0.1:6379', 'redis', 'redis://127.0.0.1:6379'],
    ['rediss://cache:6380', 'redis', 'rediss://cache:6380'],
    ['127.0.0.1', 'ws', '127.0.0.1'],
    ['http://127.0.0.1:8790', 'ws', 'http://127.0.0.1:8790'],
  ] as const)('%s as a %s address is %s', (text, scheme, url) => {
    expect(withDefaultScheme(text, scheme)).toBe(url);
  });

  it('conformance takes host:port as ws://, and still refuses http://', () => {
    expect(parseConformanceArgs(['127.0.0.1:8790', '--agent', 'demo'])).toMatchObject({ options: { url: 'ws://127.0.0.1:8790' } });
    expect(parseConformanceArgs(['http://127.0.0.1:8790', '--agent', 'demo'])).toEqual({ error: 'expected a ws:// or wss:// URL, got "http://127.0.0.1:8790"' });
  });

  it('inspect takes host:port as ws://, and still refuses http://', () => {
    expect(gatewayUrls(['127.0.0.1:8801', 'localhost:8802'])).toEqual(['ws://127.0.0.1:8801/', 'ws://localhost:8802/']);
    expect(() => gatewayUrls(['http://127.0.0.1:8801'])).toThrow('the gateway URL must start with ws:// or wss://, got "http://127.0.0.1:8801"');
  });

  it('gateway --redis and proxy --to accept host:port, as real processes', { timeout: 40_000 }, async () => {
    redis = await startRedis();
    const env = { LIFELINE_SECRET: 'a-secret-of-at-least-16-chars' };
    const gateway = spawnCli(['gateway', '--port', '0', '--redis', `127.0.0.1:${redis.port}`], { env });
    const [banner, gatewayUrl] = await gateway.waitForOutput(/listening on (ws:\/\/\S+) .*\n/);
    expect(banner).toContain(`log on Redis redis://127.0.0.1:${redis.port})`);
    const hostPort = new URL(gatewayUrl ?? '').host;

    const proxy = spawnCli(['proxy', '--to', hostPort, '--port', '0']);
    const [, proxyUrl] = await proxy.waitForOutput(/listening on (ws:\/\/\S+) -> (\S+)/);
    expect(proxy.output.stdout).toContain(`-> ${hostPort}`);
    await join(proxyUrl ?? '');
  });

  it('a --redis value that is neither a URL nor host:port says both forms', async () => {
    const { run } = await import('../../src/cli/gateway-command.js');
    const { code, stderr } = await captureStderr(() => run(['--port', '0', '--redis', 'http://127.0.0.1:6379', '--secret', 'a-secret-of-at-least-16-chars']));
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('agent-lifeline gateway: --redis must be redis://host:port or host:port (comma-separated for a cluster), got "http://127.0.0.1:6379"');
  });
});
