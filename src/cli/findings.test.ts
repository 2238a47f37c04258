// `lab findings` as a user runs it: one JSON line per finding with the card's fields and a
// summary line; the README table with --markdown; bad flags end in one line and exit code 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOW_MS } from '../test/timeouts';

function lab(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './scripts/register-raw.mjs', 'src/cli/main.ts', ...args],
    { encoding: 'utf8', timeout: SLOW_MS },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof lab>, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

describe('CLI findings', () => {
  it('--quick --json: a line per finding with its verdict, then the summary (DualPipe, accumulation on the GPU)', () => {
    const r = lab('findings', '--quick', '--only', 'dualpipe,accumulation', '--json');
    expect(r.code, r.err).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const [dp, acc, done] = lines;
    expect(dp.finding).toBe('dualpipe');
    expect(acc.finding).toBe('accumulation');
    for (const l of [dp, acc]) {
      for (const k of ['finding', 'claim', 'paper', 'lab', 'rule', 'verdict', 'seeds', 'seconds'])
        expect(l, `${l.finding} ${k}`).toHaveProperty(k);
      expect(['reproduced', 'not reproduced', 'inconclusive']).toContain(l.verdict);
      expect(l.quick).toBe(true);
      for (const arm of Object.values(l.lab) as Array<
        Record<string, { mean: number; std: number; per_seed: number[] }>
      >)
        for (const s of Object.values(arm)) {
          expect(typeof s.mean).toBe('number');
          expect(typeof s.std).toBe('number');
          expect(Array.isArray(s.per_seed)).toBe(true);
        }
    }
    expect(dp.verdict).toBe('reproduced');
    expect(dp.seeds).toEqual([1, 2, 3]);
    expect(acc.seeds).toEqual([1, 2]);
    expect(acc.lab['K=4096'].limited_trunc.per_seed).toHaveLength(2);
    expect(done).toEqual({
      done: true,
      reproduced: lines.slice(0, 2).filter((l) => l.verdict === 'reproduced').length,
      of: 2,
    });
    // Progress goes to stderr, never stdout.
    expect(r.err).toMatch(/\[findings\] dualpipe/);
  });

  it('--seeds N runs seeds 1 … N; --markdown prints the README table', () => {
    const r = lab('findings', '--only', 'dualpipe', '--seeds', '2', '--markdown');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\| Finding \| Paper \|/);
    expect(r.out).toMatch(
      /\| DualPipe: bubbles and memory as in the table \| V3 §3\.2\.1, Table 2 \|.*\(2 seeds\) \| ✅ reproduced \|/,
    );
    expect(r.out).toMatch(/Full run on simulator \(no GPU\)/);
  });

  it('--table: the README table from lines saved by --json runs, one card per file; bad files named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v3lab-table-'));
    const dp = join(dir, 'dualpipe.jsonl');
    const saved = lab('findings', '--only', 'dualpipe', '--seeds', '2', '--json');
    expect(saved.code, saved.err).toBe(0);
    writeFileSync(dp, saved.out);
    const gpuLine = (adapter: string) =>
      `${JSON.stringify({ finding: 'mla', lab_figure: 'MLA figure X', verdict: 'not reproduced', quick: false, seconds: 12.5, adapter })}\n`;
    const mla = join(dir, 'mla.jsonl');
    writeFileSync(mla, gpuLine('GPU A'));
    const r = lab('findings', '--table', mla, '--table', dp);
    expect(r.code, r.err).toBe(0);
    const rows = r.out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Finding'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| MLA shrinks the KV cache \|.*\| MLA figure X \| ❌ not reproduced \|$/);
    expect(rows[1]).toMatch(/^\| DualPipe: .*\(2 seeds\) \| ✅ reproduced \|$/);
    // The GPU's name, not the simulator's; one of two reproduced.
    expect(r.out).toMatch(/Full run on GPU A, \d{4}-\d\d-\d\d: 1 of 2 reproduced/);

    const other = join(dir, 'other.jsonl');
    writeFileSync(other, gpuLine('GPU B').replace('"mla"', '"fp8"'));
    expectOneLineError(lab('findings', '--table', mla, '--table', other), /--table: the rows come from 2 adapters/);
    expectOneLineError(lab('findings', '--table', mla, '--table', mla), /--table: finding "mla" appears twice/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, gpuLine('GPU A').replace('"not reproduced"', '"maybe"'));
    expectOneLineError(lab('findings', '--table', bad), /--table: .*bad\.jsonl line 1: verdict: /);
    writeFileSync(bad, 'oops\n');
    expectOneLineError(lab('findings', '--table', bad), /--table: .*bad\.jsonl line 1: not JSON/);
    expectOneLineError(lab('findings', '--table', join(dir, 'none')), /--table: cannot read .*none: it does not exist/);
    expectOneLineError(
      lab('findings', '--table', mla, '--json'),
      /--table prints saved results and runs nothing: drop --json/,
    );
  });

  it('bad flags: one line, exit code 2', () => {
    expectOneLineError(lab('findings', '--only', 'nope'), /--only: unknown finding "nope" \(findings: .*dualpipe/);
    expectOneLineError(lab('findings', '--only', 'mla,mla'), /--only: finding "mla" is given twice/);
    expectOneLineError(lab('findings', '--seeds', '0'), /--seeds: 0 must be ≥ 1/);
    expectOneLineError(lab('findings', '--seeds', 'three'), /--seeds: "three" is not an integer/);
    expectOneLineError(lab('findings', '--seeds', '1,2'), /--seeds: "1,2" is not an integer/);
    expectOneLineError(lab('findings', '--json', '--markdown'), /--json and --markdown exclude each other/);
    expectOneLineError(lab('findings', '--bogus'), /bogus/);
    expectOneLineError(lab('findings', '--backend', 'tpu'), /--backend: "tpu" is not one of webgpu, cpu/);
  });
});
