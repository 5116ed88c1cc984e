// A mistyped flag, as a user types it, to every subcommand run as a real process: one line that
// names the flag and the one it is probably meant to be, the usage, and exit code 2. Never Node's
// parseArgs advice about positional arguments.
import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/cli/did-you-mean.js';
import { captureStderr } from '../support/busy-port.js';
import { spawnCli } from '../support/cli-process.js';

describe('did you mean', () => {
  it('counts a swap of two neighbours as one edit, and suggests only names that are close', () => {
    expect(editDistance('agnet', 'agent')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closestName('--agnet', ['--agent', '--token', '--port'])).toBe('--agent');
    expect(closestName('--prot', ['--port', '--host'])).toBe('--port');
    expect(closestName('--verbose', ['--agent', '--token', '--port'])).toBeUndefined();
    expect(closestName('gatway', ['gateway', 'start', 'inspect'])).toBe('gateway');
  });
});

const COMMANDS: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  gateway: () => import('../../src/cli/gateway-command.js'),
  inspect: () => import('../../src/cli/inspect-command.js'),
  start: () => import('../../src/cli/start-command.js'),
  proxy: () => import('../../src/cli/proxy-command.js'),
  conformance: () => import('../../src/cli/conformance-command.js'),
  story: () => import('../../src/cli/story-command.js'),
};

/** The first line, the blank line and the usage line a refusal should print. */
function refusal(stderr: string): { first: string | undefined; blank: string | undefined; usage: string | undefined } {
  const [first, blank, usage] = stderr.split('\n');
  return { first, blank, usage: usage?.split(' ').slice(0, 2).join(' ') };
}

describe('a mistyped command line', () => {
  it('as a real process: one line naming the flag or command probably meant, the usage, exit 2', { timeout: 30_000 }, async () => {
    const [flag, command] = [spawnCli(['gateway', '--port', '0', '--agnets', 'demo']), spawnCli(['gatway'])];
    expect(await flag.exited(25_000)).toBe(2);
    expect(await command.exited(25_000)).toBe(2);
    expect(refusal(flag.output.stderr)).toEqual({ first: 'agent-lifeline gateway: unknown option --agnets; did you mean --agents?', blank: '', usage: 'usage: agent-lifeline' });
    expect(refusal(command.output.stderr)).toEqual({ first: 'agent-lifeline: unknown command "gatway"; did you mean gateway?', blank: '', usage: 'usage: agent-lifeline' });
  });

  it.each([
    ['gateway', ['--agnets', 'demo'], 'unknown option --agnets; did you mean --agents?'],
    ['inspect', ['ws://127.0.0.1:9', '--agnet', 'demo'], 'unknown option --agnet; did you mean --agent?'],
    ['start', ['--gateway-prot', '0'], 'unknown option --gateway-prot; did you mean --gateway-port?'],
    ['proxy', ['--too', 'ws://127.0.0.1:9'], 'unknown option --too; did you mean --to?'],
    ['conformance', ['ws://127.0.0.1:9', '--agnet', 'demo'], 'unknown option --agnet; did you mean --agent?'],
    ['story', ['--lsit'], 'unknown option --lsit; did you mean --list?'],
    ['gateway', ['--constructor'], 'unknown option --constructor'],
    ['gateway', ['--port'], '--port needs a value'],
    ['gateway', ['now'], 'unexpected argument "now": this command takes options only'],
  ])('agent-lifeline %s %j: "%s", never parseArgs advice about positionals', async (command, args, line) => {
    const load = COMMANDS[command];
    if (!load) throw new Error(`no command ${command}`);
    const { run } = await load();
    const { code, stderr } = await captureStderr(() => run(args));
    expect({ code, ...refusal(stderr) }).toEqual({ code: 2, first: `agent-lifeline ${command}: ${line}`, blank: '', usage: 'usage: agent-lifeline' });
    expect(stderr).not.toMatch(/positional/);
  });
});
