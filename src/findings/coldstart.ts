// Cold start helps (R1 vs R1-Zero): the r1-zero and r1 presets share their pretraining; r1 adds a
// cold-start SFT stage on worked solutions before the same GRPO. Per seed the pretraining runs
// once (when the two presets' pretraining settings agree) and both arms continue from it; the
// held-out accuracy, format rate and length are measured at each stage's end.

import type { Checkpoint, RunConfig } from '../config';
import type { Backend } from '../engine/backend';
import { RunPipeline } from '../run/pipeline';
import { type Heldout, diffSe, heldout, runTo, unitsOf } from './rl';
import { decide, fixed, interval, Meter, pm, seedsText, stat, values } from './stats';
import { armConfig } from './train';
import type { Curve, ExperimentArm, Finding, FindingResult, RunFindingOptions, Verdict } from './types';

export const ZERO = 'R1-Zero (RL only)';
export const R1 = 'R1 (cold start + RL)';
const QUICK = { 'train.steps': 250, 'rl.grpo_steps': 10, 'rl.eval_prompts': 64, 'rl.pass_k': 1 };

function experiment(quick: boolean): ExperimentArm[] {
  return [
    { arm: ZERO, preset: 'r1-zero', set: quick ? QUICK : {} },
    { arm: R1, preset: 'r1', set: quick ? { ...QUICK, 'rl.sft_steps': 30 } : {} },
  ];
}

/** Whether two configs pretrain identically (so one pretraining serves both arms). */
export function samePretraining(a: RunConfig, b: RunConfig): boolean {
  const pre = (c: RunConfig) =>
    JSON.stringify([
      c.model,
      c.arch,
      c.precision,
      c.optim,
      c.data,
      c.train,
      c.rl.task,
      c.rl.difficulty,
      c.rl.template_share,
    ]);
  return pre(a) === pre(b);
}

interface SeedRun {
  base: Heldout;
  zero: Heldout;
  /** After the cold start, before GRPO (full size only: a quick run skips this evaluation). */
  sft: Heldout | null;
  r1: Heldout;
}

async function seedRun(
  be: Backend,
  cfgs: [RunConfig, RunConfig],
  seed: number,
  meter: Meter,
  quick: boolean,
): Promise<SeedRun> {
  const [zc, rc] = cfgs;
  const zero = new RunPipeline(be, zc, seed);
  let base: Heldout;
  let ckpt: Checkpoint | null = null;
  let zeroEnd: Heldout;
  try {
    await runTo(zero, zc.train.steps, meter, `seed ${seed}, pretraining`);
    base = await heldout(zero, meter);
    if (samePretraining(zc, rc)) ckpt = await zero.checkpoint('r1-zero');
    await runTo(zero, zero.schedule.total, meter, `seed ${seed}, ${ZERO}`);
    zeroEnd = await heldout(zero, meter);
  } finally {
    zero.dispose();
  }
  const r1 = new RunPipeline(be, rc, seed);
  try {
    if (ckpt) r1.load(ckpt);
    else await runTo(r1, rc.train.steps, meter, `seed ${seed}, ${R1} pretraining`);
    await runTo(r1, rc.train.steps + rc.rl.sft_steps, meter, `seed ${seed}, ${R1}`);
    const sft = quick ? null : await heldout(r1, meter);
    await runTo(r1, r1.schedule.total, meter, `seed ${seed}, ${R1}`);
    return { base, zero: zeroEnd, sft, r1: await heldout(r1, meter) };
  } finally {
    r1.dispose();
  }
}

