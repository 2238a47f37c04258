// Summary statistics and the adaptive repetition plan of the bench. Pure functions (no GPU),
// unit-tested in stats.test.ts.

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Quantile by linear interpolation between order statistics (q in [0, 1]). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new Error('quantile of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const pos = Math.min(Math.max(q, 0), 1) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Interquartile range relative to the median: a scale-free noise figure (0 = identical samples). */
export function relativeSpread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = median(xs);
  return m > 0 ? (quantile(xs, 0.75) - quantile(xs, 0.25)) / m : 0;
}

/** How a case is repeated: `reps` units of work per timed sample, `samples` timed samples. */
export interface RepeatPlan {
  reps: number;
  samples: number;
}

export interface PlanOptions {
  /** Aim for at least this much work per sample (amortizes submit and timer overhead). */
  targetSampleMs: number;
  /** Time allowed for all timed samples of one side of a case (ours or the peer). */
  budgetMs: number;
  minSamples: number;
  maxSamples: number;
  /** Cap on units per sample (memory: outputs of one sample stay alive until it is submitted). */
  maxReps: number;
  /** A first (warm-up) unit slower than this is its own estimate: no second warm-up. */
  singleWarmupMs: number;
  /** Units slower than this may take minSamplesSlow samples. */
  slowUnitMs: number;
  minSamplesSlow: number;
}

export const DEFAULT_PLAN: PlanOptions = {
  targetSampleMs: 60,
  budgetMs: 4000,
  minSamples: 3,
  maxSamples: 9,
  maxReps: 64,
  singleWarmupMs: 1500,
  slowUnitMs: 3000,
  minSamplesSlow: 2,
};
/** --quick (and cases run past the suite's soft deadline): one warm-up, two samples of one unit. */
export const QUICK_PLAN: PlanOptions = {
  targetSampleMs: 0,
  budgetMs: 0,
  minSamples: 2,
  maxSamples: 2,
  maxReps: 1,
  singleWarmupMs: 0,
  slowUnitMs: 0,
  minSamplesSlow: 2,
};

/**
 * Choose reps and samples from a warm estimate of one unit's time: enough units per sample to
 * reach targetSampleMs, then as many samples as the budget allows within [minSamples, maxSamples].
 * Slow units (a 2048² matmul on a software adapter) get 1 rep and the minimum of samples
 * (minSamplesSlow beyond slowUnitMs).
 */
export function planRepeats(unitMs: number, o: PlanOptions): RepeatPlan {
  const unit = Math.max(unitMs, 1e-3);
  const reps = Math.max(1, Math.min(o.maxReps, Math.ceil(o.targetSampleMs / unit)));
  const fit = Math.floor(o.budgetMs / (reps * unit));
  const least = unit > o.slowUnitMs ? o.minSamplesSlow : o.minSamples;
  const samples = Math.max(least, Math.min(o.maxSamples, fit));
  return { reps, samples };
}
