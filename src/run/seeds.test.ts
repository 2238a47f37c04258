import { describe, expect, it } from 'vitest';
import { accuracySe, liftSummary, spread } from './seeds';

describe('multi-seed summaries', () => {
  it('mean, sample sd, standard error, range', () => {
    const s = spread([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.se).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect([s.min, s.max, s.n]).toEqual([1, 4, 4]);
    expect(spread([7])).toMatchObject({ mean: 7, sd: 0, se: 0 });
    expect(spread([]).n).toBe(0);
  });

  it('accuracy standard error', () => {
    expect(accuracySe(0.5, 32)).toBeCloseTo(0.0884, 4);
    expect(accuracySe(0.5, 128)).toBeCloseTo(0.0442, 4);
  });

  it('lift summary over seeds, each seed kept', () => {
    const r = liftSummary([
      { seed: 11, before: 0.5, after: 0.7 },
      { seed: 12, before: 0.4, after: 0.45 },
      { seed: 13, before: 0.6, after: 0.9 },
    ]);
    expect(r.seeds).toEqual([11, 12, 13]);
    expect(r.lift_mean).toBeCloseTo((0.2 + 0.05 + 0.3) / 3, 12);
    expect(r.lift_min).toBeCloseTo(0.05, 12);
    expect(r.heldout_accuracy_before).toBeCloseTo(0.5, 12);
    expect(r.per_seed[1]).toMatchObject({ seed: 12, lift: expect.closeTo(0.05, 12) });
  });
});
