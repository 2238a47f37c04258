// GRPO raises reasoning accuracy (R1-Zero): grpo-micro pretrains on task text and then runs GRPO
// with the rule-based reward; the held-out greedy accuracy, format rate and response length on
// the same fixed held-out prompts before GRPO and after it, over seeds.

import type { Backend } from '../engine/backend';
import { RunPipeline } from '../run/pipeline';
import { type Heldout, diffSe, heldout, runTo, unitsOf } from './rl';
import { decide, fixed, interval, Meter, num, pm, seedsText, stat, values } from './stats';
import { armConfig } from './train';
import type { ExperimentArm, Finding, FindingResult, RunFindingOptions, Verdict } from './types';

export const MIN_LIFT = 0.02;
export const GRPO_ARM = 'grpo-micro';

function experiment(quick: boolean): ExperimentArm[] {
  return [
    {
      arm: GRPO_ARM,
      preset: 'grpo-micro',
      set: quick ? { 'rl.grpo_steps': 12, 'rl.eval_prompts': 64, 'rl.pass_k': 1 } : {},
    },
  ];
}

async function run(be: Backend, opts: RunFindingOptions): Promise<FindingResult> {
  const t0 = performance.now();
  const cfg = armConfig(experiment(opts.quick)[0]);
  const handoff = cfg.train.steps + cfg.rl.sft_steps;
  const every = opts.quick ? cfg.rl.grpo_steps : Math.max(1, Math.ceil(cfg.rl.grpo_steps / 3));
  const evals = 1 + Math.ceil(cfg.rl.grpo_steps / every);
  const perSeed = unitsOf({ pretrain: cfg.train.steps, sft: cfg.rl.sft_steps, grpo: cfg.rl.grpo_steps, evals });
  const meter = new Meter(perSeed * opts.seeds.length, opts.onProgress);
  const per: Array<{ before: Heldout; points: Heldout[] }> = [];
  const notes: string[] = [];
  const done: number[] = [];
  for (const seed of opts.seeds) {
    const p = new RunPipeline(be, cfg, seed);
    try {
      await runTo(p, handoff, meter, `seed ${seed}`);
      const before = await heldout(p, meter);
      const points = [before];
      while (!p.done) {
        await runTo(p, Math.min(p.step + every, p.schedule.total), meter, `seed ${seed}`);
        points.push(await heldout(p, meter));
      }
      per.push({ before, points });
      done.push(seed);
    } catch (e) {
      notes.push(`seed ${seed} failed: ${(e as Error).message}`);
    } finally {
      p.dispose();
    }
  }
  const after = per.map((s) => s.points[s.points.length - 1]);
  const before = per.map((s) => s.before);
  const lab: FindingResult['lab'] = {
    [GRPO_ARM]: {
      accuracy_before: stat(before.map((h) => h.accuracy)),
      accuracy_after: stat(after.map((h) => h.accuracy)),
      lift: stat(after.map((h, i) => h.accuracy - before[i].accuracy)),
      format_before: stat(before.map((h) => h.format)),
      format_after: stat(after.map((h) => h.format)),
      length_before: stat(before.map((h) => h.length)),
      length_after: stat(after.map((h) => h.length)),
      pass_k_before: stat(before.map((h) => h.pass_k)),
      pass_k_after: stat(after.map((h) => h.pass_k)),
      eval_prompts: fixed(cfg.rl.eval_prompts),
    },
  };
  const x = per[0]?.points.map((h) => h.step) ?? [];
  return {
    finding: 'grpo',
    seeds: done,
    quick: opts.quick,
    lab,
    charts: [
      {
        title: 'Held-out accuracy (greedy) from the start of GRPO',
        xLabel: 'step',
        curves: [
          { label: 'accuracy', x, per_seed: per.map((s) => s.points.map((h) => h.accuracy)) },
          { label: 'format rate', x, per_seed: per.map((s) => s.points.map((h) => h.format)) },
        ],
      },
    ],
    notes,
    seconds: (performance.now() - t0) / 1000,
    adapter: be.deviceLabel,
  };
}

/**
 * The lift is after − before on the same held-out prompts, per seed. Its standard error is the
 * spread across seeds, or with one seed the binomial error of the two accuracies. Reproduced: the
 * lift's mean − 2 SE is above 0. Not reproduced: its mean + 2 SE is below +2 points (no
 * meaningful rise). Otherwise inconclusive.
 */
export function grpoRule(r: FindingResult): Verdict {
  const b = values(r, GRPO_ARM, 'accuracy_before');
  const a = values(r, GRPO_ARM, 'accuracy_after');
  const n = r.lab[GRPO_ARM]?.eval_prompts?.mean ?? 0;
  const lift = interval(
    a.map((x, i) => x - b[i]),
    b.length === 1 ? diffSe(a[0], b[0], n) : undefined,
  );
  return decide(lift.lo > 0, lift.hi < MIN_LIFT);
}

export const grpo: Finding = {
  name: 'grpo',
  title: 'GRPO raises reasoning accuracy (R1-Zero)',
  claim:
    'Reinforcement learning with GRPO and a rule-based reward (accuracy + format) raises a pretrained model’s held-out accuracy, with no supervised reasoning data.',
  paper: 'R1 §2.2, Fig. 2 (and Fig. 3 for response length)',
  paperFigure: 'R1-Zero AIME 2024 pass@1 15.6% → 71.0%',
  ruleText:
    'Reproduced if the held-out greedy accuracy after GRPO exceeds the accuracy before it (same prompts, per seed) at mean − 2 SE; not reproduced if the lift’s mean + 2 SE is below +2 points. With one seed the binomial error over the held-out prompts is the SE.',
  sizes: {
    full: {
      seeds: 3,
      about: 'grpo-micro as it is (250 pretraining + 80 GRPO steps of 16 prompts, 128 held-out prompts)',
    },
    quick: { seeds: 1, about: 'grpo-micro with 12 GRPO steps, 64 held-out prompts, pass@1' },
  },
  experiment,
  run,
  rule: grpoRule,
  labFigure(r) {
    const m = r.lab[GRPO_ARM];
    return `held-out ${pm(m?.accuracy_before, 3)} → ${pm(m?.accuracy_after, 3)} (lift ${pm(m?.lift, 3)}); length ${num(m?.length_before?.mean, 1)} → ${num(m?.length_after?.mean, 1)} tokens (${seedsText(r)})`;
  },
  caveat:
    'R1-Zero is a 671B model trained for thousands of RL steps on math and code; here a 2-layer model learns 1-digit addition for tens of GRPO steps at a deliberately small learning rate, so the lift is small against the held-out prompts’ sampling error.',
};
