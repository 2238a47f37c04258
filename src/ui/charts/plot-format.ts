// Number formatting shared by the chart's legend and its axes.

/** Compact number formatting for the legend: 4 significant digits, no exponent for usual values. */
export function formatValue(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** The last non-null, finite value of a (downsampled, aligned) series, for the idle legend. */
export function lastValue(y: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!y) return null;
  for (let i = y.length - 1; i >= 0; i--) {
    const v = y[i];
    if (v != null && Number.isFinite(v)) return v;
  }
  return null;
}
