// An RL pipeline run as the page shows it: the GRPO surrogate never in the LM loss's column or
// headline, stage bands from the run's Schedule, the headline's per-stage figures.

import { describe, expect, it } from 'vitest';
import { applyOverrides, findPreset } from '../config';
import type { StepMetrics } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { Schedule } from '../run/schedule';
import { MetricColumns } from './columns';
import { computeProgress } from './run/metrics';
import { finalLoss } from './runs';
import { fmtAccuracy, GRPO_OBJECTIVE, lastHeldout, lastLmLoss, seBounds, stageMarkers, stagesOf } from './stages';

const config = applyOverrides(findPreset('r1')!.config, { 'train.steps': 4, 'rl.sft_steps': 2, 'rl.grpo_steps': 3 });

/** Steps 1–4 pretrain, 5–6 SFT, 7–9 GRPO; held-out accuracy at the handoffs (4, 6) and the end. */
function metrics(): StepMetrics[] {
  const sched = new Schedule(config);
  return Array.from({ length: 9 }, (_, i) => {
    const step = i + 1;
    const stage = sched.stageOf(step).name;
    const m: StepMetrics = {
      step,
      loss: stage === 'grpo' ? -0.01 * step : 3 - step / 10,
      val_loss: null,
      lr: 1e-3,
      grad_norm: 1,
      tokens_per_s: 100,
      stage,
    };
    if (stage === 'grpo') Object.assign(m, { reward: 0.1 * step, accuracy: 0.5, format_rate: 0.9 });
    if (step === 4 || step === 6 || step === 9) m.heldout_greedy = step / 20;
    return m;
  });
}

function record(ms: StepMetrics[]): RunRecord {
  return {
    id: 'r1',
    name: 'run 1',
    createdAt: 1,
    preset: 'r1',
    seed: 1,
    config,
    metrics: ms,
    changes: [],
    samples: [],
    status: 'running',
    adapter: 'a',
    backend: 'webgpu',
  };
}

describe('RL pipeline runs on the page', () => {
  it('files a GRPO step’s loss as the surrogate objective, never as the LM loss', () => {
    const v = MetricColumns.from(metrics()).views();
    const loss = Array.from(v.field('loss').y);
    const obj = Array.from(v.field(GRPO_OBJECTIVE).y);
    expect(loss.slice(0, 6).every(Number.isFinite)).toBe(true);
    expect(loss.slice(6).every(Number.isNaN)).toBe(true);
    expect(obj.slice(0, 6).every(Number.isNaN)).toBe(true);
    expect(obj.slice(6)).toEqual([-0.07, -0.08, -0.09]);
    // A plain run keeps its loss where it was.
    const plain = MetricColumns.from(metrics().map(({ stage: _s, ...m }) => m)).views();
    expect(plain.has(GRPO_OBJECTIVE)).toBe(false);
    expect(Array.from(plain.field('loss').y).every(Number.isFinite)).toBe(true);
  });

  it('the headline shows the LM loss before GRPO, and reward and held-out accuracy during it', () => {
    const ms = metrics();
    const atSft = computeProgress(record(ms.slice(0, 6)), null, null, 0);
    expect(atSft).toMatchObject({ stage: 'sft', loss: ms[5].loss, reward: null, heldout: 0.3 });
    const atGrpo = computeProgress(record(ms), null, null, 0);
    expect(atGrpo).toMatchObject({ stage: 'grpo', loss: null, reward: 0.9, heldout: 0.45 });
    // The runs table's final loss is the last LM loss, not the surrogate.
    expect(finalLoss(record(ms))).toBe(ms[5].loss);
    expect(lastLmLoss(ms)).toBe(ms[5].loss);
    expect(lastHeldout(ms)).toEqual({ step: 9, value: 0.45 });
  });

  it('marks the stage boundaries with bands from the run’s Schedule; one-stage runs get none', () => {
    const stages = stagesOf(record([]), null);
    expect(stages.map((s) => [s.name, s.first, s.last])).toEqual([
      ['pretrain', 1, 4],
      ['sft', 5, 6],
      ['grpo', 7, 9],
    ]);
    const marks = stageMarkers(stages);
    expect(marks.map((m) => [m.x, m.until, m.label, m.kind])).toEqual([
      [0.5, 4.5, '', 'stage'],
      [4.5, 6.5, 'SFT', 'stage'],
      [6.5, 9.5, 'GRPO', 'stage'],
    ]);
    expect(marks[0].fill).toBeUndefined();
    expect(marks[2].fill).toMatch(/stage-grpo/);
    const plain = record([]);
    plain.config = findPreset('micro-dense')!.config;
    expect(stageMarkers(stagesOf(plain, null))).toEqual([]);
  });

  it('shows a held-out accuracy with its standard error over the held-out prompts', () => {
    // √(0.625 · 0.375 / 32) = 0.0856
    expect(fmtAccuracy(0.625, 32)).toBe('0.625 ± 0.086');
    expect(fmtAccuracy(0, 16)).toBe('0.000 ± 0.000');
    expect(fmtAccuracy(0.5, 0)).toBe('0.500');
    expect(fmtAccuracy(null, 16)).toBe('–');
    const { lo, hi } = seBounds(Float64Array.from([NaN, 0.5, 0.9]), 4);
    expect(Number.isNaN(lo[0]) && Number.isNaN(hi[0])).toBe(true);
    expect([lo[1], hi[1]]).toEqual([0.25, 0.75]);
    expect(hi[2]).toBe(1); // clipped to [0, 1]
    expect(lo[2]).toBeCloseTo(0.75, 12);
  });
});
