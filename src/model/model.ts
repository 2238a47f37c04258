// The decoder, top to bottom:
//   embedding → N × [RMSNorm → attention → residual → RMSNorm → SwiGLU FFN → residual]
//   → RMSNorm → untied head.
// Attention is standard multi-head (GQA/MQA through num_key_value_heads) or MLA (mla.ts),
// selected by arch.attention. Written once against engine/ops, so it runs on the CPU
// reference and on WebGPU alike.

import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import type { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { headDim, parameterShapes, type ModelConfig } from './config';
import { mlaAttention, type ParamGetter } from './mla';

export type Params = Map<string, Tensor>;

/** Seeded init: norm gains at 1, every other weight N(0, initializer_range²). */
export function initParams(be: Backend, c: ModelConfig, rng: Rng): Params {
  const params: Params = new Map();
  for (const [name, shape] of parameterShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = name.endsWith('norm.weight') ? new Float64Array(n).fill(1) : rng.normalArray(n, c.initializer_range);
    const t = be.fromArray(data, shape);
    t.name = name;
    t.requiresGrad = true;
    params.set(name, t);
  }
  return params;
}

export function getter(params: Params): ParamGetter {
  return (name) => {
    const t = params.get(name);
    if (!t) throw new Error(`model: missing parameter ${name}`);
    return t;
  };
}

/** Standard causal multi-head attention with RoPE on the full head; kv heads < heads is GQA. */
function mhaAttention(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, B: number, T: number): Tensor {
  const hd = headDim(c);
  const H = c.num_attention_heads;
  const Hkv = c.num_key_value_heads;
  const q = op.rope(op.view(op.linear(x, p(`${pre}.q_proj.weight`)), [B, T, H, hd]), c.rope_theta);
  const k = op.rope(op.view(op.linear(x, p(`${pre}.k_proj.weight`)), [B, T, Hkv, hd]), c.rope_theta);
  const v = op.view(op.linear(x, p(`${pre}.v_proj.weight`)), [B, T, Hkv, hd]);
  const o = op.attention(q, k, v, { batch: B, seq: T, heads: H, kvHeads: Hkv, dQK: hd, dV: hd, scale: 1 / Math.sqrt(hd) });
  return op.linear(op.view(o, [B, T, H * hd]), p(`${pre}.o_proj.weight`));
}

export function ffn(p: ParamGetter, pre: string, x: Tensor): Tensor {
  const g = op.linear(x, p(`${pre}.gate_proj.weight`));
  const u = op.linear(x, p(`${pre}.up_proj.weight`));
  return op.linear(op.swiglu(g, u), p(`${pre}.down_proj.weight`));
}

/** Logits [B, T, V] for token ids [B, T] (i32). */
export function forward(params: Params, c: ModelConfig, ids: Tensor): Tensor {
  const [B, T] = ids.shape;
  const p = getter(params);
  const attn = c.attention === 'mla' ? mlaAttention : mhaAttention;
  let x = op.embedding(p('model.embed_tokens.weight'), ids);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const pre = `model.layers.${l}`;
    x = op.add(x, attn(p, c, `${pre}.self_attn`, op.rmsnorm(x, p(`${pre}.input_layernorm.weight`), c.rms_norm_eps), B, T));
    x = op.add(x, ffn(p, `${pre}.mlp`, op.rmsnorm(x, p(`${pre}.post_attention_layernorm.weight`), c.rms_norm_eps)));
  }
  x = op.rmsnorm(x, p('model.norm.weight'), c.rms_norm_eps);
  return op.linear(x, p('lm_head.weight'));
}

/** Mean next-token cross-entropy of a batch. */
export function lossOf(params: Params, c: ModelConfig, ids: Tensor, targets: Tensor): Tensor {
  const logits = forward(params, c, ids);
  return op.crossEntropyMean(logits, targets, targets.size);
}
