// The arithmetic every finding shares: a metric over seeds (mean, std, per-seed), the interval
// of a difference (mean ± 2 standard errors across seeds, or a given standard error where one
// seed is all there is), curves over steps, progress with a running total, and number formats.

import { spread } from '../run/seeds';
import type { Curve, FindingResult, Progress, Stat, Verdict } from './types';

/** How many standard errors an effect must clear to count (≈ 95 % for a normal mean). */
export const Z = 2;

export function stat(xs: readonly number[]): Stat {
  const s = spread([...xs]);
  return { mean: s.mean, std: s.sd, per_seed: [...xs] };
}

/** A figure that does not depend on the seed (a formula, a shape). */
export function fixed(x: number): Stat {
  return { mean: x, std: 0, per_seed: [] };
}

export interface Interval {
  mean: number;
  se: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * mean ± Z·SE of values over seeds. With fewer than two values the spread across seeds is
 * unknown: `fallbackSe` (e.g. a binomial standard error of an accuracy) stands in, else the
 * interval is unbounded (nothing can be told).
 */
export function interval(xs: readonly number[], fallbackSe?: number): Interval {
  const s = spread([...xs]);
  if (s.n === 0) return { mean: NaN, se: Infinity, lo: -Infinity, hi: Infinity, n: 0 };
  const se = s.n >= 2 ? s.se : (fallbackSe ?? Infinity);
  if (!xs.every(Number.isFinite)) return { mean: NaN, se: Infinity, lo: -Infinity, hi: Infinity, n: s.n };
  return { mean: s.mean, se, lo: s.mean - Z * se, hi: s.mean + Z * se, n: s.n };
}

/** Per-seed differences a − b (seeds paired by position). */
export function diffs(a: readonly number[], b: readonly number[]): number[] {
  return a.slice(0, Math.min(a.length, b.length)).map((x, i) => x - b[i]);
}

/** The verdict of a rule: "not reproduced" wins over "reproduced"; neither is "inconclusive". */
export function decide(reproduced: boolean, notReproduced: boolean): Verdict {
  if (notReproduced) return 'not reproduced';
  return reproduced ? 'reproduced' : 'inconclusive';
}

/** A metric of an arm from a result; undefined when the arm or metric is missing. */
export function metric(r: FindingResult, arm: string, name: string): Stat | undefined {
  return r.lab[arm]?.[name];
}

/** Per-seed values of a metric, [] when missing. */
export function values(r: FindingResult, arm: string, name: string): number[] {
  return metric(r, arm, name)?.per_seed ?? [];
}

/** A curve from per-seed rows, each cut to the shortest row. */
export function curve(label: string, x: readonly number[], rows: readonly number[][]): Curve {
  const n = Math.min(x.length, ...rows.map((r) => r.length));
  return { label, x: x.slice(0, n), per_seed: rows.map((r) => r.slice(0, n)) };
}

/** Progress in work units with a label; a finding knows its total up front. */
export class Meter {
  done = 0;
  constructor(
    readonly total: number,
    private readonly report?: (p: Progress) => void,
  ) {}

  add(units: number, what: string): void {
    this.done = Math.min(this.total, this.done + units);
    this.report?.({ done: this.done, total: this.total, what });
  }

  say(what: string): void {
    this.report?.({ done: this.done, total: this.total, what });
  }
}

/** `digits` significant-looking decimals, or "–" for a missing / non-finite value. */
export function num(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

export function pct(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(digits)}%`;
}

/** "mean ± std" of a stat, as a number or a percentage. */
export function pm(s: Stat | undefined, digits = 3, asPct = false): string {
  if (!s) return '–';
  const f = asPct ? (x: number) => pct(x, digits) : (x: number) => num(x, digits);
  return s.per_seed.length > 1 ? `${f(s.mean)} ± ${f(s.std)}` : f(s.mean);
}

/** "n seeds" / "1 seed". */
export function seedsText(r: FindingResult): string {
  return `${r.seeds.length} seed${r.seeds.length === 1 ? '' : 's'}`;
}
