// Fine-grained FP8 training (V3 §3.3): the micro model with V3's FP8 recipe against its f32 twin
// (the same preset with precision.linear = f32, the same seeds), plus MXFP8 and MXFP4 rows. The
// figure is the relative gap of the final validation loss to the twin, paired seed by seed.

import type { Backend } from '../engine/backend';
import { decide, interval, Meter, pct, seedsText, stat, values } from './stats';
import { armConfig, armCurves, runArms, stepsOf } from './train';
import type { ExperimentArm, Finding, FindingResult, RunFindingOptions, Verdict } from './types';

export const FP8_BOUND = 0.0025;
const QUICK = { 'train.steps': 16, 'train.log_every': 4, 'train.eval_every': 16 };
/** The low-precision arms: V3's FP8 recipe first (the rule's), then the MX rows. */
export const LOWP = ['FP8 (E4M3, 128-blocks)', 'MXFP8', 'MXFP4'];

function experiment(quick: boolean): ExperimentArm[] {
  const set = quick ? QUICK : {};
  return [
    { arm: 'f32', preset: 'micro-fp8', set: { ...set, 'precision.linear': 'f32' } },
    { arm: LOWP[0], preset: 'micro-fp8', set },
    { arm: LOWP[1], preset: 'micro-mxfp8', set },
    { arm: LOWP[2], preset: 'micro-mxfp4', set },
  ];
}

/** Where MXFP4 stands against the 0.25% bound: beyond it, inside it, or not decided at this size. */
export function mxfp4Note(g: { mean: number; lo: number; hi: number }): string {
  const at = `${pct(g.mean)} (mean − 2 SE ${pct(g.lo)}, + 2 SE ${pct(g.hi)})`;
  if (g.lo > FP8_BOUND)
    return `MXFP4 breaks the 0.25% bound: its loss is ${at} above f32 (E2M1 has 8 magnitudes per sign; 1×32 blocks with power-of-two scales).`;
  if (g.hi < FP8_BOUND)
    return `MXFP4 stays within 0.25% of f32 here: ${at}; at this size and length its coarse grid has not shown.`;
  return `MXFP4's gap to f32, ${at}, cannot be told from the 0.25% bound at this size.`;
}

async function run(be: Backend, opts: RunFindingOptions): Promise<FindingResult> {
  const t0 = performance.now();
  const arms = experiment(opts.quick);
  const meter = new Meter(arms.reduce((n, a) => n + stepsOf(armConfig(a)), 0) * opts.seeds.length, opts.onProgress);
  const out = await runArms(
    be,
    arms,
    opts.seeds,
    meter,
    async (r) => ({ val_loss: r.valLoss }),
    (m) => m.loss,
  );
  const lab: FindingResult['lab'] = {};
  const f32 = out.values.f32?.val_loss ?? [];
  for (const a of arms) {
    const v = out.values[a.arm]?.val_loss ?? [];
    lab[a.arm] = { val_loss: stat(v) };
    if (a.arm !== 'f32') lab[a.arm].rel_gap = stat(v.map((x, i) => x / f32[i] - 1));
  }
  const notes = [...out.notes];
  const mx4 = interval(values({ lab } as FindingResult, LOWP[2], 'rel_gap'));
  if (Number.isFinite(mx4.mean)) notes.push(mxfp4Note(mx4));
  return {
    finding: 'fp8',
    seeds: opts.seeds,
    quick: opts.quick,
    lab,
    charts: [
      {
        title: 'Training loss',
        xLabel: 'step',
        curves: armCurves(arms, out),
      },
    ],
    notes,
    seconds: (performance.now() - t0) / 1000,
    adapter: be.deviceLabel,
  };
}

/**
 * The relative gap (FP8 − f32)/f32 of the final validation loss, paired by seed. Reproduced: its
 * upper bound (mean + 2 SE) is below 0.25 %. Not reproduced: its lower bound is above 0.25 %.
 * Otherwise inconclusive. (A negative gap — FP8 better — counts as within.)
 */
export function fp8Rule(r: FindingResult): Verdict {
  const g = interval(values(r, LOWP[0], 'rel_gap'));
  return decide(g.hi < FP8_BOUND, g.lo > FP8_BOUND);
}

export const fp8: Finding = {
  name: 'fp8',
  title: 'FP8 training loses almost nothing',
  claim:
    'Training with fine-grained FP8 (E4M3, 1×128 activation tiles, 128×128 weight blocks, f32 scales and accumulation) ends within 0.25% of the higher-precision run’s loss.',
  paper: 'V3 §3.3, Fig. 10 (Appendix B.1)',
  paperFigure: 'relative loss error < 0.25% vs BF16',
  ruleText:
    'Reproduced if FP8’s relative validation-loss gap to its f32 twin (paired by seed) is below 0.25% at its mean + 2 standard errors; not reproduced if its mean − 2 SE is above 0.25%. MXFP8 and MXFP4 are shown beside it, outside the rule.',
  sizes: {
    full: { seeds: 3, about: 'micro-fp8 / micro-mxfp8 / micro-mxfp4 and the f32 twin as they are (300 steps)' },
    quick: { seeds: 2, about: 'the same arms, 16 steps' },
  },
  experiment,
  run,
  rule: fp8Rule,
  labFigure(r) {
    const g = (a: string) => {
      const s = r.lab[a]?.rel_gap;
      return s ? `${pct(s.mean)} ± ${pct(s.std)}` : '–';
    };
    return `loss gap to f32: FP8 ${g(LOWP[0])}, MXFP8 ${g(LOWP[1])}, MXFP4 ${g(LOWP[2])} (${seedsText(r)})`;
  },
  caveat:
    'The paper compares with BF16 over ~1T tokens on 16B–230B models; the lab compares with f32 on a 2-layer micro model for a few hundred steps, emulating FP8 GEMMs in WebGPU shaders.',
};
