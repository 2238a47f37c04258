// Lab runs for the findings: an arm (preset + overrides) trained through the run pipeline on a
// seed, its logged metrics read back as the lab and the CLI read them, with progress per step.

import { applyOverrides, findPreset, type RunConfig } from '../config';
import type { Backend } from '../engine/backend';
import { markOf, readMetrics, type StepMetrics } from '../run/metrics';
import { RunPipeline } from '../run/pipeline';
import { disposeHandles } from '../train/stage';
import type { Meter } from './stats';
import type { Curve, ExperimentArm } from './types';

/** An arm's validated config: its preset with its overrides. */
export function armConfig(a: ExperimentArm): RunConfig {
  const p = findPreset(a.preset);
  if (!p) throw new Error(`finding arm ${a.arm}: unknown preset "${a.preset}"`);
  return applyOverrides(p.config, a.set);
}

/** Optimizer steps a config runs (all stages). */
export function stepsOf(cfg: RunConfig): number {
  return cfg.train.steps + (cfg.rl.mode === 'pipeline' ? cfg.rl.sft_steps + cfg.rl.grpo_steps : 0);
}

export interface TrainedRun {
  /** Every logged step's metrics (pretraining runs: loss, val loss at eval steps, MaxVio, …). */
  metrics: StepMetrics[];
  /** Validation loss at the end. */
  valLoss: number;
}

/**
 * Train a pretraining config for all its steps on `seed`, reading back the logged steps' metrics.
 * `whileOpen` runs on the trained pipeline before it is freed (decoding, a checkpoint).
 */
export async function trainArm(
  be: Backend,
  cfg: RunConfig,
  seed: number,
  meter: Meter,
  what: string,
  whileOpen?: (p: RunPipeline, run: TrainedRun) => Promise<void>,
): Promise<TrainedRun> {
  const p = new RunPipeline(be, cfg, seed);
  try {
    const metrics: StepMetrics[] = [];
    let mark = markOf(p);
    while (!p.done) {
      const h = await p.runStep();
      if (p.schedule.isLog(p.step)) {
        metrics.push(await readMetrics(p, h, mark));
        mark = markOf(p);
      } else disposeHandles(h);
      meter.add(1, what);
    }
    const last = metrics[metrics.length - 1];
    const valLoss = last?.val_loss ?? (await p.pretrain.valLoss());
    const run = { metrics, valLoss };
    if (whileOpen) await whileOpen(p, run);
    return run;
  } finally {
    p.dispose();
  }
}

/** Each logged step's value of a metric (NaN where absent), and the steps. */
export function series(
  run: TrainedRun,
  pick: (m: StepMetrics) => number | null | undefined,
): { x: number[]; y: number[] } {
  const rows = run.metrics.filter((m) => pick(m) !== undefined && pick(m) !== null);
  return { x: rows.map((m) => m.step), y: rows.map((m) => pick(m) as number) };
}

/** The mean of a metric over the logged steps in the last `fraction` of the run. */
export function tailMean(run: TrainedRun, pick: (m: StepMetrics) => number | undefined, fraction = 0.5): number {
  const steps = run.metrics.map((m) => m.step);
  const last = Math.max(...steps);
  const from = last * (1 - fraction);
  const xs = run.metrics
    .filter((m) => m.step > from)
    .map(pick)
    .filter((x): x is number => x !== undefined);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export interface ArmsOutcome {
  /** Per arm, per metric, one value per seed (in the order of the seeds; NaN where the run failed). */
  values: Record<string, Record<string, number[]>>;
  /** Per arm, the logged steps and one curve row per seed that finished. */
  curves: Record<string, { x: number[]; rows: number[][] }>;
  notes: string[];
}

/** The arms' curves of a runArms outcome, one per arm in the arms' order (empty where none finished). */
export function armCurves(arms: readonly ExperimentArm[], out: ArmsOutcome): Curve[] {
  return arms.map((a) => ({ label: a.arm, x: out.curves[a.arm]?.x ?? [], per_seed: out.curves[a.arm]?.rows ?? [] }));
}

/**
 * Train every arm on every seed (seed-major, so the seeds come in whole) and pull each run's
 * figures with `extract` (on the trained pipeline, before it is freed) and one curve with `pick`.
 * An arm that fails on a seed gets NaN for that seed and a note.
 */
export async function runArms(
  be: Backend,
  arms: readonly ExperimentArm[],
  seeds: readonly number[],
  meter: Meter,
  extract: (run: TrainedRun, p: RunPipeline, arm: ExperimentArm) => Promise<Record<string, number>>,
  pick: (m: StepMetrics) => number | null | undefined,
): Promise<ArmsOutcome> {
  const out: ArmsOutcome = { values: {}, curves: {}, notes: [] };
  const cfgs = arms.map(armConfig);
  const figures: Array<Record<string, Record<string, number>>> = [];
  for (const seed of seeds) {
    const bySeed: Record<string, Record<string, number>> = {};
    figures.push(bySeed);
    for (const [i, arm] of arms.entries()) {
      try {
        const run = await trainArm(be, cfgs[i], seed, meter, `${arm.arm}, seed ${seed}`, async (p, r) => {
          bySeed[arm.arm] = await extract(r, p, arm);
        });
        const s = series(run, pick);
        const c = (out.curves[arm.arm] ??= { x: s.x, rows: [] });
        c.rows.push(s.y);
      } catch (e) {
        out.notes.push(`${arm.arm}, seed ${seed} failed: ${(e as Error).message}`);
      }
    }
  }
  for (const arm of arms) {
    const names = new Set(figures.flatMap((f) => Object.keys(f[arm.arm] ?? {})));
    out.values[arm.arm] = Object.fromEntries([...names].map((k) => [k, figures.map((f) => f[arm.arm]?.[k] ?? NaN)]));
  }
  return out;
}
