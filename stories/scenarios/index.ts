// Every story, in the order the CLI lists them and the page offers them.
import { flakyNetwork } from './flaky-network.js';
import type { Story } from './story.js';

/** All stories. */
export const stories: readonly Story[] = [flakyNetwork];

/** The story called `name`, or undefined. */
export function findStory(name: string): Story | undefined {
  return stories.find((story) => story.name === name);
}
