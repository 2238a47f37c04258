// The stages of an RL pipeline run as the page shows them: pretraining, cold-start SFT and GRPO
// each report their own figure. The LM loss of pretraining and SFT is a loss; the GRPO step's
// `loss` is the clipped surrogate objective, which is not a loss to compare with them, so the
// columns file it under its own name (GRPO_OBJECTIVE) and the headline shows reward and held-out
// accuracy instead. Stage spans come from the run's Schedule (RunInfo.stages for the current run).
// A held-out accuracy is shown with its standard error over the run's rl.eval_prompts.

import type { RunInfo, StepMetrics } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { accuracySe } from '../run/seeds';
import { Schedule, type StageName, type StageSpan } from '../run/schedule';
import type { ChartMarker } from './charts/MetricChart';

/** The column (and chart) of the GRPO steps' surrogate objective, kept apart from the LM loss. */
export const GRPO_OBJECTIVE = 'grpo_objective';

export const STAGE_LABEL: Record<StageName, string> = { pretrain: 'pretrain', sft: 'SFT', grpo: 'GRPO' };

/** Band colours behind the charts (pretraining has none: it is every run's default). */
const STAGE_BAND: Record<StageName, string | undefined> = {
  pretrain: undefined,
  sft: 'var(--stage-sft, rgba(202, 138, 4, 0.09))',
  grpo: 'var(--stage-grpo, rgba(124, 58, 237, 0.08))',
};

/** The run's stages: from RunInfo when it describes this run, else from its config's Schedule. */
export function stagesOf(run: RunRecord | null, info: RunInfo | null): readonly StageSpan[] {
  if (!run) return [];
  if (info?.stages?.length && info.preset === run.preset && info.seed === run.seed) return info.stages;
  return new Schedule(run.config).stages;
}

/** A run with more than one stage (an RL pipeline with SFT and/or GRPO steps). */
export const isStaged = (stages: readonly StageSpan[]) => stages.length > 1;

/**
 * Chart markers for the stage boundaries: a line where each stage after the first begins, with a
 * band over the stage's steps. Nothing for a run of one stage.
 */
export function stageMarkers(stages: readonly StageSpan[]): ChartMarker[] {
  if (!isStaged(stages)) return [];
  return stages.map((st, i) => ({
    x: st.first - 0.5,
    until: st.last + 0.5,
    label: i === 0 ? '' : STAGE_LABEL[st.name],
    kind: 'stage' as const,
    fill: STAGE_BAND[st.name],
  }));
}

/** The metric's stage, for runs without a `stage` field (plain pretraining runs). */
export const stageOfMetric = (m: StepMetrics): StageName => m.stage ?? 'pretrain';

/** The last LM loss (pretraining or SFT step) of a run: never a GRPO surrogate. */
export function lastLmLoss(metrics: readonly StepMetrics[]): number | null {
  for (let i = metrics.length - 1; i >= 0; i--) if (metrics[i].stage !== 'grpo') return metrics[i].loss;
  return null;
}

/** The latest held-out greedy accuracy of a run and its step, if it measured one. */
export function lastHeldout(metrics: readonly StepMetrics[]): { step: number; value: number } | null {
  for (let i = metrics.length - 1; i >= 0; i--) {
    const v = metrics[i].heldout_greedy;
    if (v !== undefined && Number.isFinite(v)) return { step: metrics[i].step, value: v };
  }
  return null;
}

/**
 * A held-out accuracy with its standard error over `n` prompts, √(p(1 − p)/n): "0.625 ± 0.086".
 * "–" when there is no accuracy; without a usable n, the accuracy alone.
 */
export function fmtAccuracy(p: number | null | undefined, n: number): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  const se = accuracySe(p, n);
  return Number.isFinite(se) ? `${p.toFixed(3)} ± ${se.toFixed(3)}` : p.toFixed(3);
}

/** The tooltip that says what the ± is. */
export const seTitle = (n: number) =>
  `± one standard error, √(p(1 − p)/n) over the n = ${n} held-out prompts (rl.eval_prompts)`;

/** Lines one standard error above and below an accuracy column (NaN where it has no value). */
export function seBounds(y: ArrayLike<number>, n: number): { lo: Float64Array; hi: Float64Array } {
  const lo = new Float64Array(y.length);
  const hi = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const p = y[i];
    const se = Number.isFinite(p) ? accuracySe(p, n) : NaN;
    lo[i] = Number.isFinite(se) ? Math.max(0, p - se) : NaN;
    hi[i] = Number.isFinite(se) ? Math.min(1, p + se) : NaN;
  }
  return { lo, hi };
}
