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

/** Run `p` until it has taken `until` steps (all stages), one progress unit per step. */
export async function runTo(p: RunPipeline, until: number, meter: Meter, what: string): Promise<void> {
  while (p.step < until && !p.done) {
    disposeHandles(await p.runStep());
    meter.add(1, `${what} (${p.schedule.stageOf(p.step).name} step ${p.step})`);
  }
  await p.be.flush();
}

/** Greedy accuracy, pass@k, format rate and length on the run's fixed held-out prompts. */
export async function heldout(p: RunPipeline): Promise<Heldout> {
  const rl: RlContext | null = p.rl;
  if (!rl) throw new Error('finding: an RL finding needs an RL pipeline config (rl.mode "pipeline")');
  const e = await rl.evaluate();
  return { step: p.step, accuracy: e.greedy, pass_k: e.passK, format: e.format, length: e.length };
}

/**
 * The standard error of a difference of two accuracies measured on `n` held-out prompts each:
 * √(SE_a² + SE_b²), treating them as independent (conservative for the same prompts).
 */
export function diffSe(a: number, b: number, n: number): number {
  return Math.hypot(accuracySe(a, n), accuracySe(b, n));
}
