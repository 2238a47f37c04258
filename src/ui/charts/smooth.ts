// Exponential moving average for noisy training curves, debiased the way TensorBoard does it.
//
// A plain EMA started at 0 is pulled towards 0 for its first ~1/(1-w) points. Dividing by the
// total weight the average has accumulated so far, 1 - w^n after n values, removes that bias,
// so the first smoothed value equals the first raw value and the curve starts where the data
// starts. Missing (null) and non-finite values pass through unchanged and do not count.

/** Clamp a smoothing weight to the usable range [0, 0.999]. */
export function clampWeight(weight: number): number {
  return Number.isFinite(weight) ? Math.min(0.999, Math.max(0, weight)) : 0;
}

export function emaSmooth(y: ArrayLike<number | null>, weight: number): (number | null)[] {
  const w = clampWeight(weight);
  const out = new Array<number | null>(y.length);
  let acc = 0; // sum of w^(n-1-i) · (1-w) · y_i over the values seen
  let wn = 1; // w^n: the weight still missing from the average after n values
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    wn *= w;
    out[i] = acc / (1 - wn);
  }
  return out;
}
