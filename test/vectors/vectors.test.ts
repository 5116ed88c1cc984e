// The chart as data and the vectors exported from the TypeScript code must be what the code gives
// today: clients/python runs from them, so a stale file would let the two lifecycles drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartData, renderChartJson } from '../../schema/generators/chart-json.js';
import { renderVectors } from './render-vectors.js';

const root = join(import.meta.dirname, '../..');
const stale = (file: string) => `${file} is stale: run npm run chart (then update clients/python's lifecycle table if the chart changed)`;

describe('schema/client-chart.json', () => {
  it('is current', () => {
    expect(readFileSync(join(root, 'schema/client-chart.json'), 'utf8') === renderChartJson(), stale('schema/client-chart.json')).toBe(true);
  });

  it('names every guard, so another language can implement it', () => {
    expect(chartData().transitions.filter((t) => t.guard === 'inline')).toEqual([]);
  });
});

describe('clients/python/tests/vectors', () => {
  it('are current (model-paths.json: test/model/model.test.ts)', async () => {
    for (const [name, text] of Object.entries(await renderVectors())) {
      const file = `clients/python/tests/vectors/${name}`;
      expect(readFileSync(join(root, file), 'utf8') === text, stale(file)).toBe(true);
    }
  });
});
