// The house rules, read from the source: folder-level imports of src/ (the layer rules and no
// cycles), file length and function length. house.test.ts holds the tree to them.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/**
 * The layer of each folder under src/: a folder may import only folders of a LOWER layer.
 * Same-layer folders are independent of each other. docs/architecture.md explains each one.
 */
export const LAYERS: Record<string, number> = {
  config: 0,
  engine: 0,
  sim: 0,
  lowp: 1,
  backends: 2,
  model: 3,
  test: 3,
  train: 4,
  rl: 5,
  run: 6,
  check: 6,
  export: 7,
  findings: 7,
  lab: 8,
  worker: 9,
  bench: 9,
  cli: 10,
  ui: 10,
  '(root)': 11,
};

export const MAX_FILE_LINES = 600;
export const MAX_FUNCTION_LINES = 120;

export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(name) && !/\.d\.ts$/.test(name)) out.push(p);
  }
  return out.sort();
}

export const isTest = (p: string): boolean => /\.test\.tsx?$/.test(p) || p.includes('/test/');

export interface ImportRef {
  spec: string;
  /** Erased at run time (`import type`, all-type named imports, `import('…')` types). */
  typeOnly: boolean;
}

/** Relative imports of a file (static imports, re-exports, dynamic import(), import types). */
export function importRefs(path: string): ImportRef[] {
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: ImportRef[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly =
        !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ spec: n.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({ spec: n.moduleSpecifier.text, typeOnly: n.isTypeOnly });
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a && ts.isStringLiteral(a)) out.push({ spec: a.text, typeOnly: false });
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push({ spec: n.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out.filter((r) => r.spec.startsWith('.'));
}

/** The file a relative import names (`x` → x.ts / x.tsx / x/index.ts), or the bare path. */
export function resolveImport(from: string, spec: string): string {
  const base = normalize(join(dirname(from), spec.replace(/\?.*$/, '')));
  for (const ext of ['', '.ts', '.tsx', '/index.ts', '/index.tsx']) {
    const p = base + ext;
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return base;
}

/** The top folder under src/ of a path (or "(root)" for files directly in src/). */
export function folderOf(root: string, path: string): string {
  const parts = relative(root, path).split(/[\\/]/);
  return parts.length > 1 ? parts[0] : '(root)';
}

/** Folder → folders it imports (tests excluded), with one example file per edge. */
export function folderGraph(root: string): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(root)) {
    if (isTest(file)) continue;
    const from = folderOf(root, file);
    for (const { spec } of importRefs(file)) {
      const target = resolveImport(file, spec);
      if (relative(root, target).startsWith('..')) continue;
      const to = folderOf(root, target);
      if (to === from) continue;
      if (!g.has(from)) g.set(from, new Map());
      if (!g.get(from)!.has(to)) g.get(from)!.set(to, relative(root, file));
    }
  }
  return g;
}

/** File → files it imports at run time (type-only imports erased), tests excluded. */
export function runtimeFileGraph(root: string): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(root)) {
    if (isTest(file)) continue;
    const edges = new Map<string, string>();
    for (const r of importRefs(file)) if (!r.typeOnly) edges.set(resolveImport(file, r.spec), file);
    g.set(file, edges);
  }
  return g;
}

/** One cycle of a graph as a path [a, b, …, a], or null. */
export function findCycle(g: Map<string, Map<string, string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const dfs = (n: string): string[] | null => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of g.get(n)?.keys() ?? []) {
      if (state.get(m) === 'open') return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = dfs(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of g.keys()) {
    if (!state.has(n)) {
      const c = dfs(n);
      if (c) return c;
    }
  }
  return null;
}

export interface LongFunction {
  path: string;
  line: number;
  name: string;
  lines: number;
}

function nameOf(n: ts.Node): string {
  if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name) return n.name.getText();
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  const p = n.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText();
  if (p && ts.isPropertyAssignment(p)) return p.name.getText();
  return '(anonymous)';
}

/** Functions (declarations, methods, arrows, function expressions) longer than `max` lines. */
export function longFunctions(path: string, max = MAX_FUNCTION_LINES): LongFunction[] {
  const text = readFileSync(path, 'utf8');
  const src = ts.createSourceFile(
    path,
    text,
    ts.ScriptTarget.Latest,
    true,
    path.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const out: LongFunction[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const start = src.getLineAndCharacterOfPosition(n.getStart(src)).line;
      const end = src.getLineAndCharacterOfPosition(n.getEnd()).line;
      if (end - start + 1 > max) out.push({ path, line: start + 1, name: nameOf(n), lines: end - start + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

export function houseReport(root: string): {
  longFiles: Array<{ path: string; lines: number }>;
  longFunctions: LongFunction[];
} {
  const files = sourceFiles(root);
  const longFiles = files
    .map((path) => ({ path, lines: readFileSync(path, 'utf8').split('\n').length }))
    .filter((f) => f.lines > MAX_FILE_LINES);
  return { longFiles, longFunctions: files.flatMap((f) => longFunctions(f)) };
}
