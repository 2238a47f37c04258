// The house rules, read from the source: folder-level imports of src/ (the layer rules and no
// cycles), file length and function length. house.test.ts holds the tree to them.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

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

/** Relative import specifiers of a file (static imports, re-exports, dynamic import()). */
export function importsOf(path: string): string[] {
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier)
    ) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a && ts.isStringLiteral(a)) out.push(a.text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push(n.argument.literal.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out.filter((s) => s.startsWith('.'));
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
    for (const spec of importsOf(file)) {
      const target = normalize(join(dirname(file), spec));
      if (relative(root, target).startsWith('..')) continue;
      const to = folderOf(root, target);
      if (to === from) continue;
      if (!g.has(from)) g.set(from, new Map());
      if (!g.get(from)!.has(to)) g.get(from)!.set(to, relative(root, file));
    }
  }
  return g;
}

/** One cycle of the folder graph as a path [a, b, …, a], or null. */
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
