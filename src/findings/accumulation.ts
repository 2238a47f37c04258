// Accumulation precision (V3 §3.3.2): FP8 GEMM products added into a ~14-bit accumulator lose
// accuracy as K grows (the report: nearly 2 % at K = 4096), and promoting the partial sums to f32
// every N_C = 128 elements fixes it. lowp/accum.ts measures it on the backend's emulated
// accumulator; each seed draws new inputs.

import type { Backend } from '../engine/backend';
import { accumExperiment, type AccumRow } from '../lowp/accum';
import { decide, Meter, pct, seedsText, stat, values } from './stats';
import type { Finding, FindingResult, RunFindingOptions, Verdict } from './types';

const KS = { quick: [128, 512, 1024, 4096], full: [128, 256, 512, 1024, 2048, 4096, 8192] };
export const ACCUM_K = 4096;
const METRICS: Array<[keyof AccumRow, string]> = [
  ['limitedTrunc', 'limited_trunc'],
  ['promotedTrunc', 'promoted_trunc'],
  ['limited', 'limited_rne'],
  ['promoted', 'promoted_rne'],
  ['f32', 'f32'],
];

async function run(be: Backend, opts: RunFindingOptions): Promise<FindingResult> {
  const t0 = performance.now();
  const Ks = opts.quick ? KS.quick : KS.full;
  const meter = new Meter(opts.seeds.length, opts.onProgress);
  const bySeed: AccumRow[][] = [];
  for (const seed of opts.seeds) {
    bySeed.push(await accumExperiment(be, Ks, { seed }));
    meter.add(1, `seed ${seed}`);
  }
  const lab: FindingResult['lab'] = {};
  for (const [i, K] of Ks.entries()) {
    lab[`K=${K}`] = Object.fromEntries(METRICS.map(([k, name]) => [name, stat(bySeed.map((rows) => rows[i][k]))]));
  }
  const curves = METRICS.slice(0, 4).map(([k, name]) => ({
    label: name.replace('_', ' '),
    x: Ks,
    per_seed: bySeed.map((rows) => rows.map((r) => r[k])),
  }));
  return {
    finding: 'accumulation',
    seeds: opts.seeds,
    quick: opts.quick,
    lab,
    charts: [{ title: 'Relative error of C (Frobenius) vs K, 14-bit accumulator', xLabel: 'K', curves }],
    notes: [],
    seconds: (performance.now() - t0) / 1000,
    adapter: be.deviceLabel,
  };
}

/**
 * Reproduced: at K = 4096 the truncating 14-bit accumulator's error is between 0.5 % and 8 % (the
 * paper's ~2 % within a factor of four) at every seed, it is larger than at the smallest K, and
 * promotion every 128 elements cuts it at least 5× at every seed. Not reproduced: the error is
 * below 0.2 % or above 10 % at every seed, or promotion does not lower it at some seed.
 * Otherwise (or without K = 4096): inconclusive.
 */
export function accumulationRule(r: FindingResult): Verdict {
  const arm = `K=${ACCUM_K}`;
  const lim = values(r, arm, 'limited_trunc');
  const pro = values(r, arm, 'promoted_trunc');
  if (!lim.length || lim.length !== pro.length) return 'inconclusive';
  const smallest = Object.keys(r.lab)
    .map((a) => Number(a.slice(2)))
    .sort((a, b) => a - b)[0];
  const base = values(r, `K=${smallest}`, 'limited_trunc');
  const inBand = lim.every((e) => e >= 0.005 && e <= 0.08);
  const grows = lim.every((e, i) => e > (base[i] ?? Infinity));
  const cut = lim.every((e, i) => pro[i] * 5 <= e);
  const outside = lim.every((e) => e < 0.002 || e > 0.1);
  const noHelp = lim.some((e, i) => !(pro[i] < e));
  return decide(inBand && grows && cut, outside || noHelp);
}

export const accumulation: Finding = {
  name: 'accumulation',
  title: 'Accumulation precision: limited accumulators and promotion',
  claim:
    'FP8 GEMMs accumulated in a ~14-bit tensor-core accumulator lose about 2% at K = 4096; promoting partial sums to f32 every 128 elements removes most of the error.',
  paper: 'V3 §3.3.2 (Increasing Accumulation Precision)',
  paperFigure: '≈2% max relative error at K = 4096; fixed by promotion every N_C = 128',
  ruleText:
    'Reproduced if at K = 4096 the truncating 14-bit accumulator’s error is 0.5–8% at every seed (the paper’s ~2% within 4×), larger than at the smallest K, and promotion every 128 cuts it ≥ 5× at every seed; not reproduced if it is below 0.2% or above 10% at every seed, or promotion does not lower it.',
  sizes: {
    full: { seeds: 5, about: 'K 128 … 8192, 64×64 outputs, E4M3 with 128-blocks, U[0,1) inputs' },
    quick: { seeds: 2, about: 'K 128, 512, 1024, 4096, 64×64 outputs' },
  },
  experiment: () => [],
  run,
  rule: accumulationRule,
  labFigure(r) {
    const m = r.lab[`K=${ACCUM_K}`];
    if (!m) return '–';
    const f = (k: string) => `${pct(m[k]?.mean)} ± ${pct(m[k]?.std)}`;
    return `K=4096: 14-bit truncating ${f('limited_trunc')}, promoted ${f('promoted_trunc')}; round-to-nearest ${pct(m.limited_rne?.mean, 3)} (${seedsText(r)})`;
  },
  caveat:
    'The paper quotes the maximum relative error on H800 tensor cores; the lab emulates a 14-bit accumulator (truncating, and round-to-nearest-even) and reports the relative Frobenius error of C. Round-to-nearest errors cancel and stay far below 2%.',
};
