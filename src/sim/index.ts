// The pipeline-schedule simulator: build a schedule's per-rank orders, simulate them, and set the
// figures beside the V3 report's formulas.

import { checkTimeline } from './check';
import { formula, stats, type Formula, type Stats } from './metrics';
import { buildPlan, planProblem } from './schedules';
import { simulate } from './simulate';
import type { ScheduleName, Timeline, Times } from './types';
import { SCHEDULES } from './types';

export { checkTimeline } from './check';
export { formula, stats, peakActivations, parameterCopies } from './metrics';
export type { Formula, RankStats, Stats } from './metrics';
export { buildPlan, planProblem } from './schedules';
export { simulate, validateTimes, opDuration } from './simulate';
export * from './types';

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Conditions under which the simulated bubble equals the table's formula exactly (found by
 * working each schedule's timeline through; see docs/pipelines.md). Empty when they all hold.
 * Outside them the formula is only an estimate, and the simulator shows the real figure.
 */
export function formulaAssumptions(schedule: ScheduleName, pp: number, microBatches: number, t: Times): string[] {
  const out: string[] = [];
  if (t.comm !== 0) out.push('communication time 0');
  const b = t.B - t.W; // the input-gradient half of a split backward
  if (schedule === 'zb1p') {
    if (microBatches < pp) out.push('micro-batches ≥ PP');
    if (t.W > t.F + 1e-12) out.push('W ≤ F');
    if (t.W > b + 1e-12) out.push('W ≤ B−W');
  }
  if (schedule === 'dualpipe') {
    if (!close(t.F, b)) out.push('F = B−W (forward as long as the input-gradient backward)');
    if (t.W > t.F + 1e-12) out.push('W ≤ F');
    if (t.FB < Math.max(t.F, t.B) - 1e-12 || t.FB > t.F + t.B + 1e-12) out.push('max(F,B) ≤ F&B ≤ F+B');
  }
  return out;
}

export interface ScheduleResult {
  schedule: ScheduleName;
  /** Why the schedule cannot run with these sizes (then there is no timeline). */
  problem: string | null;
  timeline: Timeline | null;
  stats: Stats | null;
  formula: Formula;
  /** Formula conditions that do not hold here (empty: the bubble should match exactly). */
  unmet: string[];
  /** Dependency-checker findings (always empty unless the simulator is wrong). */
  violations: string[];
}

export function runSchedule(schedule: ScheduleName, pp: number, microBatches: number, times: Times): ScheduleResult {
  const f = formula(schedule, pp, times);
  const unmet = formulaAssumptions(schedule, pp, microBatches, times);
  const problem = planProblem(schedule, pp, microBatches);
  if (problem) return { schedule, problem, timeline: null, stats: null, formula: f, unmet, violations: [] };
  const timeline = simulate(buildPlan(schedule, pp, microBatches), times);
  return {
    schedule,
    problem: null,
    timeline,
    stats: stats(timeline),
    formula: f,
    unmet,
    violations: checkTimeline(timeline),
  };
}

export function compareSchedules(pp: number, microBatches: number, times: Times): ScheduleResult[] {
  return SCHEDULES.map((s) => runSchedule(s, pp, microBatches, times));
}
