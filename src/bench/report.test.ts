import { describe, expect, it } from 'vitest';
import { parseArgs } from './args';
import {
  formatMarkdown,
  formatTable,
  makeFilter,
  overallTiming,
  REQUIRED_CASE_KEYS,
  tableRows,
  type BenchReport,
  type CaseResult,
} from './report';

function fakeCase(over: Partial<CaseResult> = {}): CaseResult {
  return {
    name: 'matmul_f32_1024',
    group: 'matmul',
    shape: 'C[1024×1024] = A · B',
    ms: 100,
    gflops: 21.47,
    peer: {
      name: 'tfjs-webgpu',
      ms: 200,
      gflops: 10.7,
      timing: 'gpu-timestamp',
      wall_ms: 210,
      samples: 3,
      reps: 1,
      spread: 0.01,
    },
    ratio: 2,
    timing: 'gpu-timestamp',
    wall_ms: 105,
    samples: 3,
    reps: 1,
    spread: 0.02,
    flops: 2 * 1024 ** 3,
    bytes: 12 * 2 ** 20,
    bytes_kind: 'compulsory',
    gbps: 0.13,
    ...over,
  };
}

function fakeReport(cases: CaseResult[]): BenchReport {
  return {
    adapter: 'test adapter',
    timing: overallTiming(cases),
    peer_library: 'tfjs',
    features: [],
    quick: true,
    filter: null,
    started: '2025-01-01T00:00:00Z',
    wall_s: 1,
    cases,
    errors: [],
  };
}

describe('bench report', () => {
  it('serializes to the acceptance JSON shape', () => {
    const r = fakeReport([fakeCase(), fakeCase({ name: 'moe_layer_fwd', peer: null, ratio: null })]);
    const back = JSON.parse(JSON.stringify(r));
    expect(typeof back.adapter).toBe('string');
    expect(Array.isArray(back.cases)).toBe(true);
    for (const c of back.cases) {
      for (const k of REQUIRED_CASE_KEYS) expect(c).toHaveProperty(k);
      expect(typeof c.name).toBe('string');
      expect(typeof c.ms).toBe('number');
      expect(typeof c.gflops).toBe('number');
      if (c.peer !== null) {
        expect(Object.keys(c.peer)).toEqual(expect.arrayContaining(['name', 'ms', 'gflops']));
        expect(c.ratio).toBeCloseTo(c.peer.ms / c.ms);
      } else expect(c.ratio).toBeNull();
    }
  });

  it('labels the timing of the whole report', () => {
    expect(overallTiming([fakeCase()])).toBe('gpu-timestamp');
    expect(overallTiming([fakeCase(), fakeCase({ timing: 'wall', peer: null })])).toBe('mixed');
    expect(overallTiming([])).toBe('wall');
  });

  it('prints a table with every case, the adapter and the census', () => {
    const step = fakeCase({
      name: 'train_step_micro-dense',
      tokens_per_s: 5000,
      census: {
        dispatches: 150,
        submits: 1,
        bound_bytes: 2 ** 20,
        phases: { forward: 40, backward: 70, optimizer: 40 },
        kernels: { 'matmul:main': 45 },
      },
      peer_dispatches: 700,
    });
    const text = formatTable(fakeReport([fakeCase(), step]));
    expect(text).toContain('adapter: test adapter');
    expect(text).toContain('matmul_f32_1024');
    expect(text).toContain('2.00×');
    expect(text).toContain('150 vs 700');
    expect(text).toContain('forward 40, backward 70, optimizer 40');
    const rows = tableRows(fakeReport([fakeCase()]));
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.length === rows[0].length)).toBe(true);
  });

  it('prints a Markdown table for the docs', () => {
    const md = formatMarkdown(fakeReport([fakeCase()])).split('\n');
    expect(md[0]).toContain('**test adapter**');
    expect(md[2]).toMatch(/^\| case \| ms \|/);
    expect(md[3]).toMatch(/^\| :-- \| --: \|/);
    expect(md[4]).toContain('| matmul_f32_1024 |');
    expect(md[4]).toContain('2.00×');
  });

  it('filters by substrings or a regex', () => {
    const f = makeFilter('matmul_f32_256, train_step_micro-dense');
    expect(f('matmul_f32_256')).toBe(true);
    expect(f('train_step_micro-dense')).toBe(true);
    expect(f('matmul_f32_2048')).toBe(false);
    const re = makeFilter('/^attention_m(h|l)a_fwd_128$/');
    expect(re('attention_mla_fwd_128')).toBe(true);
    expect(re('attention_mla_fwdbwd_128')).toBe(false);
    expect(makeFilter(null)('anything')).toBe(true);
  });

  it('parses the command line', () => {
    expect(parseArgs([])).toMatchObject({ json: false, quick: false, filter: null });
    expect(parseArgs(['--json', '--quick', '--filter', 'a,b'])).toMatchObject({
      json: true,
      quick: true,
      filter: 'a,b',
    });
    expect(parseArgs(['--filter=x', '--deadline=60', '--limit', '90'])).toMatchObject({
      filter: 'x',
      deadlineS: 60,
      limitS: 90,
    });
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown argument/);
    expect(() => parseArgs(['--filter'])).toThrow(/needs a value/);
  });
});
