// Start-up failures a new user hits first: a busy port or an address the machine does not have.
// createGateway rejects with a typed error (never an unhandled 'error' that kills the process),
// and the CLI prints one line and exits 2. Ports are really held by another socket.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/gateway-command.js';
import { createGateway, GatewayError } from '../../src/server/index.js';
import { busyPort, captureStderr } from '../support/busy-port.js';
import { spawnCli } from '../support/cli-process.js';

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!(error instanceof GatewayError)) throw error;
  return error;
}

describe('start-up failures', () => {
  it('a busy port rejects createGateway with address_in_use, the port and a next step', async () => {
    const port = await busyPort();
    const error = await rejection(createGateway({ port, logger: false }));
    expect(error).toMatchObject({ code: 'address_in_use', port });
    expect(error.message).toContain(String(port));
    expect(error.nextStep).toMatch(/port 0/);
    // The process is still fine: the same call on a free port works.
    const gateway = await createGateway({ port: 0, logger: false });
    await gateway.close();
  });

  it('an address this machine does not have rejects with address_unavailable', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a local interface.
    const error = await rejection(createGateway({ host: '192.0.2.1', port: 0, logger: false }));
    expect(error).toMatchObject({ code: 'address_unavailable', port: 0 });
    expect(error.nextStep).toContain('127.0.0.1');
  });

  it('agent-lifeline gateway on a busy port prints one line and exits 2', { timeout: 30_000 }, async () => {
    const port = await busyPort();
    const cli = spawnCli(['gateway', '--port', String(port)]);
    expect(await cli.exited()).toBe(2);
    const lines = cli.output.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^agent-lifeline gateway: Port ${port} on 127.0.0.1 is already in use\\. Stop .*choose another port`));
    expect(cli.output.stdout).toBe('');
  });

  it.each([
    [['--port', '-1'], /--port must be a port number from 0 to 65535 .*got "-1"/],
    [['--port', '70000'], /--port must be a port number .*got "70000"/],
    [['--log-level', 'loud'], /--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/],
  ])('agent-lifeline gateway %j says what is wrong and exits 2', async (args, message) => {
    const { code, stderr } = await captureStderr(() => run(args));
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(message);
  });
});
