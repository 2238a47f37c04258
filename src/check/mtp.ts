// The multi-token-prediction objective (src/model/mtp.ts) as one op: the main model's hidden
// state, the shared embedding table and output head, and every parameter of D ∈ {1, 2} MTP
// modules are inputs; the shifted ids and targets are i32 inputs without gradient. The output is
// the vector of the D losses [L_1, …, L_D], so the harness's random upstream gradient weighs the
// depths differently and each depth's backward is exercised on its own as well as through the
// chained hidden state (module 2 reads module 1's output).
//
// Cases mix MHA (with GQA) and MLA (direct or low-rank q), and dense or DeepSeekMoE FFNs in the
// module's block. MoE cases are finite-difference checked too: a central difference moves an
// input by h ≈ 1e-5, and the routing only flips if some token's K-th and (K+1)-th biased scores
// are closer than that — with random inputs the gaps are O(0.1), so the selection is constant
// over the stencil (the same argument as the moe check; measured: no flips over seeds 1..80).

import type { Rng } from '../engine/rng';
import { modelConfigOf, type ModelConfig } from '../model/config';
import { mtpShapes, mtpLosses } from '../model/mtp';
import * as op from '../engine/ops';
import { findPreset } from '../config';
import { moduleCase } from './module';
import type { HostInput, OpCheck } from './types';

interface MtpCase {
  c: ModelConfig;
  B: number;
  T: number;
  D: number;
}

function mtpConfig(rng: Rng, index: number): MtpCase {
  const regime = index % 3;
  const attention = rng.pick(['mha', 'mla'] as const);
  const ffn = rng.next() < 0.35 ? ('moe' as const) : ('dense' as const);
  const V = regime === 0 ? rng.int(2, 7) : regime === 1 ? rng.int(13, 37) : rng.int(60, 130);
  const base = modelConfigOf(findPreset('micro-moe')!.config, V);
  // MHA: d = H·hd with an even head dim (RoPE rotates pairs); kv heads divide H (GQA).
  // Tiny keeps d ≥ 4: RMSNorm over 2–3 values is badly conditioned whenever the vector happens to
  // be short (measured at d = 2, 3: backward 1e-4, FD 9e-6 against the 1e-5 FD bar).
  const H = regime === 0 ? rng.int(1, 2) : rng.int(2, 4);
  const hd = regime === 0 ? 4 / H : regime === 1 ? 2 * rng.int(1, 3) : 2 * rng.int(2, 4);
  const kvChoices = [...Array(H).keys()].map((i) => i + 1).filter((h) => H % h === 0);
  const dMla = regime === 0 ? rng.int(4, 5) : regime === 1 ? rng.pick([7, 11, 13]) : rng.int(16, 24);
  const groups = rng.pick([1, 2]);
  const perGroup = rng.int(2, 3);
  const topkGroup = rng.int(1, groups);
  const K = rng.int(2, Math.min(3, topkGroup * perGroup));
  const c: ModelConfig = {
    ...base,
    vocab_size: V,
    attention,
    ffn,
    num_hidden_layers: rng.int(1, 3),
    first_k_dense_replace: 0,
    hidden_size: attention === 'mha' ? H * hd : dMla,
    num_attention_heads: H,
    num_key_value_heads: attention === 'mha' ? rng.pick(kvChoices) : H,
    q_lora_rank: rng.next() < 0.5 ? 0 : rng.int(2, 7),
    // Not 1: RMSNorm of a 1-vector is w·x/√(x² + ε) ≈ w·sign(x), whose derivative is a spike of
    // height ε^-1/2 at x ≈ 0 — ill-conditioned for f32 vs f64 and for finite differences alike
    // (measured: rel. backward error 1e-3 and FD error 2e-5 on such draws). Unit dims are covered
    // by B, heads, kv heads, dn, dv, intermediate size and the one-position T − k = 1.
    kv_lora_rank: regime === 0 ? rng.int(2, 3) : rng.int(3, 9),
    qk_nope_head_dim: regime === 0 ? rng.int(1, 2) : rng.int(3, 7),
    qk_rope_head_dim: 2 * rng.int(1, regime === 0 ? 1 : 3),
    v_head_dim: regime === 0 ? rng.int(1, 3) : rng.int(2, 9),
    intermediate_size: regime === 0 ? rng.int(1, 3) : regime === 1 ? rng.pick([7, 9, 13]) : rng.int(24, 48),
    n_routed_experts: groups * perGroup,
    n_group: groups,
    topk_group: topkGroup,
    num_experts_per_tok: K,
    n_shared_experts: rng.int(0, 1),
    moe_intermediate_size: regime === 0 ? rng.int(1, 3) : rng.int(3, 9),
    norm_topk_prob: rng.next() < 0.7,
    scoring_func: rng.next() < 0.8 ? 'sigmoid' : 'softmax',
    rms_norm_eps: 1e-6,
  };
  const D = rng.int(1, 2);
  const T = regime === 0 ? rng.int(D + 1, 3) : regime === 1 ? rng.int(5, 33) : rng.int(40, 70);
  return { c, B: regime === 2 ? 1 : rng.int(1, 2), T, D };
}

