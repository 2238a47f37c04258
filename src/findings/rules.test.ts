// Each finding's rule on synthetic results: a case that reproduces, one that must come out
// "not reproduced" and one the figures cannot decide ("inconclusive"). Pure: no training.
import { describe, expect, it } from 'vitest';
import { applyOverrides, findPreset } from '../config';
import { accumulationRule } from './accumulation';
import { balanceRule } from './balance';
import { coldstartRule, R1, ZERO } from './coldstart';
import { distillRule } from './distill';
import { drawTimes, dualpipe, dualpipeRule } from './dualpipe';
import { fp8Rule, LOWP, mxfp4Note } from './fp8';
import { GRPO_ARM, grpoRule } from './grpo';
import { FINDING_NAMES, FINDINGS, findingLine, runFinding, seedsFor } from './index';
import { findingsMarkdown } from './markdown';
import { mlaRule, v3MlaValues } from './mla';
import { mtpRule } from './mtp';
import { decide, fixed, interval, stat } from './stats';
import type { ArmStats, FindingResult } from './types';

function result(lab: Record<string, ArmStats>, seeds = 3): FindingResult {
  return {
    finding: 'test',
    seeds: Array.from({ length: seeds }, (_, i) => i + 1),
    quick: true,
    lab,
    charts: [],
    notes: [],
    seconds: 1,
    adapter: 'test',
  };
}

describe('stats', () => {
  it('interval: ±2 SE across seeds, a fallback SE for one value, unbounded without one', () => {
    const i = interval([1, 2, 3]);
    expect(i.mean).toBe(2);
    expect(i.se).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(i.lo).toBeCloseTo(2 - 2 / Math.sqrt(3), 12);
    expect(interval([0.5], 0.1)).toMatchObject({ lo: 0.3, hi: 0.7 });
    expect(interval([0.5])).toMatchObject({ lo: -Infinity, hi: Infinity });
    expect(interval([1, NaN]).hi).toBe(Infinity);
    expect(interval([]).n).toBe(0);
  });

  it('decide: "not reproduced" wins; neither is inconclusive', () => {
    expect(decide(true, false)).toBe('reproduced');
    expect(decide(true, true)).toBe('not reproduced');
    expect(decide(false, false)).toBe('inconclusive');
  });
});

describe('balance rule', () => {
  const lab = (lf: number[], aux: number[], lfLoss = [2, 2.01, 2], auxLoss = [2, 2, 2.01]) => ({
    'loss-free': { max_vio: stat(lf), val_loss: stat(lfLoss) },
    'aux loss': { max_vio: stat(aux), val_loss: stat(auxLoss) },
  });
  it('reproduced: lower MaxVio at every seed, loss within 1%', () => {
    expect(balanceRule(result(lab([0.2, 0.25, 0.22], [0.6, 0.7, 0.65])))).toBe('reproduced');
  });
  it('not reproduced: MaxVio higher, or loss clearly more than 1% worse', () => {
    expect(balanceRule(result(lab([0.8, 0.85, 0.9], [0.4, 0.42, 0.41])))).toBe('not reproduced');
    expect(balanceRule(result(lab([0.2, 0.25, 0.22], [0.6, 0.7, 0.65], [2.1, 2.1, 2.11])))).toBe('not reproduced');
  });
  it('inconclusive: one seed, or a difference inside its noise', () => {
    expect(balanceRule(result(lab([0.2], [0.6], [2], [2]), 1))).toBe('inconclusive');
    expect(balanceRule(result(lab([0.5, 0.3, 0.62], [0.4, 0.6, 0.6])))).toBe('inconclusive');
  });
});

describe('fp8 rule', () => {
  const lab = (gap: number[]) => ({ [LOWP[0]]: { rel_gap: stat(gap) } });
  it('reproduced / not reproduced / inconclusive around 0.25%', () => {
    expect(fp8Rule(result(lab([0.0005, 0.001, -0.0002])))).toBe('reproduced');
    expect(fp8Rule(result(lab([0.012, 0.011, 0.013])))).toBe('not reproduced');
    expect(fp8Rule(result(lab([0.001, 0.006, 0.0])))).toBe('inconclusive');
    expect(fp8Rule(result(lab([0.001]), 1))).toBe('inconclusive');
  });
  it('says where MXFP4 stands against the bound', () => {
    expect(mxfp4Note({ mean: 0.02, lo: 0.015, hi: 0.025 })).toMatch(/^MXFP4 breaks the 0.25% bound/);
    expect(mxfp4Note({ mean: 0.001, lo: 0, hi: 0.002 })).toMatch(/^MXFP4 stays within 0.25%/);
    expect(mxfp4Note({ mean: 0.002, lo: -0.001, hi: 0.005 })).toMatch(/cannot be told/);
  });
});

