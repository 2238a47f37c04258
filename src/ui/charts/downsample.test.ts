import { describe, expect, it } from 'vitest';
import { alignSeries, minMaxDownsample } from './downsample';

function noisy(n: number, seed = 1): number[] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) => Math.exp(-i / n) + (rand() - 0.5) * 0.2);
}

describe('minMaxDownsample', () => {
  it('returns short series unchanged', () => {
    expect(minMaxDownsample([1, 2, 3], [3, 2, 1], 10)).toEqual({ x: [1, 2, 3], y: [3, 2, 1] });
  });

  it('keeps first, last, global min and max, ascending x, bounded length', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = noisy(n);
    y[31_337] = 9; // a spike
    y[77_777] = -9; // a dip
    for (const buckets of [1, 7, 400, 1000]) {
      const out = minMaxDownsample(x, y, buckets);
      expect(out.x.length).toBeLessThanOrEqual(2 * buckets + 2);
      expect(out.x.length).toBe(out.y.length);
      expect(out.x[0]).toBe(0);
      expect(out.y[0]).toBe(y[0]);
      expect(out.x[out.x.length - 1]).toBe(n - 1);
      expect(out.y[out.y.length - 1]).toBe(y[n - 1]);
      expect(Math.max(...out.y)).toBe(9);
      expect(Math.min(...out.y)).toBe(-9);
      for (let i = 1; i < out.x.length; i++) expect(out.x[i]).toBeGreaterThan(out.x[i - 1]);
      // Every kept point is a real input point.
      for (let i = 0; i < out.x.length; i++) expect(out.y[i]).toBe(y[out.x[i]]);
    }
  });

  it('keeps the min and max of every column', () => {
    const n = 10_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = noisy(n, 7);
    const buckets = 50;
    const out = minMaxDownsample(x, y, buckets);
    const width = (n - 1) / buckets;
    for (let c = 0; c < buckets; c++) {
      const lo = Math.ceil(c * width);
      const hi = Math.min(n - 1, Math.ceil((c + 1) * width) - 1);
      const col = y.slice(lo, hi + 1);
      const kept = out.y.filter((_, i) => out.x[i] >= lo && out.x[i] <= hi);
      expect(kept).toContain(Math.max(...col));
      expect(kept).toContain(Math.min(...col));
    }
  });

  it('drops nulls and non-finite values, also at the ends', () => {
    const n = 5000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y: (number | null)[] = noisy(n).map((v, i) => (i % 3 === 0 ? null : v));
    y[1] = NaN;
    y[n - 2] = null;
    y[n - 1] = Infinity;
    const out = minMaxDownsample(x, y, 100);
    expect(out.x.length).toBeLessThanOrEqual(202);
    expect(out.y.every((v) => Number.isFinite(v))).toBe(true);
    expect(out.x[0]).toBe(2);
    expect(out.x[out.x.length - 1]).toBe(n - 3); // n-1: Infinity, n-2: null
    const finite = y.filter((v): v is number => v !== null && Number.isFinite(v));
    expect(Math.max(...out.y)).toBe(Math.max(...finite));
    expect(Math.min(...out.y)).toBe(Math.min(...finite));
    expect(minMaxDownsample([1, 2], [null, null], 10)).toEqual({ x: [], y: [] });
    expect(minMaxDownsample([], [], 10)).toEqual({ x: [], y: [] });
  });

  it('drops non-positive values for a log axis', () => {
    const out = minMaxDownsample([0, 1, 2, 3], [0, -1, 2, 3], 10, true);
    expect(out).toEqual({ x: [2, 3], y: [2, 3] });
  });

  it('handles uneven x spacing and typed arrays', () => {
    const n = 20_000;
    const x = Float64Array.from({ length: n }, (_, i) => i * i);
    const y = Float32Array.from(noisy(n));
    const out = minMaxDownsample(x, y, 64);
    expect(out.x.length).toBeLessThanOrEqual(130);
    for (let i = 1; i < out.x.length; i++) expect(out.x[i]).toBeGreaterThan(out.x[i - 1]);
    expect(Math.max(...out.y)).toBe(Math.max(...y));
  });
});

describe('alignSeries', () => {
  it('merges x arrays and fills gaps with null', () => {
    const a = { x: [0, 2, 4], y: [1, 2, 3] };
    const b = { x: [1, 2, 5], y: [10, 20, 30] };
    expect(alignSeries([a, b])).toEqual({
      x: [0, 1, 2, 4, 5],
      ys: [
        [1, null, 2, 3, null],
        [null, 10, 20, null, 30],
      ],
    });
  });

  it('shares an identical x array and handles empty input', () => {
    const x = [1, 2, 3];
    const out = alignSeries([
      { x, y: [1, 2, 3] },
      { x, y: [4, 5, 6] },
    ]);
    expect(out.x).toBe(x);
    expect(alignSeries([])).toEqual({ x: [], ys: [] });
    expect(
      alignSeries([
        { x: [], y: [] },
        { x: [3], y: [1] },
      ]),
    ).toEqual({ x: [3], ys: [[null], [1]] });
  });
});
