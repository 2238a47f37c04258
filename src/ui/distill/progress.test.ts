// Distillation progress in words: a stale line from a finished stage gives way to the next stage.

import { describe, expect, it } from 'vitest';
import type { DistillPoint } from '../../lab/api';
import { distillProgressText, finishedStage } from './progress';

const pt = (arm: DistillPoint['arm'], step: number): DistillPoint => ({
  arm,
  step,
  tokens: step * 10,
  heldout_greedy: 0.5,
  heldout_pass_k: 0.5,
  format_rate: 1,
  response_len: 8,
});

describe('distillation progress', () => {
  it('counts stages on completion and drops a finished stage’s line', () => {
    expect(finishedStage([], 20)).toBe(-1);
    expect(distillProgressText('teacher step 200/260', [], 20)).toBe('now: teacher step 200/260');
    const base = [pt('teacher', 260), pt('base', 0)];
    expect(finishedStage(base, 20)).toBe(1);
    expect(distillProgressText('student pretrain step 150/150', base, 20)).toBe(
      'finished: teacher (GRPO), student base (pretraining) · now: direct GRPO arm…',
    );
    expect(distillProgressText('rl arm step 5/20', base, 20)).toContain('now: rl arm step 5/20');
    expect(finishedStage([...base, pt('rl', 10)], 20)).toBe(1);
    expect(finishedStage([...base, pt('rl', 20)], 20)).toBe(2);
  });
});
