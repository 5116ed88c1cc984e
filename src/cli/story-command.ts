// `agent-lifeline story <name>`: run one scripted scenario against a real local gateway (behind a TCP
// fault proxy) and print its timeline as it happens; exit 1 if its expectations fail.
import { stderr, stdout } from 'node:process';
import { findStory, stories } from '../../stories/scenarios/index.js';
import { runStory } from '../../stories/support/run-story.js';
import { createStage } from '../../stories/support/stage.js';
import { createTimeline, formatEntry } from '../../stories/support/timeline.js';
import { parseCommandLine, UsageError } from './cli-options.js';

const USAGE = `usage: agent-lifeline story <name>     run a story and print its timeline
       agent-lifeline story --list     list the stories

In the inspector page (npm start) the same stories run in the browser.
`;

function listing(): string {
  const width = Math.max(...stories.map((s) => s.name.length));
  return stories.map((s) => `  ${s.name.padEnd(width)}  ${s.title}\n  ${' '.repeat(width)}  ${s.summary}\n`).join('\n');
}

/** Run the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args, { list: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`agent-lifeline story: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    stdout.write(USAGE);
    return 0;
  }
  if (parsed.values.list) {
    stdout.write(listing());
    return 0;
  }
  const [name, ...extra] = parsed.positionals;
  const story = name === undefined ? undefined : findStory(name);
  if (!story || extra.length > 0) {
    stderr.write(`${name === undefined ? '' : `agent-lifeline story: unknown story "${name}"\n\n`}${USAGE}\n${listing()}`);
    return 2;
  }

  stdout.write(`${story.title}\n${story.summary}\n\n`);
  const stage = await createStage(story.gateway);
  const timeline = createTimeline();
  const off = timeline.subscribe((entry) => stdout.write(`${formatEntry(entry)}\n`));
  try {
    const result = await runStory(story, { stage, url: stage.url, timeline });
    stdout.write(result.ok ? `\nPASS ${story.name} in ${(result.durationMs / 1000).toFixed(1)} s\n` : `\nFAIL ${story.name}: ${result.error?.message ?? 'unknown error'}\n`);
    return result.ok ? 0 : 1;
  } finally {
    off();
    await stage.close();
  }
}