export const mtpChecks: OpCheck[] = [
  {
    name: 'mtp',
    about:
      'multi-token prediction: D ∈ {1, 2} chained modules (enorm/hnorm, eh_proj, full block, shared head) → per-depth cross-entropy',
    // Per depth: two RMSNorms, eh_proj, a whole decoder block (~15–25 f32 ops incl. fused
    // attention and, for MoE, routing + grouped GEMMs), a norm, the head and a cross-entropy;
    // depth 2 chains a second module on the first. f32 rounding accumulates along that chain.
    // Measured over seeds 1..80 (240 cases, lavapipe): forward ≤ 2e-7, backward ≤ 2.1e-5 (the
    // worst in the tiny regime, where 4-wide RMSNorms are the least well conditioned), FD ≤ 1.8e-6.
    // The bars leave ~50× (forward) and ~10× (backward) for other GPUs' f32 rounding.
    tolForward: 1e-5,
    tolBackward: 2e-4,
    makeCase(rng, index) {
      const { c, B, T, D } = mtpConfig(rng, index);
      const d = c.hidden_size;
      const V = c.vocab_size;
      const shapes = mtpShapes(c, D);
      const weight = (name: string, shape: number[]): HostInput => {
        const n = shape.reduce((a, b) => a * b, 1);
        const isBias = name.endsWith('e_score_correction_bias');
        const data = name.endsWith('norm.weight')
          ? Float64Array.from({ length: n }, () => 1 + 0.2 * rng.normal())
          : isBias // a coarse grid, so the biased selection differs from the unbiased one
            ? Float64Array.from({ length: n }, () => rng.int(-2, 2) * 0.25)
            : rng.normalArray(n, 0.5 / Math.sqrt(shape[shape.length - 1]));
        return { name, shape, dtype: 'f32', data, grad: !isBias };
      };
      const ids = Int32Array.from({ length: B * T }, () => rng.int(0, V - 1));
      // targets[i] = ids[i+1]; the last position gets a fresh token (the next one in the corpus).
      const targets = Int32Array.from({ length: B * T }, (_, j) => (j % T === T - 1 ? rng.int(0, V - 1) : ids[j + 1]));
      const shifted = (a: Int32Array, k: number) =>
        Int32Array.from({ length: B * (T - k) }, (_, j) => a[Math.floor(j / (T - k)) * T + k + (j % (T - k))]);
      const inputs: HostInput[] = [
        { name: 'hMain', shape: [B, T, d], dtype: 'f32', data: rng.normalArray(B * T * d), grad: true },
        { name: 'model.embed_tokens.weight', shape: [V, d], dtype: 'f32', data: rng.normalArray(V * d), grad: true },
        weight('lm_head.weight', [V, d]),
        ...shapes.map(([name, shape]) => weight(name, shape)),
      ];
      const nFloat = inputs.length;
      for (let k = 1; k <= D; k++) {
        inputs.push({ name: `ids[:, ${k}:]`, shape: [B, T - k], dtype: 'i32', data: shifted(ids, k), grad: false });
        inputs.push({
          name: `targets[:, ${k}:]`,
          shape: [B, T - k],
          dtype: 'i32',
          data: shifted(targets, k),
          grad: false,
        });
      }
      const desc =
        `B=${B} T=${T} D=${D} d=${d} V=${V} ${c.attention}` +
        (c.attention === 'mha'
          ? ` H=${c.num_attention_heads}/${c.num_key_value_heads}`
          : ` H=${c.num_attention_heads} q_lora=${c.q_lora_rank} dc=${c.kv_lora_rank}`) +
        (c.ffn === 'moe'
          ? ` moe E=${c.n_routed_experts} K=${c.num_experts_per_tok}`
          : ` dense I=${c.intermediate_size}`);
      return moduleCase(desc, inputs, (xs) => {
        const byName = new Map(inputs.slice(0, nFloat).map((h, i) => [h.name, xs[i]]));
        const p = (n: string) => {
          const t = byName.get(n);
          if (!t) throw new Error(`mtp check: no input ${n}`);
          return t;
        };
        const idsK = Array.from({ length: D }, (_, k) => xs[nFloat + 2 * k]);
        const targetsK = Array.from({ length: D }, (_, k) => xs[nFloat + 2 * k + 1]);
        const losses = mtpLosses(p, c, xs[0], idsK, targetsK, null);
        return losses.slice(1).reduce((acc, l) => op.concatLast(acc, l), losses[0]);
      });
    },
  },
];
