// Argument parsing of `agent-lifeline conformance`: bad input is a usage error (exit 2), never a crash.
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { parseConformanceArgs, run } from '../../src/cli/conformance-command.js';
import { captureStderr } from '../support/busy-port.js';
import { targetUrl } from '../../src/conformance/context.js';

describe('agent-lifeline conformance arguments', () => {
  it('reads the URL, agent, token, json, timeout and only', () => {
    expect(parseConformanceArgs(['ws://h:1/ws', '--agent', 'echo', '--token', 't', '--json', '--timeout', '900', '--only', 'replay, errors'])).toEqual({
      json: true,
      options: { url: 'ws://h:1/ws', agentId: 'echo', token: 't', timeoutMs: 900, only: ['replay', 'errors'] },
    });
  });

  it('reads --require-http', () => {
    expect(parseConformanceArgs(['ws://h:1', '--agent', 'a', '--require-http'])).toEqual({ json: false, options: { url: 'ws://h:1', agentId: 'a', requireHttp: true } });
  });

  it.each([
    [[], /exactly one gateway URL/],
    [['ws://h:1', 'ws://h:2', '--agent', 'a'], /exactly one gateway URL/],
    [['http://h:1', '--agent', 'a'], /ws:\/\/ or wss:\/\//],
    [['ws://h:1'], /--agent is required/],
    [['ws://h:1', '--agent', 'a', '--timeout', 'soon'], /--timeout must be a positive/],
    [['ws://h:1', '--agent', 'a', '--bogus'], /bogus/],
  ])('%j is a usage error', (args, message) => {
    const parsed = parseConformanceArgs(args);
    expect('error' in parsed && parsed.error).toMatch(message);
  });
});

describe('targetUrl', () => {
  it('keeps the path and adds ?token= only when the URL has none', () => {
    expect(targetUrl('ws://127.0.0.1:1/ws', 'abc')).toBe('ws://127.0.0.1:1/ws?token=abc');
    expect(targetUrl('ws://127.0.0.1:1/ws?token=url', 'flag')).toBe('ws://127.0.0.1:1/ws?token=url');
    expect(targetUrl('wss://gw.example/ws?x=1', 'a b')).toBe('wss://gw.example/ws?x=1&token=a%20b');
    expect(targetUrl('ws://127.0.0.1:1', undefined)).toBe('ws://127.0.0.1:1/');
  });

  it('refuses a URL that is not a WebSocket URL', () => {
    expect(() => targetUrl('http://127.0.0.1:1', undefined)).toThrow(/ws:\/\//);
  });

  it('a URL where nothing answers is one line and exit 2, not a table of failures', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const { code, stderr } = await captureStderr(() => run([`ws://127.0.0.1:${port}`, '--agent', 'demo']));
    expect(code).toBe(2);
    expect(stderr).toBe(`agent-lifeline conformance: nothing answers at ws://127.0.0.1:${port} (connection refused). Start the gateway there, or check the host and port.\n`);
  });
});
