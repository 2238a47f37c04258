// The DeepSeekMoE layer (src/model/moe.ts) as one op: input x, gate, routed experts and shared
// expert weights are inputs (the routing bias too, without gradient), so the harness checks the
// layer output and every gradient GPU vs CPU and by finite differences. The routing itself
// (indices exact, weights, ties) has its own checks (moeRoute, moePlan, …); `check --op moe`
// runs them all.

import { modelConfigOf, type ModelConfig } from '../model/config';
import { moeLayer, moeShapes } from '../model/moe';
import type { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { moduleCase } from './module';
import type { OpCheck } from './types';

function moeConfig(rng: Rng, index: number): { c: ModelConfig; B: number; T: number } {
  const regime = index % 3;
  const base = modelConfigOf(findPreset('micro-moe')!.config, 11);
  const groups = rng.pick([1, 2, 3]);
  const perGroup = rng.int(2, regime === 2 ? 6 : 3);
  const E = groups * perGroup;
  const topkGroup = rng.int(1, groups);
  const K = rng.int(1, Math.min(4, topkGroup * perGroup));
  const c: ModelConfig = {
    ...base,
    hidden_size: regime === 0 ? rng.int(2, 4) : regime === 1 ? rng.int(5, 13) : rng.int(16, 33),
    n_routed_experts: E,
    n_group: groups,
    topk_group: topkGroup,
    num_experts_per_tok: K,
    n_shared_experts: rng.int(0, 1),
    moe_intermediate_size: regime === 0 ? rng.int(1, 3) : rng.int(3, 12),
    // K = 1 with normalization makes every weight exactly `scale`: the gate then gets no
    // gradient at all, which the relative metric cannot score; skip that degenerate corner.
    norm_topk_prob: K > 1 && rng.next() < 0.7,
    routed_scaling_factor: rng.pick([1, 2.5]),
    scoring_func: rng.next() < 0.8 ? 'sigmoid' : 'softmax',
  };
  const T = regime === 0 ? rng.int(1, 3) : regime === 1 ? rng.int(5, 33) : rng.int(40, 70);
  return { c, B: rng.int(1, 2), T };
}

export const moeChecks: OpCheck[] = [
  {
    name: 'moe',
    about: 'DeepSeekMoE layer: sigmoid/softmax gate, group-limited top-K with bias, experts, shared expert',
    // Gate → route → gather → two grouped GEMMs → SwiGLU → grouped GEMM → combine (+ shared MLP).
    tolForward: 2e-5,
    tolBackward: 2e-4,
    makeCase(rng, index) {
      const { c, B, T } = moeConfig(rng, index);
      const pre = 'model.layers.0.mlp';
      const shapes = moeShapes(c, pre);
      const d = c.hidden_size;
      const inputs = [
        { name: 'x', shape: [B, T, d], dtype: 'f32' as const, data: rng.normalArray(B * T * d), grad: true },
        ...shapes.map(([name, shape]) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const isBias = name.endsWith('e_score_correction_bias');
          // Bias on a coarse grid so the biased selection differs from the unbiased one.
          const data = isBias
            ? Float64Array.from({ length: n }, () => rng.int(-2, 2) * 0.25)
            : rng.normalArray(n, 1 / Math.sqrt(shape[shape.length - 1]));
          return { name, shape, dtype: 'f32' as const, data, grad: !isBias };
        }),
      ];
      const desc = `N=${B * T} d=${d} E=${c.n_routed_experts} groups=${c.n_group}/${c.topk_group} K=${c.num_experts_per_tok} shared=${c.n_shared_experts} ${c.scoring_func}${c.norm_topk_prob ? ' norm' : ''}`;
      return moduleCase(desc, inputs, (xs) => {
        const byName = new Map(shapes.map(([name], i) => [name, xs[i + 1]]));
        return moeLayer((n) => byName.get(n)!, c, pre, xs[0], null);
      });
    },
  },
];
