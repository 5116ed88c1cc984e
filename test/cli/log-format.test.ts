// The CLI's logs: lines a person reads by default, next to the banner; pino's JSON lines with
// --log-format json. Run as real processes, as `agent-lifeline gateway` is started by a user.
import { describe, expect, it } from 'vitest';
import { humanLogLine } from '../../src/cli/human-log.js';
import { spawnCli } from '../support/cli-process.js';

describe('human log lines', () => {
  it('lead with the local time and level, then the message and the fields', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
    const record = { level: 40, time, pid: 1, hostname: 'h', component: 'gateway', session: 's-1', why: 'two words', range: { min: 1 }, msg: 'session history moved' };
    expect(humanLogLine(`${JSON.stringify(record)}\n`)).toBe('03:04:05.067 warn  session history moved session=s-1 why="two words" range={"min":1}\n');
    expect(humanLogLine('not json')).toBe('not json\n');
  });
});

describe('agent-lifeline gateway logs', () => {
  it('are human lines by default and JSON lines with --log-format json', { timeout: 30_000 }, async () => {
    const [human, json] = [spawnCli(['gateway', '--port', '0', '--log-level', 'info']), spawnCli(['gateway', '--port', '0', '--log-level', 'info', '--log-format', 'json'])];
    await Promise.all([human.waitForOutput(/listening on/), json.waitForOutput(/listening on/)]);
    // The log line is written before the banner, so it is on stderr by now.
    const [humanLine] = human.output.stderr.split('\n');
    expect(humanLine).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info {2}gateway listening port=\d+ host=127\.0\.0\.1 protocol=\{"min":1,"max":2\}$/);
    const [jsonLine] = json.output.stderr.split('\n');
    expect(JSON.parse(jsonLine ?? '')).toMatchObject({ level: 30, component: 'gateway', msg: 'gateway listening', host: '127.0.0.1' });
  });

  it('print where the HTTP binding, /health and /metrics are, under the banner', { timeout: 30_000 }, async () => {
    const gateway = spawnCli(['gateway', '--port', '0']);
    const [, wsUrl, httpUrl, health, metrics] = await gateway.waitForOutput(/listening on (ws:\/\/\S+) .*\n {2}over HTTP \(SSE down, POST up\): (\S+) {3}health: (\S+) {3}metrics: (\S+)\n/);
    expect(httpUrl).toBe((wsUrl ?? '').replace('ws://', 'http://'));
    expect((await fetch(health ?? '')).status).toBe(200);
    expect(await (await fetch(metrics ?? '')).text()).toContain('lifeline_');
  });

  it('--websocket-only turns the HTTP binding off and says so under the banner', { timeout: 30_000 }, async () => {
    const gateway = spawnCli(['gateway', '--port', '0', '--websocket-only']);
    const [, wsUrl] = await gateway.waitForOutput(/listening on (ws:\/\/\S+) .*\n {2}HTTP binding off \(--websocket-only\) {3}health: \S+/);
    const answer = await fetch(`${(wsUrl ?? '').replace('ws://', 'http://')}?hello=%7B%7D`, { headers: { accept: 'text/event-stream' } });
    expect(answer.status).toBe(426);
  });
});
