// The MLA module (training form, src/model/mla.ts) as one op: input x and every MLA weight are
// inputs, so the harness checks GPU vs CPU and the CPU gradient of each weight by finite
// differences. Cases vary T (odd), heads, the q path (direct or low-rank) and dQK ≠ dV.

import { modelConfigOf, parameterShapes, type ModelConfig } from '../model/config';
import { mlaAttention } from '../model/mla';
import type { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { moduleCase } from './module';
import type { OpCheck } from './types';

function mlaConfig(rng: Rng, index: number): { c: ModelConfig; B: number; T: number } {
  const regime = index % 3;
  const base = modelConfigOf(findPreset('micro-mla')!.config, 11);
  const pick = (lo: number, hi: number) => rng.int(lo, hi);
  const H = regime === 0 ? pick(1, 2) : pick(2, 4);
  const c: ModelConfig = {
    ...base,
    hidden_size: regime === 0 ? 4 : regime === 1 ? 12 : 24,
    num_attention_heads: H,
    num_key_value_heads: H,
    q_lora_rank: rng.next() < 0.5 ? 0 : pick(2, 7),
    kv_lora_rank: regime === 0 ? pick(1, 3) : pick(3, 9),
    qk_nope_head_dim: regime === 0 ? pick(1, 2) : pick(3, 7),
    qk_rope_head_dim: 2 * pick(1, regime === 0 ? 1 : 3),
    v_head_dim: regime === 0 ? pick(1, 3) : pick(2, 9),
    rms_norm_eps: 1e-6,
  };
  const T = regime === 0 ? pick(1, 3) : regime === 1 ? pick(5, 33) : pick(40, 70);
  return { c, B: regime === 2 ? 1 : pick(1, 2), T };
}

export const mlaChecks: OpCheck[] = [
  {
    name: 'mla',
    about: 'multi-head latent attention module (training form), every weight and the input',
    // A chain of ~12 f32 ops (projections, two RMSNorms, RoPE, fused attention): errors add up.
    tolForward: 2e-5,
    tolBackward: 2e-4,
    makeCase(rng, index) {
      const { c, B, T } = mlaConfig(rng, index);
      const pre = 'model.layers.0.self_attn';
      const shapes = parameterShapes(c).filter(([n]) => n.startsWith(pre));
      const inputs = [
        {
          name: 'x',
          shape: [B, T, c.hidden_size],
          dtype: 'f32' as const,
          data: rng.normalArray(B * T * c.hidden_size),
          grad: true,
        },
        ...shapes.map(([name, shape]) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data = name.endsWith('norm.weight')
            ? Float64Array.from({ length: n }, () => 1 + 0.2 * rng.normal())
            : rng.normalArray(n, 0.5 / Math.sqrt(shape[1]));
          return { name, shape, dtype: 'f32' as const, data, grad: true };
        }),
      ];
      const desc = `B=${B} T=${T} H=${c.num_attention_heads} d=${c.hidden_size} q_lora=${c.q_lora_rank} dc=${c.kv_lora_rank} dn=${c.qk_nope_head_dim} dr=${c.qk_rope_head_dim} dv=${c.v_head_dim}`;
      return moduleCase(desc, inputs, (xs) => {
        const byName = new Map(shapes.map(([name], i) => [name, xs[i + 1]]));
        return mlaAttention((n) => byName.get(n)!, c, pre, xs[0], B, T);
      });
    },
  },
];
