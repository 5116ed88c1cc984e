// `npm run chart`: write the chart as data (schema/client-chart.json) and the vectors other
// clients replay (clients/python/tests/vectors/*.json). test/vectors/vectors.test.ts checks both are current.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChartJson } from './chart-json.js';
import { renderModelVectors, renderVectors } from '../../test/vectors/render-vectors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the vectors go: beside the tests that replay them. */
export const VECTORS_DIR = 'clients/python/tests/vectors';

const chart = join(root, 'schema/client-chart.json');
writeFileSync(chart, renderChartJson());
console.log(`wrote ${chart}`);
mkdirSync(join(root, VECTORS_DIR), { recursive: true });
for (const [name, text] of Object.entries({ 'model-paths.json': renderModelVectors(), ...(await renderVectors()) })) {
  writeFileSync(join(root, VECTORS_DIR, name), text);
  console.log(`wrote ${join(VECTORS_DIR, name)}`);
}
