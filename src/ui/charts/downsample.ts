// Display downsampling and alignment for the metric charts.
//
// A chart is a few hundred pixels wide, so drawing 100k points per series wastes time and
// blurs nothing more into view. minMaxDownsample cuts the x range into `buckets` equal columns
// (one per pixel) and keeps only the lowest and highest point of each column, in x order: the
// drawn envelope is the same as with every point, spikes included, at ~2 points per pixel.
//
// uPlot wants all series on one shared x array. alignSeries merges the (sorted) x arrays of
// several series, e.g. different runs logged at different steps, and fills each series with
// null where it has no point; the chart draws with spanGaps so those nulls don't break lines.

export interface XY {
  x: number[];
  y: number[];
}

/**
 * Keep the first and last point plus the min and max point of each of `buckets` equal-width
 * x columns. `x` must be ascending. Null and non-finite points (and, with positiveOnly,
 * points with y <= 0, which a log axis cannot show) are dropped. Output length ≤ 2·buckets + 2.
 */
export function minMaxDownsample(
  x: ArrayLike<number>,
  y: ArrayLike<number | null>,
  buckets: number,
  positiveOnly = false,
): XY {
  const n = Math.min(x.length, y.length);
  // v - v === 0 is a fast "finite" test (false for NaN and ±Infinity).
  const ok = (i: number): boolean => {
    const v = y[i];
    return v !== null && v - v === 0 && x[i] - x[i] === 0 && (!positiveOnly || v > 0);
  };
  let first = 0;
  while (first < n && !ok(first)) first++;
  let last = n - 1;
  while (last > first && !ok(last)) last--;
  const out: XY = { x: [], y: [] };
  if (first >= n) return out;

  const cols = Math.max(1, Math.floor(buckets));
  if (last - first + 1 <= 2 * cols + 2) {
    for (let i = first; i <= last; i++) {
      if (ok(i)) {
        out.x.push(x[i]);
        out.y.push(y[i] as number);
      }
    }
    return out;
  }

  const x0 = x[first];
  const scale = cols / (x[last] - x0 || 1);
  const floor = positiveOnly ? 0 : -Infinity; // keep only v > floor
  let done = first; // highest index emitted so far
  const emit = (i: number) => {
    if (i <= done && out.x.length > 0) return;
    done = i;
    out.x.push(x[i]);
    out.y.push(y[i] as number);
  };
  emit(first);
  // The current column and the index and value of its lowest and highest point.
  let col = -1;
  let lo = -1;
  let hi = -1;
  let loV = 0;
  let hiV = 0;
  for (let i = first + 1; i < last; i++) {
    const v = y[i];
    const xi = x[i];
    if (v === null || !(v - v === 0) || !(v > floor) || !(xi - xi === 0)) continue;
    const c = Math.min(cols - 1, Math.floor((xi - x0) * scale));
    if (c !== col) {
      if (col >= 0) {
        emit(Math.min(lo, hi));
        emit(Math.max(lo, hi));
      }
      col = c;
      lo = hi = i;
      loV = hiV = v;
    } else if (v < loV) {
      lo = i;
      loV = v;
    } else if (v > hiV) {
      hi = i;
      hiV = v;
    }
  }
  if (col >= 0) {
    emit(Math.min(lo, hi));
    emit(Math.max(lo, hi));
  }
  emit(last);
  return out;
}

/** One shared ascending x array and, per series, its y values on it (null where it has none). */
export interface Aligned {
  x: number[];
  ys: (number | null)[][];
}

/** Merge the ascending x arrays of several series (a k-way merge, linear in the total size). */
export function alignSeries(parts: XY[]): Aligned {
  const k = parts.length;
  if (k === 0) return { x: [], ys: [] };
  if (parts.every((p) => p.x === parts[0].x)) return { x: parts[0].x, ys: parts.map((p) => p.y) };

  const heads = new Array<number>(k).fill(0);
  const x: number[] = [];
  const ys = parts.map(() => [] as (number | null)[]);
  for (;;) {
    let m = Infinity;
    for (let s = 0; s < k; s++) {
      const h = heads[s];
      if (h < parts[s].x.length && parts[s].x[h] < m) m = parts[s].x[h];
    }
    if (m === Infinity) break;
    x.push(m);
    for (let s = 0; s < k; s++) {
      const p = parts[s];
      const h = heads[s];
      if (h < p.x.length && p.x[h] === m) {
        ys[s].push(p.y[h]);
        heads[s] = h + 1;
      } else ys[s].push(null);
    }
  }
  return { x, ys };
}
