// Policy health in words on the page: the notice above the RL charts says when a policy
// collapses or forgets the format, and says nothing for a healthy run or a plain one.

import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { applyOverrides, findPreset } from '../../config';
import type { StepMetrics } from '../../lab/api';
import type { RunRecord } from '../../lab/runfile';
import { PolicyWarnings, policyNoticeOf } from './PolicyNotice';

const RL = applyOverrides(findPreset('r1')!.config, { 'train.steps': 2, 'rl.sft_steps': 0, 'rl.grpo_steps': 20 });

/** 20 GRPO steps: (entropy, reward, format) at their start values for 10 steps, then at `end`. */
function grpoRun(end: { entropy: number; reward: number; format: number }): RunRecord {
  const metrics: StepMetrics[] = [1, 2].map((step) => ({
    step,
    loss: 3,
    val_loss: null,
    lr: 1e-3,
    grad_norm: 1,
    tokens_per_s: 100,
    stage: 'pretrain',
  }));
  for (let i = 0; i < 20; i++) {
    const t = i < 10 ? 0 : 1;
    metrics.push({
      step: 3 + i,
      loss: 0.01,
      val_loss: null,
      lr: 1e-3,
      grad_norm: 1,
      tokens_per_s: 100,
      stage: 'grpo',
      entropy: 1.2 + t * (end.entropy - 1.2),
      reward: 0.6 + t * (end.reward - 0.6),
      format_rate: 0.9 + t * (end.format - 0.9),
    });
  }
  return {
    id: 'r',
    name: 'run 1',
    createdAt: 1,
    preset: 'r1',
    seed: 1,
    config: RL,
    metrics,
    changes: [],
    samples: [],
    status: 'done',
    adapter: 'a',
    backend: 'webgpu',
  };
}

describe('policy-health notice', () => {
  it('says in words that the policy collapsed and forgot the format, naming the step and what to change', () => {
    const warnings = policyNoticeOf(grpoRun({ entropy: 0.001, reward: 0.1, format: 0.3 }));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^policy collapse by step 22: entropy .* while the mean reward fell .*rl\.lr/);
    expect(warnings[1]).toMatch(/^format is being forgotten by step 22: format rate 0\.\d+ → 0\.\d+; raise/);
    const html = renderToStaticMarkup(createElement(PolicyWarnings, { warnings }));
    expect(html).toContain('data-testid="policy-warnings"');
    expect(html).toContain('Policy health');
    expect(html.match(/data-testid="policy-warning"/g)).toHaveLength(2);
    expect(html).toContain('policy collapse by step 22');
  });

  it('says nothing for a healthy policy, a plain run or an empty list', () => {
    expect(policyNoticeOf(grpoRun({ entropy: 1.0, reward: 0.8, format: 0.95 }))).toEqual([]);
    const plain = grpoRun({ entropy: 0.001, reward: 0.1, format: 0.3 });
    plain.config = findPreset('micro-dense')!.config;
    expect(policyNoticeOf(plain)).toEqual([]);
    expect(policyNoticeOf(null)).toEqual([]);
    expect(renderToStaticMarkup(createElement(PolicyWarnings, { warnings: [] }))).toBe('');
  });
});
