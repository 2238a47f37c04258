import { describe, expect, it } from 'vitest';
import { niceTicks, thin } from './LossChart';

describe('niceTicks', () => {
  it('gives round steps covering the range', () => {
    expect(niceTicks(0, 300, 6)).toEqual([0, 50, 100, 150, 200, 250, 300]);
    expect(niceTicks(0.93, 3.42, 5)).toEqual([1, 1.5, 2, 2.5, 3]);
    expect(niceTicks(2, 2, 5)).toEqual([2]);
  });
});

describe('thin', () => {
  it('keeps short series as they are', () => {
    const pts: [number, number][] = [[1, 3], [2, 2], [3, 1]];
    expect(thin(pts, 10, 0, 3)).toBe(pts);
  });

  it('keeps at most the min and max of each column, in x order, spikes included', () => {
    const pts: [number, number][] = Array.from({ length: 1000 }, (_, i) => [i, i === 503 ? 100 : 1 + (i % 7) / 10]);
    const out = thin(pts, 10, 0, 1000);
    expect(out.length).toBeLessThanOrEqual(20);
    expect(out.some(([, y]) => y === 100)).toBe(true);
    for (let i = 1; i < out.length; i++) expect(out[i][0]).toBeGreaterThan(out[i - 1][0]);
  });
});
