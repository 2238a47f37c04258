// The house rules, checked by reading the source (see docs/architecture.md): the layer order of
// src/'s folders, no import cycles, and the size limits on files and functions.

import { describe, expect, it } from 'vitest';
import { findCycle, folderGraph, houseReport, LAYERS, runtimeFileGraph } from './house';

const graph = folderGraph('src');

describe('house rules', () => {
  it('every folder of src/ has a layer', () => {
    const folders = new Set([...graph.keys(), ...[...graph.values()].flatMap((m) => [...m.keys()])]);
    expect([...folders].filter((f) => !(f in LAYERS))).toEqual([]);
  });

  it('folders import only lower layers', () => {
    const bad: string[] = [];
    for (const [from, tos] of graph)
      for (const [to, file] of tos) if (!(LAYERS[to] < LAYERS[from])) bad.push(`${from} → ${to} (${file})`);
    expect(bad).toEqual([]);
  });

  it('the engine, model, training and RL layers never import the lab, the page, the worker or the CLI', () => {
    const lower = ['model', 'train', 'rl', 'engine', 'backends', 'lowp', 'config'];
    const upper = ['lab', 'ui', 'worker', 'cli'];
    const bad = lower.flatMap((f) => [...(graph.get(f)?.keys() ?? [])].filter((t) => upper.includes(t)));
    expect(bad).toEqual([]);
    expect([...(graph.get('model')?.keys() ?? [])].filter((t) => t === 'train' || t === 'rl')).toEqual([]);
    expect([...(graph.get('config')?.keys() ?? [])]).toEqual([]);
  });

  it('the folder graph has no cycle', () => {
    expect(findCycle(graph)).toBeNull();
  });

  it('no two source files import each other at run time, directly or around a loop', () => {
    expect(findCycle(runtimeFileGraph('src'))).toBeNull();
  });

  it('no source file over 600 lines and no function over 120 lines (test files excepted)', () => {
    const r = houseReport('src');
    const isTestFile = (p: string) => /\.test\.tsx?$/.test(p);
    expect(r.longFiles.filter((f) => !isTestFile(f.path))).toEqual([]);
    expect(r.longFunctions.filter((f) => !isTestFile(f.path))).toEqual([]);
  });

  it('catches a cycle and an upward import when there is one', () => {
    const g = new Map([
      ['a', new Map([['b', 'a/x.ts']])],
      ['b', new Map([['a', 'b/y.ts']])],
    ]);
    expect(findCycle(g)).toEqual(['a', 'b', 'a']);
    expect(findCycle(new Map([['a', new Map([['b', 'a/x.ts']])]]))).toBeNull();
  });
});
