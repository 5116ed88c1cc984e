// The import graph of the code that ships (src/, machines/, stories/) has no cycles, type-only
// imports included, never reaches test/, the client, gateway and protocol never import the
// testing kit, and each folder imports only what docs/ARCHITECTURE.md says it may. dpdm reads it
// with TypeScript's own parser and this repository's tsconfig (NodeNext: './x.js' names
// './x.ts'); `transform: false` keeps `import type` edges. A relative
// import it cannot resolve fails the test too, so a resolver gap cannot hide a cycle. The Python
// client's graph is checked by clients/python/tests/test_import_graph.py.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCircular, parseDependencyTree, type Dependency, type DependencyTree } from 'dpdm';
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

/** The shipped graph, read once for every test here. */
let shipped: Promise<DependencyTree> | undefined;
const shippedGraph = (): Promise<DependencyTree> => (shipped ??= importGraph(REPO, SHIPPED));

/**
 * Who may import whom (docs/ARCHITECTURE.md): the first rule whose `from` a file starts with rules
 * its imports of our own code, which must start with one of `may` and none of `never`.
 */
const FOLDER_RULES: ReadonlyArray<{ readonly from: string; readonly may: readonly string[]; readonly never?: readonly string[] }> = [
  { from: 'src/protocol/', may: ['src/protocol/'] },
  { from: 'machines/', may: ['machines/', 'src/protocol/'] },
  { from: 'src/client/', may: ['src/client/', 'machines/', 'src/protocol/'] },
  { from: 'src/conformance/', may: ['src/conformance/', 'src/protocol/'] },
  // The Redis fleet implements the gateway's seams and uses nothing else of it.
  { from: 'src/server/redis/', may: ['src/server/redis/', 'src/server/event-log.ts', 'src/server/fleet.ts', 'src/server/session-caps.ts', 'src/server/clock.ts', 'src/protocol/'] },
  // The HTTP binding makes GatewaySockets for the same accept as the WebSocket, and relays a
  // POST for another node's stream through the fleet seam's ConnectionRelay.
  { from: 'src/server/http/', may: ['src/server/http/', 'src/server/transport.ts', 'src/server/upgrade-info.ts', 'src/server/fleet.ts', 'src/protocol/'] },
  { from: 'src/server/dialects/', may: ['src/server/dialects/', 'src/protocol/'] },
  // The entry point names createRedisFleet for apps; the gateway itself runs on the seams only.
  { from: 'src/server/index.ts', may: ['src/server/', 'src/protocol/'] },
  { from: 'src/server/', may: ['src/server/', 'src/protocol/'], never: ['src/server/redis/'] },
  { from: 'src/testing/', may: ['src/testing/', 'src/client/', 'src/server/', 'src/protocol/'] },
  { from: 'stories/', may: ['stories/', 'machines/', 'src/client/', 'src/server/', 'src/protocol/', 'src/testing/'] },
  { from: 'src/cli/', may: ['src/cli/', 'src/protocol/', 'src/server/', 'src/conformance/', 'src/testing/', 'stories/'] },
];

/** The imports of ours that break FOLDER_RULES, and our files no rule covers. */
function folderRuleBreaks(tree: DependencyTree): { readonly broken: string[]; readonly unruled: string[] } {
  const ours = /^(src|machines|stories)\//;
  const broken: string[] = [];
  const unruled: string[] = [];
  for (const [file, deps] of Object.entries(tree)) {
    if (!ours.test(file)) continue;
    const rule = FOLDER_RULES.find((r) => file.startsWith(r.from));
    if (!rule) {
      unruled.push(file);
      continue;
    }
    for (const dep of deps ?? []) {
      const target = dep.id;
      if (target === null || !ours.test(target)) continue;
      if (!rule.may.some((p) => target.startsWith(p)) || (rule.never ?? []).some((p) => target.startsWith(p))) broken.push(`${file} -> ${target}`);
    }
  }
  return { broken, unruled };
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
    const tree = await shippedGraph();
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

  it('keeps each folder to what it may import', { timeout: 60_000 }, async () => {
    expect(folderRuleBreaks(await shippedGraph())).toEqual({ broken: [], unruled: [] });
  });

  it('reports an import a folder rule forbids (the check can fail)', () => {
    const edge = (id: string) => ({ issuer: '', request: '', kind: 'StaticImport', id }) as unknown as Dependency;
    const tree: DependencyTree = {
      'src/server/gateway.ts': [edge('src/server/redis/redis-log.ts'), edge('src/server/fleet.ts')],
      'src/server/redis/redis-log.ts': [edge('src/server/fanout.ts'), edge('src/server/event-log.ts')],
      'src/client/facade.ts': [edge('src/server/gateway.ts')],
    };
    expect(folderRuleBreaks(tree).broken).toEqual([
      'src/server/gateway.ts -> src/server/redis/redis-log.ts',
      'src/server/redis/redis-log.ts -> src/server/fanout.ts',
      'src/client/facade.ts -> src/server/gateway.ts',
    ]);
  });
});
