import { describe, expect, it } from 'vitest';
import { policyWarnings } from './health';
import type { StepMetrics } from './metrics';

const step = (i: number, reward: number, entropy: number, format_rate: number): StepMetrics => ({
  step: 100 + i,
  loss: 0,
  val_loss: null,
  lr: 1e-4,
  grad_norm: 1,
  tokens_per_s: 1,
  stage: 'grpo',
  reward,
  entropy,
  format_rate,
});

describe('policy health', () => {
  it('says nothing for a healthy run or too early', () => {
    const healthy = Array.from({ length: 20 }, (_, i) => step(i, 1 + i * 0.01, 0.5 - i * 0.01, 1));
    expect(policyWarnings(healthy)).toEqual([]);
    expect(policyWarnings(healthy.slice(0, 6))).toEqual([]);
  });

  it('names an entropy collapse with a falling reward', () => {
    const run = Array.from({ length: 20 }, (_, i) => step(i, 1.2 - i * 0.01, i < 10 ? 0.5 : 0.01, 1));
    const w = policyWarnings(run);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^policy collapse by step 119: entropy 0\.500 → 0\.010 while the mean reward fell/);
  });

  it('does not call a confident policy whose reward rises a collapse', () => {
    const run = Array.from({ length: 20 }, (_, i) => step(i, 1 + i * 0.05, i < 10 ? 0.5 : 0.01, 1));
    expect(policyWarnings(run)).toEqual([]);
  });

  it('names a dropping format rate', () => {
    const run = Array.from({ length: 20 }, (_, i) => step(i, 1, 0.4, i < 10 ? 1 : 0.5));
    expect(policyWarnings(run)[0]).toMatch(/^format is being forgotten by step 119: format rate 1\.00 → 0\.50/);
  });
});
