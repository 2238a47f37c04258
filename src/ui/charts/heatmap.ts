// Cell images for the canvas heatmaps (HeatmapCanvas.tsx): colour ramps, the attention pattern
// (query rows × key columns, causal) and the expert load over time (expert rows × logged steps,
// downsampled to the plot width). Pure functions over typed arrays, unit-tested without a DOM.

export type RGB = readonly [number, number, number];

export interface HeatImage {
  cols: number;
  rows: number;
  /** RGBA, row-major rows × cols; alpha 0 leaves a cell empty. */
  rgba: Uint8ClampedArray;
  /** One label per row (drawn left of the rows, thinned when rows are tight). */
  rowLabels: string[];
  /** One label per column (drawn above the columns), if any. */
  colLabels?: string[];
  /** Labels under some columns (a time axis). */
  xTicks?: Array<{ col: number; label: string }>;
  /** Hover readout of a cell (null: nothing to say). */
  describe(row: number, col: number): string | null;
}

/** Light to dark blue: for probabilities. */
export const SEQUENTIAL: readonly RGB[] = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

/** Blue (below), white (even), red (above): for load relative to the mean. */
export const DIVERGING: readonly RGB[] = [
  [33, 102, 172],
  [146, 197, 222],
  [247, 247, 247],
  [244, 165, 130],
  [178, 24, 43],
];

/** Colour at t ∈ [0, 1] on evenly spaced stops, linearly interpolated (t is clamped). */
export function ramp(stops: readonly RGB[], t: number): RGB {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

function put(rgba: Uint8ClampedArray, cell: number, c: RGB): void {
  const o = cell * 4;
  rgba[o] = c[0];
  rgba[o + 1] = c[1];
  rgba[o + 2] = c[2];
  rgba[o + 3] = 255;
}

/** A character as an axis label: space and control characters made visible. */
export function showChar(ch: string): string {
  if (ch === ' ') return '␣';
  if (ch === '\n') return '⏎';
  if (ch === '\t') return '⇥';
  return ch;
}

const fmtP = (p: number) => (p >= 0.001 || p === 0 ? p.toFixed(3) : p.toExponential(1));

/**
 * The attention pattern of one head: row i = query position i, column j = key position j,
 * probs row-major [T, T]. Causal: keys after the query (j > i) stay empty. The shade is √p, so
 * that weights of a few percent (common in long rows) are still visible.
 */
export function attentionImage(tokens: readonly string[], probs: ArrayLike<number>): HeatImage {
  const T = tokens.length;
  if (probs.length !== T * T) throw new Error(`attention pattern: ${probs.length} probabilities for ${T} tokens`);
  const rgba = new Uint8ClampedArray(T * T * 4);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j <= i; j++) put(rgba, i * T + j, ramp(SEQUENTIAL, Math.sqrt(Math.max(0, probs[i * T + j]))));
  }
  const labels = tokens.map(showChar);
  return {
    cols: T,
    rows: T,
    rgba,
    rowLabels: labels,
    colLabels: labels,
    describe(i, j) {
      if (i < 0 || j < 0 || i >= T || j >= T) return null;
      if (j > i) return `query ${i} “${labels[i]}” cannot see key ${j} “${labels[j]}” (causal mask)`;
      return `query ${i} “${labels[i]}” → key ${j} “${labels[j]}”: p = ${fmtP(probs[i * T + j])}`;
    },
  };
}

/** Column buckets for n values in at most maxCols columns: bucket b covers [start[b], start[b+1]). */
export function buckets(n: number, maxCols: number): Int32Array {
  const cols = Math.max(0, Math.min(n, Math.floor(maxCols)));
  const start = new Int32Array(cols + 1);
  for (let b = 0; b <= cols; b++) start[b] = Math.floor((b * n) / Math.max(1, cols));
  return start;
}

/** log2(load / mean) is clamped to ±LOAD_RANGE: ¼× and 4× the mean load saturate the colours. */
export const LOAD_RANGE = 2;

/**
 * Expert load over time for one MoE layer: row e = expert e, one column per logged step (or per
 * bucket of consecutive logged steps when there are more than maxCols; a bucket shows the mean of
 * its load ratios). Colour = load ÷ mean load over the experts at that step, on a log scale:
 * white at the mean, blue below, red above.
 */
export function expertLoadImage(
  steps: ArrayLike<number>,
  loads: ReadonlyArray<ArrayLike<number>>,
  maxCols: number,
): HeatImage {
  const E = loads.length;
  const n = E ? Math.min(steps.length, ...loads.map((l) => l.length)) : 0;
  const start = buckets(n, maxCols);
  const cols = start.length - 1;
  const ratio = new Float32Array(E * cols).fill(NaN);
  const sum = new Float64Array(E);
  const cnt = new Int32Array(E);
  for (let b = 0; b < cols; b++) {
    sum.fill(0);
    cnt.fill(0);
    for (let s = start[b]; s < start[b + 1]; s++) {
      let total = 0;
      for (let e = 0; e < E; e++) total += loads[e][s];
      const mean = total / E;
      if (!(mean > 0) || !Number.isFinite(mean)) continue; // a step without MoE data
      for (let e = 0; e < E; e++) {
        sum[e] += loads[e][s] / mean;
        cnt[e]++;
      }
    }
    for (let e = 0; e < E; e++) if (cnt[e]) ratio[e * cols + b] = sum[e] / cnt[e];
  }
  const rgba = new Uint8ClampedArray(E * cols * 4);
  for (let k = 0; k < ratio.length; k++) {
    const r = ratio[k];
    if (Number.isNaN(r)) continue;
    const l = r > 0 ? Math.log2(r) : -LOAD_RANGE;
    put(rgba, k, ramp(DIVERGING, 0.5 + Math.max(-LOAD_RANGE, Math.min(LOAD_RANGE, l)) / (2 * LOAD_RANGE)));
  }
  const stepAt = (s: number) => steps[s];
  const xTicks: Array<{ col: number; label: string }> = [];
  if (cols > 0) {
    xTicks.push({ col: 0, label: `step ${stepAt(start[0])}` });
    if (cols > 1) xTicks.push({ col: cols - 1, label: `${stepAt(start[cols] - 1)}` });
  }
  return {
    cols,
    rows: E,
    rgba,
    rowLabels: Array.from({ length: E }, (_, e) => String(e)),
    xTicks,
    describe(e, b) {
      if (e < 0 || b < 0 || e >= E || b >= cols) return null;
      const r = ratio[e * cols + b];
      const a = start[b];
      const z = start[b + 1] - 1;
      const when = a === z ? `step ${stepAt(a)}` : `steps ${stepAt(a)}–${stepAt(z)} (mean of ${z - a + 1} logged)`;
      if (Number.isNaN(r)) return `${when}, expert ${e}: no data`;
      const tokens = a === z ? `${loads[e][a]} tokens, ` : '';
      return `${when}, expert ${e}: ${tokens}${r.toFixed(2)}× the mean load`;
    },
  };
}
