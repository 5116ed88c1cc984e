// Every story, in the order the CLI lists them and the page offers them.
import { clientTooOld } from './client-too-old.js';
import { drainDuringDeploy } from './drain-during-deploy.js';
import { flakyNetwork } from './flaky-network.js';
import { halfOpen } from './half-open.js';
import { offlineSends } from './offline-sends.js';
import { outagePastWindow } from './outage-past-window.js';
import { rateLimited } from './rate-limited.js';
import { restartKeepsLog } from './restart-keeps-log.js';
import { restartLosesLog } from './restart-loses-log.js';
import { rollingUpgrade } from './rolling-upgrade.js';
import type { Story } from './story.js';

/** All stories. */
export const stories: readonly Story[] = [
  flakyNetwork,
  restartKeepsLog,
  restartLosesLog,
  outagePastWindow,
  rollingUpgrade,
  clientTooOld,
  rateLimited,
  halfOpen,
  drainDuringDeploy,
  offlineSends,
];

/** The story called `name`, or undefined. */
export function findStory(name: string): Story | undefined {
  return stories.find((story) => story.name === name);
}
