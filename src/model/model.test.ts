// The whole model, end to end: the CPU reference gradient against finite differences, and the
// GPU forward and gradients against the CPU reference on the micro model.
import { describe, expect, it } from 'vitest';
import { relErr } from '../check/harness';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import { findPreset } from '../config';
import { cpu, gpuBackend } from '../test/gpu';
import { modelConfigOf, type ModelConfig } from './config';
import { forward, initParams, lossOf } from './model';

const tiny: ModelConfig = {
  ...modelConfigOf(findPreset('micro-dense')!.config, 7),
  attention: 'mha',
  q_lora_rank: 0,
  kv_lora_rank: 4,
  qk_nope_head_dim: 2,
  qk_rope_head_dim: 2,
  v_head_dim: 3,
  vocab_size: 7,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  intermediate_size: 12,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.5,
};

function batch(c: ModelConfig, B: number, T: number, seed: number) {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(0, c.vocab_size - 1));
  const tg = Int32Array.from({ length: B * T }, () => rng.int(0, c.vocab_size - 1));
  return { ids, tg };
}

async function lossAndGrads(be: Backend, c: ModelConfig, seed: number, B: number, T: number) {
  const params = initParams(be, c, new Rng(seed));
  const { ids, tg } = batch(c, B, T, seed + 1);
  const tape = new Tape();
  const loss = tape.run(
    () => lossOf(params, c, be.fromArray(ids, [B, T], 'i32'), be.fromArray(tg, [B, T], 'i32')).total,
  );
  const grads = tape.backward(loss);
  const out = new Map<string, Float64Array>();
  for (const [name, p] of params) out.set(name, (await grads.get(p.id)!.read()) as Float64Array);
  return { loss: (await loss.read())[0], grads: out, params };
}

describe('dense model', () => {
  it('CPU reference gradient matches central finite differences through the whole model', async () => {
    const B = 2;
    const T = 5;
    const { grads, params } = await lossAndGrads(cpu, tiny, 3, B, T);
    const { ids, tg } = batch(tiny, B, T, 4);
    const rng = new Rng(11);
    const lossAt = async () =>
      (await lossOf(params, tiny, cpu.fromArray(ids, [B, T], 'i32'), cpu.fromArray(tg, [B, T], 'i32')).total.read())[0];
    let worst = 0;
    for (const [name, p] of params) {
      const data = cpu.data(p);
      const g = grads.get(name)!;
      const gmax = Math.max(1e-6, ...Array.from(g, Math.abs));
      for (let s = 0; s < 3; s++) {
        const j = rng.int(0, data.length - 1);
        const x0 = data[j];
        const h = 1e-5;
        data[j] = x0 + h;
        const lp = await lossAt();
        data[j] = x0 - h;
        const lm = await lossAt();
        data[j] = x0;
        worst = Math.max(worst, Math.abs((lp - lm) / (2 * h) - g[j]) / gmax);
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('GPU and CPU agree on the micro model: logits, loss and every gradient', async () => {
    const gpu = await gpuBackend();
    const c: ModelConfig = modelConfigOf(findPreset('micro-dense')!.config, 31);
    const B = 2;
    const T = 33;
    const rc = await lossAndGrads(cpu, c, 7, B, T);
    const rg = await lossAndGrads(gpu, c, 7, B, T);
    expect(Math.abs(rg.loss - rc.loss) / rc.loss).toBeLessThan(1e-5);
    for (const [name, g] of rc.grads) expect(relErr(rg.grads.get(name)!, g), name).toBeLessThan(2e-4);

    const { ids } = batch(c, B, T, 8);
    const lc = await forward(rc.params, c, cpu.fromArray(ids, [B, T], 'i32')).read();
    const lg = await forward(rg.params, c, gpu.fromArray(ids, [B, T], 'i32')).read();
    expect(relErr(lg, lc)).toBeLessThan(1e-5);
  });
});
