// Argument parsing of `lifeline conformance`: bad input is a usage error (exit 2), never a crash.
import { describe, expect, it } from 'vitest';
import { parseConformanceArgs } from '../../src/cli/conformance-command.js';
import { targetUrl } from '../../src/conformance/context.js';

describe('lifeline conformance arguments', () => {
  it('reads the URL, agent, token, json, timeout and only', () => {
    expect(parseConformanceArgs(['ws://h:1/ws', '--agent', 'echo', '--token', 't', '--json', '--timeout', '900', '--only', 'replay, errors'])).toEqual({
      json: true,
      options: { url: 'ws://h:1/ws', agentId: 'echo', token: 't', timeoutMs: 900, only: ['replay', 'errors'] },
    });
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
    expect(targetUrl('wss://gw.example/ws?x=1', 'a b')).toBe('wss://gw.example/ws?x=1&token=a+b');
    expect(targetUrl('ws://127.0.0.1:1', undefined)).toBe('ws://127.0.0.1:1/');
  });

  it('refuses a URL that is not a WebSocket URL', () => {
    expect(() => targetUrl('http://127.0.0.1:1', undefined)).toThrow(/ws:\/\//);
  });
});
