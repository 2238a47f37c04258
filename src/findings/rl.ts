// What the RL findings share: a pipeline run step by step to a given step with progress, the
// held-out figures at a point of it, and the standard error that stands in for the spread across
// seeds when a quick run has a single seed (binomial, over the held-out prompts).

import type { RlContext } from '../rl/context';
import type { RunPipeline } from '../run/pipeline';
import { accuracySe } from '../run/seeds';
import { disposeHandles } from '../train/stage';
import type { Meter } from './stats';

export interface Heldout {
  step: number;
  accuracy: number;
  pass_k: number;
  format: number;
  length: number;
}

/**
 * Progress units, so an ETA means something: a pretraining or SFT step is 1, a GRPO step (a
 * rollout of prompts × G completions, then μ updates) about 6, a held-out evaluation about 10.
 */
export const UNITS = { step: 1, grpo: 6, eval: 10 };

/** The units of `steps` steps of each stage, and `evals` held-out evaluations. */
export function unitsOf(s: { pretrain?: number; sft?: number; grpo?: number; evals?: number }): number {
  return (s.pretrain ?? 0) + (s.sft ?? 0) + UNITS.grpo * (s.grpo ?? 0) + UNITS.eval * (s.evals ?? 0);
}

/** Run `p` until it has taken `until` steps (all stages), with progress in UNITS. */
export async function runTo(p: RunPipeline, until: number, meter: Meter, what: string): Promise<void> {
  while (p.step < until && !p.done) {
    disposeHandles(await p.runStep());
    const stage = p.schedule.stageOf(p.step).name;
    meter.add(stage === 'grpo' ? UNITS.grpo : UNITS.step, `${what} (${stage} step ${p.step})`);
  }
  await p.be.flush();
}

/** Greedy accuracy, pass@k, format rate and length on the run's fixed held-out prompts. */
export async function heldout(p: RunPipeline, meter?: Meter): Promise<Heldout> {
  const rl: RlContext | null = p.rl;
  if (!rl) throw new Error('finding: an RL finding needs an RL pipeline config (rl.mode "pipeline")');
  meter?.say(`held-out evaluation at step ${p.step}`);
  const e = await rl.evaluate();
  meter?.add(UNITS.eval, `held-out evaluation at step ${p.step}`);
  return { step: p.step, accuracy: e.greedy, pass_k: e.passK, format: e.format, length: e.length };
}

/**
 * The standard error of a difference of two accuracies measured on `n` held-out prompts each:
 * √(SE_a² + SE_b²), treating them as independent (conservative for the same prompts).
 */
export function diffSe(a: number, b: number, n: number): number {
  return Math.hypot(accuracySe(a, n), accuracySe(b, n));
}
