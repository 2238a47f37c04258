import { describe, expect, it } from 'vitest';
import { clampWeight, emaSmooth } from './smooth';

describe('emaSmooth', () => {
  it('is the identity at weight 0', () => {
    expect(emaSmooth([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it('is debiased: starts at the first value and a constant stays constant', () => {
    const out = emaSmooth([2, 2, 2, 2], 0.9);
    for (const v of out) expect(v).toBeCloseTo(2, 12);
  });

  it('matches the debiased EMA formula', () => {
    const w = 0.6;
    const y = [1, 5, -2, 3];
    const out = emaSmooth(y, w);
    let num = 0;
    let den = 0;
    y.forEach((v, i) => {
      num = num * w + v;
      den = den * w + 1;
      expect(out[i]).toBeCloseTo(num / den, 12);
    });
  });

  it('passes nulls and non-finite values through without counting them', () => {
    const out = emaSmooth([1, null, NaN, 3], 0.5);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeNaN();
    expect(out[0]).toBe(1);
    // Second counted value: (0.5·1 + 3) / (0.5 + 1).
    expect(out[3]).toBeCloseTo(3.5 / 1.5, 12);
  });

  it('clamps the weight to [0, 0.999]', () => {
    expect(clampWeight(-1)).toBe(0);
    expect(clampWeight(1)).toBe(0.999);
    expect(clampWeight(NaN)).toBe(0);
    const out = emaSmooth([0, 10], 5);
    expect(out[1]).toBeGreaterThan(4.99);
    expect(out[1]).toBeLessThan(5.01);
  });

  it('reduces noise', () => {
    const y = Array.from({ length: 2000 }, (_, i) => 1 + (i % 2 ? 0.5 : -0.5));
    const out = emaSmooth(y, 0.95) as number[];
    for (const v of out.slice(200)) expect(Math.abs(v - 1)).toBeLessThan(0.03);
  });
});
