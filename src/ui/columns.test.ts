import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../lab/api';
import { MetricColumns } from './columns';

const m = (step: number, val: number | null = null, extra: Partial<StepMetrics> = {}): StepMetrics => ({
  step,
  loss: 10 - step,
  val_loss: val,
  lr: step / 100,
  grad_norm: 1,
  tokens_per_s: 500,
  ...extra,
});

describe('MetricColumns', () => {
  it('grows past its capacity and gives views of exactly the pushed values', () => {
    const c = new MetricColumns();
    for (let i = 1; i <= 3000; i++) c.push(m(i, i % 1000 === 0 ? 1 : null));
    const v = c.views();
    expect(c.length).toBe(3000);
    expect(v.step.length).toBe(3000);
    expect(v.step[2999]).toBe(3000);
    expect(v.field('loss').y[0]).toBe(9);
    expect(v.field('loss').x).toBe(v.step);
    expect(Array.from(v.valStep)).toEqual([1000, 2000, 3000]);
    expect(Array.from(v.valLoss)).toEqual([1, 1, 1]);
  });

  it('gives a new numeric field its own column, NaN where it was not logged; arrays get a column per element', () => {
    const c = MetricColumns.from([m(2), m(4, 3.5, { max_vio: 0.5, expert_load: [[1, 2]] }), m(6)]);
    const v = c.views();
    expect(Array.from(v.field('lr').y)).toEqual([0.02, 0.04, 0.06]);
    expect(Array.from(v.field('max_vio').y)).toEqual([NaN, 0.5, NaN]);
    expect(v.has('max_vio')).toBe(true);
    expect(v.has('expert_load')).toBe(false);
    expect(Array.from(v.field('expert_load.0.1').y)).toEqual([NaN, 2, NaN]);
    expect(v.field('nothing').x.length).toBe(0);
    expect(Array.from(v.valStep)).toEqual([4]);
  });

  it('per-layer and per-expert MoE metrics become columns by path', () => {
    const c = MetricColumns.from([
      m(1, null, {
        max_vio: 1,
        max_vio_layers: [0.5, 1.5],
        expert_load: [
          [3, 1],
          [2, 2],
        ],
        router_bias: [
          [0.1, -0.1],
          [0, 0],
        ],
      }),
      m(2, null, {
        max_vio: 0.5,
        max_vio_layers: [0.25, 0.75],
        expert_load: [
          [2, 2],
          [1, 3],
        ],
        router_bias: [
          [0.2, -0.2],
          [0.1, -0.1],
        ],
      }),
    ]);
    const v = c.views();
    expect(Array.from(v.field('max_vio_layers.1').y)).toEqual([1.5, 0.75]);
    expect(Array.from(v.field('expert_load.1.1').y)).toEqual([2, 3]);
    expect(Array.from(v.field('router_bias.0.1').y)).toEqual([-0.1, -0.2]);
    expect(v.has('max_vio_layers.2')).toBe(false);
  });
});
