// Axis tick labels. uPlot's default formatter rounds every value to 3 decimals, so ticks 0.0005
// apart come out as "0.002, 0.001, 0.001, 0". Here the precision follows the tick spacing: the
// spacing is written exactly (0.0005 → 4 decimals), and every tick with that many decimals, so
// neighbouring labels always differ. Very large or very small ticks use exponent notation with
// as many mantissa digits as the spacing needs.

import { formatValue } from './plot-format';

/** Decimals needed to write `x` exactly (x ≥ 0, up to 15; float noise tolerated). */
export function decimalsFor(x: number): number {
  if (!Number.isFinite(x) || x <= 0) return 0;
  for (let d = 0; d <= 15; d++) {
    const s = x * 10 ** d;
    if (Math.abs(s - Math.round(s)) <= 1e-6 * Math.max(1, Math.abs(s))) return d;
  }
  return 15;
}

const fixedFormats = new Map<number, Intl.NumberFormat>();
function fixed(v: number, decimals: number): string {
  let f = fixedFormats.get(decimals);
  if (!f)
    fixedFormats.set(
      decimals,
      (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })),
    );
  return f.format(v === 0 ? 0 : v); // no "-0"
}

/**
 * Labels for evenly spaced ticks `incr` apart on a linear axis. Ticks of a log axis (not evenly
 * spaced) get 4 significant digits each, which already tells them apart.
 */
export function tickLabels(splits: ReadonlyArray<number | null>, incr: number, log = false): string[] {
  if (log || !(incr > 0) || !Number.isFinite(incr)) return splits.map((v) => (v == null ? '' : formatValue(v)));
  let maxAbs = 0;
  for (const v of splits) if (v != null && Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  if (maxAbs >= 1e7 || (maxAbs > 0 && maxAbs < 1e-4)) {
    // d.ddd·10^e: the spacing in units of the largest tick's power of ten sets the digits.
    const e = Math.floor(Math.log10(maxAbs));
    const digits = Math.min(15, decimalsFor(incr / 10 ** e));
    return splits.map((v) => (v == null ? '' : v === 0 ? '0' : v.toExponential(digits)));
  }
  const d = decimalsFor(incr);
  return splits.map((v) => (v == null ? '' : fixed(v, d)));
}