describe('accumulation rule', () => {
  const lab = (lim: number[], pro: number[], small = [0.001, 0.001]) => ({
    'K=128': { limited_trunc: stat(small), promoted_trunc: stat(small) },
    'K=4096': { limited_trunc: stat(lim), promoted_trunc: stat(pro) },
  });
  it('reproduced: ~2–4% at K = 4096, cut ≥ 5× by promotion', () => {
    expect(accumulationRule(result(lab([0.04, 0.041], [0.0014, 0.0013]), 2))).toBe('reproduced');
  });
  it('not reproduced: no error to speak of, or promotion does not help', () => {
    expect(accumulationRule(result(lab([0.0004, 0.0005], [0.0001, 0.0001], [0.0001, 0.0001]), 2))).toBe(
      'not reproduced',
    );
    expect(accumulationRule(result(lab([0.02, 0.02], [0.03, 0.03]), 2))).toBe('not reproduced');
  });
  it('inconclusive: between the bands, or no K = 4096 row', () => {
    expect(accumulationRule(result(lab([0.003, 0.003], [0.0001, 0.0001], [0.0001, 0.0001]), 2))).toBe('inconclusive');
    expect(accumulationRule(result({}, 2))).toBe('inconclusive');
  });
});

describe('mla rule', () => {
  const lab = (mla: number, gap: number[]) => ({
    'V3 shapes': { mla_values: fixed(mla), mha_values: fixed(32768), ratio: fixed(32768 / mla) },
    MLA: { rel_gap: stat(gap) },
  });
  it('V3 caches 576 values per token per layer by the lab’s own formula', () => {
    expect(v3MlaValues()).toBe(576);
  });
  it('reproduced / not reproduced / inconclusive', () => {
    expect(mlaRule(result(lab(576, [0.003, 0.005, 0.004])))).toBe('reproduced');
    expect(mlaRule(result(lab(576, [0.06, 0.07, 0.065])))).toBe('not reproduced');
    expect(mlaRule(result(lab(1024, [0.003, 0.005, 0.004])))).toBe('not reproduced');
    expect(mlaRule(result(lab(576, [0.0, 0.05, -0.01])))).toBe('inconclusive');
  });
});

describe('mtp rule', () => {
  const lab = (acc: number[]) => ({ MTP: { acceptance: stat(acc) } });
  it('reproduced / not reproduced / inconclusive around 80% acceptance', () => {
    expect(mtpRule(result(lab([0.88, 0.86, 0.9])))).toBe('reproduced');
    expect(mtpRule(result(lab([0.7, 0.71, 0.69])))).toBe('not reproduced');
    expect(mtpRule(result(lab([0.75, 0.9, 0.82])))).toBe('inconclusive');
    expect(mtpRule(result(lab([0.88]), 1))).toBe('inconclusive');
  });
});

describe('grpo rule', () => {
  const lab = (before: number[], after: number[], n = 128) => ({
    [GRPO_ARM]: { accuracy_before: stat(before), accuracy_after: stat(after), eval_prompts: fixed(n) },
  });
  it('reproduced: a lift clear of its standard error', () => {
    expect(grpoRule(result(lab([0.3, 0.32, 0.28], [0.45, 0.48, 0.44])))).toBe('reproduced');
    // One seed: the binomial error over 128 prompts (≈ 0.06 for the difference) stands in.
    expect(grpoRule(result(lab([0.2], [0.5]), 1))).toBe('reproduced');
  });
  it('not reproduced: accuracy falls or stays put', () => {
    expect(grpoRule(result(lab([0.5, 0.52, 0.48], [0.4, 0.41, 0.39])))).toBe('not reproduced');
    expect(grpoRule(result(lab([0.5, 0.52, 0.48], [0.5, 0.52, 0.48])))).toBe('not reproduced');
  });
  it('inconclusive: a lift inside the held-out sampling error', () => {
    expect(grpoRule(result(lab([0.3], [0.34]), 1))).toBe('inconclusive');
    expect(grpoRule(result(lab([0.3, 0.3, 0.3], [0.28, 0.4, 0.36])))).toBe('inconclusive');
  });
});

describe('coldstart rule', () => {
  const lab = (r1: number[], zero: number[], f1 = 0.95, f0 = 0.6) => ({
    [R1]: { accuracy: stat(r1), format: stat(r1.map(() => f1)), eval_prompts: fixed(64) },
    [ZERO]: { accuracy: stat(zero), format: stat(zero.map(() => f0)), eval_prompts: fixed(64) },
  });
  it('reproduced / not reproduced / inconclusive', () => {
    expect(coldstartRule(result(lab([0.5, 0.55, 0.52], [0.2, 0.25, 0.22])))).toBe('reproduced');
    expect(coldstartRule(result(lab([0.1, 0.12, 0.11], [0.3, 0.32, 0.31])))).toBe('not reproduced');
    expect(coldstartRule(result(lab([0.3], [0.25]), 1))).toBe('inconclusive');
    // Better accuracy but a worse format rate is not the claim.
    expect(coldstartRule(result(lab([0.5, 0.55, 0.52], [0.2, 0.25, 0.22], 0.5, 0.9)))).toBe('inconclusive');
  });
});