async function run(be: Backend, opts: RunFindingOptions): Promise<FindingResult> {
  const t0 = performance.now();
  const cfgs = experiment(opts.quick).map(armConfig) as [RunConfig, RunConfig];
  const shared = samePretraining(cfgs[0], cfgs[1]);
  const [z, r1] = cfgs;
  const units = unitsOf({
    pretrain: z.train.steps + (shared ? 0 : r1.train.steps),
    sft: r1.rl.sft_steps,
    grpo: z.rl.grpo_steps + r1.rl.grpo_steps,
    evals: opts.quick ? 3 : 4,
  });
  const meter = new Meter(units * opts.seeds.length, opts.onProgress);
  const per: SeedRun[] = [];
  const done: number[] = [];
  const notes: string[] = shared ? [] : ['r1 and r1-zero pretrain differently here, so each arm pretrained on its own'];
  for (const seed of opts.seeds) {
    try {
      per.push(await seedRun(be, cfgs, seed, meter, opts.quick));
      done.push(seed);
    } catch (e) {
      notes.push(`seed ${seed} failed: ${(e as Error).message}`);
    }
  }
  const arm = (pick: (s: SeedRun) => Heldout) => ({
    accuracy: stat(per.map((s) => pick(s).accuracy)),
    format: stat(per.map((s) => pick(s).format)),
    length: stat(per.map((s) => pick(s).length)),
    eval_prompts: fixed(cfgs[0].rl.eval_prompts),
  });
  const lab: FindingResult['lab'] = {
    base: arm((s) => s.base),
    [ZERO]: arm((s) => s.zero),
    ...(per.every((s) => s.sft) ? { [`${R1} after SFT`]: arm((s) => s.sft!) } : {}),
    [R1]: arm((s) => s.r1),
  };
  const curves = (field: 'accuracy' | 'format'): Curve[] => [
    {
      label: ZERO,
      x: per[0] ? [per[0].base.step, per[0].zero.step] : [],
      per_seed: per.map((s) => [s.base[field], s.zero[field]]),
    },
    {
      label: R1,
      x: per[0] ? [per[0].base, per[0].sft, per[0].r1].filter((h) => h !== null).map((h) => h.step) : [],
      per_seed: per.map((s) => [s.base, s.sft, s.r1].filter((h) => h !== null).map((h) => h[field])),
    },
  ];
  return {
    finding: 'coldstart',
    seeds: done,
    quick: opts.quick,
    lab,
    charts: [
      { title: 'Held-out accuracy (greedy) at each stage’s end', xLabel: 'step', curves: curves('accuracy') },
      { title: 'Format rate at each stage’s end', xLabel: 'step', curves: curves('format') },
    ],
    notes,
    seconds: (performance.now() - t0) / 1000,
    adapter: be.deviceLabel,
  };
}

/**
 * The difference R1 − R1-Zero of the final held-out accuracy, per seed; its standard error is the
 * spread across seeds, or with one seed the binomial error of the two accuracies. Reproduced: the
 * difference's mean − 2 SE is above 0 and R1's mean format rate is at least R1-Zero's. Not
 * reproduced: its mean + 2 SE is below 0. Otherwise inconclusive.
 */
export function coldstartRule(r: FindingResult): Verdict {
  const a = values(r, R1, 'accuracy');
  const b = values(r, ZERO, 'accuracy');
  const n = r.lab[R1]?.eval_prompts?.mean ?? 0;
  const d = interval(
    a.map((x, i) => x - b[i]),
    a.length === 1 ? diffSe(a[0], b[0], n) : undefined,
  );
  const fmtOk = (r.lab[R1]?.format?.mean ?? -1) >= (r.lab[ZERO]?.format?.mean ?? Infinity);
  return decide(d.lo > 0 && fmtOk, d.hi < 0);
}

export const coldstart: Finding = {
  name: 'coldstart',
  title: 'Cold start helps (R1 vs R1-Zero)',
  claim:
    'A short cold-start SFT on readable worked solutions before RL gives a better format rate and accuracy than RL from the base model alone.',
  paper: 'R1 §2.3.1 (cold start) and §2.2.4; Tables 2 and 4',
  paperFigure: 'R1 79.8% vs R1-Zero 71.0% AIME 2024 pass@1; better readability',
  ruleText:
    'Reproduced if R1’s final held-out accuracy beats R1-Zero’s (per seed, mean − 2 SE above 0) with a format rate at least as high; not reproduced if R1’s accuracy is lower at mean + 2 SE. With one seed the binomial error over the held-out prompts is the SE.',
  sizes: {
    full: {
      seeds: 3,
      about: 'r1-zero and r1 as they are (250 pretraining steps shared, 100 SFT steps, 80 GRPO steps)',
    },
    quick: { seeds: 1, about: '250 pretraining steps, 30 SFT steps, 10 GRPO steps, 64 held-out prompts, pass@1' },
  },
  experiment,
  run,
  rule: coldstartRule,
  labFigure(r) {
    return `held-out ${pm(r.lab[R1]?.accuracy, 3)} (R1) vs ${pm(r.lab[ZERO]?.accuracy, 3)} (R1-Zero); format ${pm(r.lab[R1]?.format, 2)} vs ${pm(r.lab[ZERO]?.format, 2)} (${seedsText(r)})`;
  },
  caveat:
    'The paper’s R1 also runs a second SFT round and RL for all scenarios; here both arms run the same short GRPO on 1-digit addition, and the cold-start set is the task’s own worked solutions (for one digit, the plain sum written in the think).',
};
