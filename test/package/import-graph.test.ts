// The import graph of the code that ships (src/, machines/, stories/) has no cycles, type-only
// imports included, never reaches test/, and the client, gateway and protocol never import the
// testing kit. dpdm reads it with TypeScript's own parser and this repository's tsconfig
// (NodeNext: './x.js' names './x.ts'); `transform: false` keeps `import type` edges. A relative
// import it cannot resolve fails the test too, so a resolver gap cannot hide a cycle. The Python
// client's graph is checked by clients/python/tests/test_import_graph.py.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

const REPO = resolve('.');
const SHIPPED = ['src/**/*.ts', 'machines/**/*.ts', 'stories/**/*.ts'];

/** The graph of `entries` under `root`, paths relative to it. */
function importGraph(root: string, entries: readonly string[]): Promise<DependencyTree> {
  return parseDependencyTree([...entries], {
    cwd: root,
    context: root,
    tsconfig: join(root, 'tsconfig.json'),
    transform: false,
    skipDynamicImports: false,
  });
}

/** Imports of our own files (relative specifiers) that did not resolve to a file. */
function unresolved(tree: DependencyTree): string[] {
  return Object.entries(tree).flatMap(([file, deps]) => (deps ?? []).filter((d) => d.request.startsWith('.') && d.id === null).map((d) => `${file} -> ${d.request}`));
}

describe('import graph', () => {
  it('finds a type-only cycle through .js specifiers (the check can fail)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lifeline-cycle-'));
    try {
      writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
      writeFileSync(join(root, 'types.ts'), "import type { Link } from './link.js';\nexport interface Options { readonly link: Link }\n");
      writeFileSync(join(root, 'link.ts'), "import type { Options } from './types.js';\nexport interface Link { readonly options: Options }\n");
      const tree = await importGraph(root, ['*.ts']);
      expect(unresolved(tree)).toEqual([]);
      expect(parseCircular(tree).map((cycle) => [...cycle].sort())).toEqual([['link.ts', 'types.ts']]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('of src/, machines/ and stories/ has no cycles and never reaches test/', { timeout: 60_000 }, async () => {
    const tree = await importGraph(REPO, SHIPPED);
    expect(Object.keys(tree).length).toBeGreaterThan(100);
    expect(unresolved(tree)).toEqual([]);
    expect(parseCircular(tree).map((cycle) => cycle.join(' -> '))).toEqual([]);
    const intoTests = Object.entries(tree).flatMap(([file, deps]) => (deps ?? []).filter((d) => d.id?.startsWith('test/') === true).map((d) => `${file} -> ${d.request}`));
    expect(intoTests).toEqual([]);
    // The testing kit runs the client and the gateway; neither of them (nor the protocol) imports it.
    const product = /^(src\/(client|server|protocol)|machines)\//;
    const intoKit = Object.entries(tree).flatMap(([file, deps]) => (product.test(file) ? (deps ?? []).filter((d) => d.id?.startsWith('src/testing/') === true).map((d) => `${file} -> ${d.request}`) : []));
    expect(intoKit).toEqual([]);
  });
});
