// The `agent-lifeline` command. Each subcommand lives in its own module and is loaded on demand,
// so `agent-lifeline gateway` never loads the browser inspector and vice versa.
import { argv, exit, stderr } from 'node:process';
import { closestName } from './did-you-mean.js';

const commands: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  gateway: { summary: 'run a reference gateway (--port --agents --tick --protocol 1..2 --replay-window --heartbeat-ms)', load: () => import('./gateway-command.js') },
  conformance: { summary: 'check a gateway against the protocol: agent-lifeline conformance ws://host:port --agent ID', load: () => import('./conformance-command.js') },
  story: { summary: 'run a scripted scenario and print its timeline: agent-lifeline story <name>', load: () => import('./story-command.js') },
  start: { summary: 'local gateway + demo agent + live inspector page', load: () => import('./start-command.js') },
  inspect: { summary: 'the live inspector page for any gateway: agent-lifeline inspect ws://host:port --agent ID [--token T]', load: () => import('./inspect-command.js') },
  proxy: { summary: 'a TCP fault proxy in front of a gateway: agent-lifeline proxy --to ws://127.0.0.1:8790 --port 8791', load: () => import('./proxy-command.js') },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['usage: agent-lifeline <command> [options]   (agent-lifeline <command> --help for its options)', '', ...rows, ''].join('\n');
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    stderr.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    const guess = closestName(name, Object.keys(commands));
    stderr.write(`agent-lifeline: unknown command "${name}"${guess === undefined ? '' : `; did you mean ${guess}?`}\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

main(argv.slice(2)).then(
  (code) => {
    // Commands that keep serving (gateway, start) never resolve; the rest set their exit code.
    exit(code);
  },
  (error: unknown) => {
    stderr.write(`agent-lifeline: ${error instanceof Error ? error.message : String(error)}\n`);
    exit(1);
  },
);
