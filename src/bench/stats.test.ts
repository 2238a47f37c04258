import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, median, planRepeats, quantile, QUICK_PLAN, relativeSpread } from './stats';

describe('bench stats', () => {
  it('median of odd and even counts, unsorted input left alone', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow();
  });

  it('quantiles interpolate between order statistics', () => {
    expect(quantile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
  });

  it('relative spread is the IQR over the median', () => {
    expect(relativeSpread([10, 10, 10])).toBe(0);
    expect(relativeSpread([8, 10, 12])).toBeCloseTo(0.2);
    expect(relativeSpread([3])).toBe(0);
  });

  it('plans many reps for fast units and one rep, minimum samples for slow ones', () => {
    const fast = planRepeats(0.01, DEFAULT_PLAN);
    expect(fast.reps).toBe(DEFAULT_PLAN.maxReps);
    expect(fast.samples).toBe(DEFAULT_PLAN.maxSamples);
    const mid = planRepeats(20, DEFAULT_PLAN);
    expect(mid.reps).toBe(3);
    expect(mid.samples).toBe(DEFAULT_PLAN.maxSamples);
    const slow = planRepeats(5000, DEFAULT_PLAN);
    expect(slow).toEqual({ reps: 1, samples: DEFAULT_PLAN.minSamplesSlow });
    expect(planRepeats(1000, DEFAULT_PLAN)).toEqual({ reps: 1, samples: 4 }); // 4 s budget
    expect(planRepeats(2000, DEFAULT_PLAN)).toEqual({ reps: 1, samples: DEFAULT_PLAN.minSamples });
    // Within budget: 400 ms units, 4 s budget → 10, capped at maxSamples.
    expect(planRepeats(400, DEFAULT_PLAN).samples).toBe(DEFAULT_PLAN.maxSamples);
    expect(planRepeats(800, DEFAULT_PLAN).samples).toBe(5);
    expect(planRepeats(0.5, QUICK_PLAN)).toEqual({ reps: 1, samples: 2 });
    expect(planRepeats(0, DEFAULT_PLAN).reps).toBe(DEFAULT_PLAN.maxReps);
  });
});