describe('distill rule', () => {
  const lab = (d: number[], rl: number[]) => ({
    distill: { accuracy: stat(d), eval_prompts: fixed(128) },
    rl: { accuracy: stat(rl), eval_prompts: fixed(128) },
  });
  it('reproduced / not reproduced / inconclusive', () => {
    expect(distillRule(result(lab([0.6, 0.62, 0.58], [0.3, 0.28, 0.33])))).toBe('reproduced');
    expect(distillRule(result(lab([0.2, 0.22, 0.21], [0.4, 0.41, 0.42])))).toBe('not reproduced');
    expect(distillRule(result(lab([0.35], [0.3]), 1))).toBe('inconclusive');
  });
});

describe('dualpipe rule', () => {
  const arms = (sim: number, act = 5) => ({
    '1F1B PP=4': {
      sim_bubble: stat([9]),
      formula_bubble: stat([9]),
      activations: stat([4]),
      formula_activations: stat([4]),
      parameter_copies: stat([1]),
      formula_parameter_copies: stat([1]),
    },
    'DualPipe PP=4': {
      sim_bubble: stat([sim]),
      formula_bubble: stat([3]),
      activations: stat([act]),
      formula_activations: stat([5]),
      parameter_copies: stat([2]),
      formula_parameter_copies: stat([2]),
    },
  });
  it('reproduced when every figure matches; not reproduced on any mismatch; inconclusive when nothing ran', () => {
    expect(dualpipeRule(result(arms(3), 1))).toBe('reproduced');
    expect(dualpipeRule(result(arms(3.5), 1))).toBe('not reproduced');
    expect(dualpipeRule(result(arms(3, 4), 1))).toBe('not reproduced');
    expect(dualpipeRule(result({}, 0))).toBe('inconclusive');
  });

  it('drawn times meet the formula’s assumptions; the simulator reproduces the table (real run)', async () => {
    for (let s = 1; s < 50; s++) {
      const t = drawTimes(s);
      expect(t.B - t.W).toBeCloseTo(t.F, 12);
      expect(t.W).toBeLessThanOrEqual(t.F);
      expect(t.FB).toBeGreaterThanOrEqual(Math.max(t.F, t.B));
      expect(t.FB).toBeLessThanOrEqual(t.F + t.B);
    }
    const r = await runFinding(null as never, dualpipe, { seeds: [1, 2], quick: true });
    expect(r.verdict).toBe('reproduced');
    expect(r.notes).toEqual([]);
    const line = findingLine(dualpipe, r);
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining(['finding', 'claim', 'paper', 'lab', 'rule', 'verdict', 'seeds', 'seconds']),
    );
    expect(line.lab['DualPipe PP=8'].activations.per_seed).toEqual([9, 9]);
    const md = findingsMarkdown([r], { adapter: 'test adapter', date: '2025-01-01' });
    expect(md).toMatch(/\| DualPipe: bubbles and memory as in the table \|/);
    expect(md).toMatch(/Quick run.*on test adapter/);
  });
});

describe('the findings table', () => {
  it('unique names, every card complete, every arm a valid preset config at both sizes', () => {
    expect(new Set(FINDING_NAMES).size).toBe(FINDINGS.length);
    expect(FINDING_NAMES).toEqual(
      expect.arrayContaining([
        'balance',
        'fp8',
        'accumulation',
        'mla',
        'mtp',
        'grpo',
        'coldstart',
        'distill',
        'dualpipe',
      ]),
    );
    for (const f of FINDINGS) {
      expect(f.name).toMatch(/^[a-z0-9]+$/);
      for (const k of ['title', 'claim', 'paper', 'paperFigure', 'ruleText', 'caveat'] as const)
        expect(f[k].length, `${f.name}.${k}`).toBeGreaterThan(5);
      expect(seedsFor(f, true)).toHaveLength(f.sizes.quick.seeds);
      expect(seedsFor(f, false, 4)).toEqual([1, 2, 3, 4]);
      for (const quick of [true, false])
        for (const a of f.experiment(quick)) {
          const p = findPreset(a.preset);
          expect(p, `${f.name}: ${a.preset}`).toBeDefined();
          expect(() => applyOverrides(p!.config, a.set), `${f.name} ${a.arm}`).not.toThrow();
        }
      // Every rule copes with an empty result.
      expect(f.rule(result({}, 0))).toBe('inconclusive');
    }
  });
});
