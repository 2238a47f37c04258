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

/**
 * Tick spacings for the x axis, which counts steps (or tokens): whole numbers only — 1, 2, 5,
 * 10, 20, 25, 50, … — so a short run never gets ticks at step 1.2 or 2.5.
 */
export const STEP_INCRS: number[] = (() => {
  const out = [1, 2, 5];
  for (let p = 10; p <= 1e15; p *= 10) out.push(p, 2 * p, 2.5 * p, 5 * p);
  return out;
})();

/**
 * The y range of a series that does not vary (a reward of 0 at every step so far): 0 gets
 * [0, 1] (shares, accuracies and rewards live there) and any other value ±10% of itself, instead
 * of uPlot's 0–100. Null when the data varies (uPlot's own padding applies).
 */
export function flatRange(min: number, max: number): [number, number] | null {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || min !== max) return null;
  if (min === 0) return [0, 1];
  const pad = Math.abs(min) * 0.1;
  return [min - pad, max + pad];
}

/** Width of a y axis in CSS pixels that fits its longest tick label (≈7 px a character at 12 px). */
export function axisWidth(labels: readonly string[] | null | undefined): number {
  const longest = labels?.reduce((m, l) => Math.max(m, l?.length ?? 0), 0) ?? 0;
  return Math.min(96, Math.max(40, Math.ceil(longest * 7 + 18)));
}
