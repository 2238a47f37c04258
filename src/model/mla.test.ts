// MLA at model level: causality on both backends and the cache-size figures. The absorbed
// incremental decode (latent cache of c + k_pe only) is tested against the training-form forward
// in generate.test.ts, with the rest of the generation engine.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { cpu, gpuBackend } from '../test/gpu';
import { kvCacheValuesPerLayer, mhaEquivalentValuesPerLayer, modelConfigOf, type ModelConfig } from './config';
import { attentionPattern, forward, initParams } from './model';

const V = 23;

function config(name: string, set: Partial<ModelConfig> = {}): ModelConfig {
  return { ...modelConfigOf(findPreset(name)!.config, V), initializer_range: 0.3, ...set };
}

async function logits(
  be: Backend,
  c: ModelConfig,
  ids: Int32Array,
  B: number,
  T: number,
  seed = 1,
): Promise<Float64Array> {
  const params = initParams(be, c, new Rng(seed));
  return (await forward(params, c, be.fromArray(ids, [B, T], 'i32')).read()) as Float64Array;
}

describe('MLA', () => {
  for (const [name, set] of [
    ['micro-mla', {}],
    ['micro-mla', { q_lora_rank: 12 }],
    ['micro-dense', {}],
    ['micro-dense', { num_key_value_heads: 1 }],
  ] as Array<[string, Partial<ModelConfig>]>) {
    it(`is causal: changing token t+1 never changes outputs ≤ t (${name} ${JSON.stringify(set)}, GPU and CPU)`, async () => {
      const c = config(name, set);
      const T = 37;
      const rng = new Rng(3);
      const ids = Int32Array.from({ length: T }, () => rng.int(0, V - 1));
      for (const be of [cpu, await gpuBackend()]) {
        for (const t of [0, 17, 35]) {
          const changed = ids.slice();
          changed[t + 1] = (changed[t + 1] + 5) % V;
          const a = await logits(be, c, ids, 1, T);
          const b = await logits(be, c, changed, 1, T);
          const upTo = (t + 1) * V;
          let diff = 0;
          for (let i = 0; i < upTo; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
          expect(diff, `${be.name}: rows ≤ ${t}`).toBe(0);
          let later = 0;
          for (let i = upTo; i < a.length; i++) later = Math.max(later, Math.abs(a[i] - b[i]));
          expect(later, `${be.name}: row ${t + 1} must change`).toBeGreaterThan(0);
        }
      }
    });
  }

  it('caches kv_lora_rank + qk_rope_head_dim values per token per layer', () => {
    // DeepSeek-V3: 128 heads, latent 512, RoPE key 64, nope 128, v 128.
    const v3 = {
      ...config('micro-mla'),
      num_attention_heads: 128,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      qk_nope_head_dim: 128,
      v_head_dim: 128,
    };
    expect(kvCacheValuesPerLayer(v3)).toBe(576);
    expect(mhaEquivalentValuesPerLayer(v3)).toBe(128 * (192 + 128));
  });
});

describe('attention pattern (lab heatmap)', () => {
  for (const name of ['micro-mla', 'micro-dense']) {
    it(`is a causal row-stochastic matrix, GPU = CPU (${name})`, async () => {
      const c = config(name, { num_key_value_heads: 2 });
      const T = 19;
      const rng = new Rng(5);
      const ids = Int32Array.from({ length: T }, () => rng.int(0, V - 1));
      const run = async (be: Backend) => {
        const params = initParams(be, c, new Rng(2));
        return (await attentionPattern(params, c, be.fromArray(ids, [1, T], 'i32'), 1, 3).read()) as Float64Array;
      };
      const a = await run(cpu);
      const g = await run(await gpuBackend());
      for (let i = 0; i < T; i++) {
        let sum = 0;
        for (let j = 0; j < T; j++) {
          if (j > i) expect(a[i * T + j]).toBe(0);
          sum += a[i * T + j];
          expect(Math.abs(g[i * T + j] - a[i * T + j])).toBeLessThan(1e-5);
        }
        expect(sum).toBeCloseTo(1, 12);
      }
    });
  }
});
