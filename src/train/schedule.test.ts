import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import { learningRate } from './schedule';

const base = findPreset('micro-dense')!.config.optim;

describe('learning-rate schedules', () => {
  it('warmup + cosine', () => {
    const o = { ...base, lr: 1, warmup_steps: 10, min_lr_ratio: 0.1, schedule: 'cosine' as const };
    expect(learningRate(o, 1, 110)).toBeCloseTo(0.1, 12);
    expect(learningRate(o, 10, 110)).toBeCloseTo(1, 12);
    expect(learningRate(o, 60, 110)).toBeCloseTo(0.1 + 0.9 * 0.5, 12); // halfway through the cosine
    expect(learningRate(o, 110, 110)).toBeCloseTo(0.1, 12);
  });

  it('warmup-stable-decay', () => {
    const o = { ...base, lr: 2, warmup_steps: 4, min_lr_ratio: 0, decay_fraction: 0.2, schedule: 'wsd' as const };
    expect(learningRate(o, 2, 100)).toBeCloseTo(1, 12);
    expect(learningRate(o, 50, 100)).toBe(2);
    expect(learningRate(o, 80, 100)).toBe(2);
    expect(learningRate(o, 90, 100)).toBeCloseTo(1, 12);
    expect(learningRate(o, 100, 100)).toBeCloseTo(0, 12);
  });
});
