// The MoE layer inside training: the routing bias is state moved only by the loss-free rule
// (never by the optimizer), and the per-layer loads reach the metrics.
import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../config';
import { createLab, maxVio } from '../lab/lab';
import { findPreset } from '../config';
import { gpuBackend } from '../test/gpu';
import { RunPipeline } from '../run/pipeline';
import { disposeHandles } from '../train/stage';
import { activeParams, countParams, modelConfigOf } from './config';

const SMALL = { 'data.batch_size': 2, 'data.seq_len': 16, 'train.log_every': 1 };

describe('MoE in training', () => {
  it('the routing bias never receives an optimizer update; only γ·sign steps move it', async () => {
    const be = await gpuBackend();
    for (const gamma of [0, 0.001]) {
      const cfg = applyOverrides(findPreset('micro-moe')!.config, {
        ...SMALL,
        'train.bias_update_speed': gamma,
        'optim.weight_decay': 0.5,
      });
      const trainer = new RunPipeline(be, cfg, 7);
      expect([...trainer.state.trainable.keys()].some((n) => n.endsWith('e_score_correction_bias'))).toBe(false);
      for (let i = 0; i < 5; i++) disposeHandles(await trainer.runStep());
      for (const bias of await trainer.state.routerBias()) {
        for (const b of bias) {
          const steps = b / 0.001;
          if (gamma === 0) expect(b).toBe(0);
          else expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-3); // whole γ steps only
          expect(Math.abs(b)).toBeLessThanOrEqual(5 * gamma + 1e-9);
        }
      }
      trainer.dispose();
    }
  });

  it('reports per-layer expert loads and MaxVio in the step metrics', async () => {
    const lab = createLab(async () => gpuBackend());
    await lab.createRun({ preset: 'micro-moe', seed: 2, steps: 2, set: SMALL });
    const m = await lab.step();
    expect(m.expert_load).toHaveLength(2);
    for (const loads of m.expert_load!) {
      expect(loads).toHaveLength(8);
      expect(loads.reduce((a, b) => a + b, 0)).toBe(2 * 16 * 2); // N·K assignments, none dropped
    }
    expect(m.max_vio).toBeCloseTo((maxVio(m.expert_load![0]) + maxVio(m.expert_load![1])) / 2, 12);
    expect(m.router_bias).toHaveLength(2);
  });

  it('counts active parameters: K of E routed experts plus the shared one', () => {
    const c = modelConfigOf(findPreset('micro-moe')!.config, 30);
    const perExpert = 3 * c.moe_intermediate_size * c.hidden_size;
    expect(countParams(c) - activeParams(c)).toBe(
      c.num_hidden_layers * (c.n_routed_experts - c.num_experts_per_tok) * perExpert,
    );
  });

  it('MaxVio follows the spec formula', () => {
    expect(maxVio([3, 1, 2, 2])).toBeCloseTo(0.5, 12);
    expect(maxVio([2, 2, 2, 2])).toBe(0);
  });
});

describe('low-precision activation cache', () => {
  it('keeps about a quarter of the f32 bytes for E4M3 with 128-blocks', async () => {
    const { linearActivationCacheBytes } = await import('./config');
    const c = modelConfigOf(findPreset('micro-fp8')!.config, 30);
    const { f32, lowp } = linearActivationCacheBytes(c);
    // per layer: q,k,v,gate,up read d=64; o reads 64; down reads 128 → 6·64 + 128 = 512 values
    expect(f32).toBe(4 * 2 * 512);
    expect(lowp / f32).toBeCloseTo(0.25 + 1 / 128, 10);
  });
});
