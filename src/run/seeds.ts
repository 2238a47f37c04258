// Multi-seed summaries: one seed proves nothing, so a claim about learning is the mean over
// seeds with its spread. Used by the CLI's --seeds and the page's grouped runs.

export interface Spread {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  sd: number;
  /** Standard error of the mean, sd/√n; 0 for a single value. */
  se: number;
  min: number;
  max: number;
  n: number;
}

export function spread(xs: number[]): Spread {
  const n = xs.length;
  if (!n) return { mean: NaN, sd: NaN, se: NaN, min: NaN, max: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, se: n > 1 ? sd / Math.sqrt(n) : 0, min: Math.min(...xs), max: Math.max(...xs), n };
}

/** Standard error of an accuracy measured on `n` prompts: √(p(1 − p)/n). */
export function accuracySe(p: number, n: number): number {
  return n > 0 ? Math.sqrt((p * (1 - p)) / n) : NaN;
}

export interface SeedOutcome {
  seed: number;
  before: number | null;
  after: number | null;
}

/** The summary of a multi-seed before → after experiment (held-out accuracy). */
export function liftSummary(per: SeedOutcome[]) {
  const done = per.filter(
    (p): p is { seed: number; before: number; after: number } => p.before !== null && p.after !== null,
  );
  const lifts = done.map((p) => p.after - p.before);
  const before = spread(done.map((p) => p.before));
  const after = spread(done.map((p) => p.after));
  const lift = spread(lifts);
  return {
    seeds: per.map((p) => p.seed),
    heldout_accuracy_before: before.mean,
    heldout_accuracy_before_sd: before.sd,
    heldout_accuracy_after: after.mean,
    heldout_accuracy_after_sd: after.sd,
    lift_mean: lift.mean,
    lift_se: lift.se,
    lift_min: lift.min,
    per_seed: per.map((p) => ({ ...p, lift: p.before !== null && p.after !== null ? p.after - p.before : null })),
  };
}
