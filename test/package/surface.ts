// The package's public surface, read from its declaration files as a consumer's compiler sees
// them: every name each entry exports (value, type or both), and every type of ours that an
// exported declaration mentions but no entry exports (a consumer could see it in a hover or an
// error, and never name it). test/package/install.test.ts checks the packed package against the
// lists in test/package/exports/; run this file to rewrite them after a deliberate change:
//   npx tsx test/package/surface.ts --write
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** The package's entries: `exports` keys, named by their folder under src/. */
export const ENTRIES = ['client', 'protocol', 'server', 'testing'] as const;
export type Entry = (typeof ENTRIES)[number];

/** How many runtime values an entry may export (the guide); the protocol's are its contract. */
export const VALUE_BUDGET: Readonly<Record<Entry, number>> = { client: 20, protocol: Infinity, server: 30, testing: 10 };

const REPO = resolve('.');
const LISTS = join(REPO, 'test', 'package', 'exports');

export interface Surface {
  /** Per entry, one line per exported name, sorted: `name: value`, `name: type` or `name: value, type`. */
  readonly exports: Readonly<Record<Entry, readonly string[]>>;
  /** `Type (file) <- entry:Export`: a type of ours in an exported declaration that no entry exports. */
  readonly unexported: readonly string[];
  /** `entry:Export`: an export whose declaration carries no doc comment. */
  readonly undocumented: readonly string[];
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(REPO, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!parsed) throw new Error('cannot read tsconfig.json');
  // `paths` maps the package's own name to src/ for the repo's tests; a consumer has no such map.
  const { paths: _paths, ...options } = parsed.options;
  return { ...options, skipLibCheck: true };
}

/** Whether an export is type-only (`export type { X }`), whatever X is. */
function typeOnly(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some((d) => (ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly)) || ts.isTypeOnlyImportOrExportDeclaration(d));
}

function kinds(symbol: ts.Symbol, target: ts.Symbol): string {
  const value = (target.flags & ts.SymbolFlags.Value) !== 0 && !typeOnly(symbol);
  const type = (target.flags & ts.SymbolFlags.Type) !== 0;
  return [value ? 'value' : '', type ? 'type' : ''].filter((k) => k !== '').join(', ');
}

/** The name a type-position node refers to, if it names one. */
function referencedName(node: ts.Node): ts.Node | undefined {
  const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression : ts.isTypeQueryNode(node) ? node.exprName : ts.isImportTypeNode(node) ? node.qualifier : undefined;
  if (name === undefined) return undefined;
  return ts.isQualifiedName(name) ? name.right : ts.isPropertyAccessExpression(name) ? name.name : name;
}

/** Read the surface of the declarations under `dist` (a build's output: dist/src/<entry>/index.d.ts). */
export function readSurface(dist: string): Surface {
  const files = ENTRIES.map((entry) => join(dist, 'src', entry, 'index.d.ts'));
  const program = ts.createProgram(files, { ...compilerOptions(), noEmit: true });
  const checker = program.getTypeChecker();
  const resolveAlias = (symbol: ts.Symbol): ts.Symbol => ((symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol);

  const byEntry = new Map<Entry, ts.Symbol[]>();
  const exported = new Set<ts.Symbol>();
  ENTRIES.forEach((entry, i) => {
    const source = program.getSourceFile(files[i] ?? '');
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`no declarations for ${entry} under ${dist}`);
    const symbols = checker.getExportsOfModule(module);
    byEntry.set(entry, symbols);
    for (const symbol of symbols) exported.add(resolveAlias(symbol));
  });

  const unexported = new Set<string>();
  const undocumented: string[] = [];
  for (const [entry, symbols] of byEntry) {
    for (const symbol of symbols) {
      if (resolveAlias(symbol).getDocumentationComment(checker).length === 0) undocumented.push(`${entry}:${symbol.name}`);
      for (const declaration of resolveAlias(symbol).declarations ?? []) {
        const visit = (node: ts.Node): void => {
          const name = referencedName(node);
          const found = name && checker.getSymbolAtLocation(name);
          const target = found && resolveAlias(found);
          const where = target?.declarations?.[0];
          if (target && where && (target.flags & ts.SymbolFlags.TypeParameter) === 0 && !exported.has(target)) {
            const file = where.getSourceFile();
            const ours = file.fileName.startsWith(dist);
            const local = file === declaration.getSourceFile() && where.pos >= declaration.pos && where.end <= declaration.end;
            if (ours && !local) unexported.add(`${target.name} (${relative(dist, file.fileName)}) <- ${entry}:${symbol.name}`);
          }
          ts.forEachChild(node, visit);
        };
        visit(declaration);
      }
    }
  }

  const exports = Object.fromEntries(
    ENTRIES.map((entry) => [entry, (byEntry.get(entry) ?? []).map((s) => `${s.name}: ${kinds(s, resolveAlias(s))}`).sort((a, b) => a.localeCompare(b, 'en'))]),
  ) as Record<Entry, string[]>;
  return { exports, unexported: [...unexported].sort(), undocumented: undocumented.sort() };
}

/** The committed list of an entry, without its comment lines. */
export function committedList(entry: Entry): string[] {
  return readFileSync(join(LISTS, `${entry}.txt`), 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** How many of an entry's lines export a runtime value. */
export function valueCount(lines: readonly string[]): number {
  return lines.filter((line) => /: value/.test(line)).length;
}

const IMPORT: Readonly<Record<Entry, string>> = { client: 'agent-lifeline', protocol: 'agent-lifeline/protocol', server: 'agent-lifeline/server', testing: 'agent-lifeline/testing' };

/** Emit this checkout's declarations into a scratch folder, read the surface there, and write the lists. */
function write(): void {
  mkdirSync(join(REPO, '.scratch'), { recursive: true });
  const out = mkdtempSync(join(REPO, '.scratch', 'surface-'));
  try {
    const roots = ENTRIES.map((entry) => join(REPO, 'src', entry, 'index.ts'));
    const program = ts.createProgram(roots, { ...compilerOptions(), noEmit: false, declaration: true, emitDeclarationOnly: true, sourceMap: false, declarationMap: false, outDir: join(out, 'dist'), rootDir: REPO });
    const emitted = program.emit();
    if (emitted.emitSkipped) throw new Error('declaration emit failed; run npm run typecheck');
    const surface = readSurface(join(out, 'dist'));
    mkdirSync(LISTS, { recursive: true });
    for (const entry of ENTRIES) {
      const lines = surface.exports[entry];
      const header = `# ${IMPORT[entry]}: every exported name (${valueCount(lines)} values). Written by npx tsx test/package/surface.ts --write.\n`;
      writeFileSync(join(LISTS, `${entry}.txt`), `${header}${lines.join('\n')}\n`);
      console.log(`${IMPORT[entry]}: ${lines.length} names, ${valueCount(lines)} values (budget ${VALUE_BUDGET[entry]})`);
    }
    for (const line of surface.unexported) console.log(`not exported: ${line}`);
    for (const line of surface.undocumented) console.log(`no doc comment: ${line}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv.includes('--write')) write();
