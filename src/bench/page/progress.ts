// The bench page's progress line: "case k of n" while a case runs, an ETA from the cases done so
// far (their mean time × the cases left, less the time the current one has run), what Stop
// waits for, and at the end how many cases ran. Pure, for the unit test.

export interface BenchProgress {
  /** Cases the run selected. */
  total: number;
  /** Milliseconds each finished case took, in order. */
  doneMs: readonly number[];
  /** The case now running (null between cases and at the end). */
  current: string | null;
  /** Stop was pressed: the run ends after the current case. */
  stopping: boolean;
}

/** Seconds as "42s", "3m 05s", "1h 02m". */
export function fmtSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Milliseconds left, from the mean of the finished cases; null before one has finished. */
export function benchEtaMs(p: BenchProgress, currentRanMs: number): number | null {
  const n = p.doneMs.length;
  if (n === 0) return null;
  const mean = p.doneMs.reduce((a, b) => a + b, 0) / n;
  const left = p.total - n; // the current case included
  return Math.max(0, mean * left - (p.current ? currentRanMs : 0));
}

/** The progress line while a case runs (`currentRanMs`: how long it has run). */
export function benchProgressText(p: BenchProgress, currentRanMs: number): string {
  const k = p.doneMs.length + 1;
  const head = `case ${k} of ${p.total}${p.current ? ` (${p.current})` : ''}`;
  if (p.stopping) return `${head} · stopping after this case; the results so far are kept`;
  const eta = benchEtaMs(p, currentRanMs);
  if (eta === null) return `${head} · ETA after the first case`;
  const done = p.doneMs.length;
  return `${head} · ETA ≈ ${fmtSeconds(eta / 1000)} (from ${done} case${done === 1 ? '' : 's'} done; cases differ in cost)`;
}

/** The line at the end of a run. */
export function benchDoneText(p: BenchProgress, wallMs: number): string {
  const ran = p.doneMs.length;
  const stopped = p.stopping && ran < p.total ? ', stopped' : '';
  return `${ran} of ${p.total} case${p.total === 1 ? '' : 's'} run in ${fmtSeconds(wallMs / 1000)}${stopped}`;
}
