// Every story is a test: each runs against a real gateway behind the fault proxy and asserts its
// own outcome. On failure the story's timeline is printed, so the report reads like the CLI.
import { afterEach, describe, expect, it } from 'vitest';
import { stories } from '../../stories/scenarios/index.js';
import { runStory } from '../../stories/support/run-story.js';
import { createStage, type Stage } from '../../stories/support/stage.js';
import { formatEntry } from '../../stories/support/timeline.js';

let stage: Stage | undefined;

afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

describe('stories', () => {
  it('have unique names and say what they show', () => {
    const names = stories.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const story of stories) expect(story.summary.length, story.name).toBeGreaterThan(40);
  });

  for (const story of stories) {
    it(`${story.name}: ${story.title}`, async () => {
      stage = await createStage(story.gateway);
      const result = await runStory(story, { stage, url: stage.url });
      const transcript = result.timeline.entries.map(formatEntry).join('\n');
      expect(result.error, `${story.name} failed:\n${transcript}`).toBeUndefined();
      expect(result.ok).toBe(true);
    });
  }
});
