// One decoder block (attention and FFN, each pre-normed with a residual), used by the main model
// (model.ts) and by each MTP module (mtp.ts).

import * as op from '../engine/ops';
import type { Tensor } from '../engine/tensor';
import { headDim, isMoeLayer, type ModelConfig } from './config';
import { blockLinear } from './linear';
import { mlaAttention, type ParamGetter } from './mla';
import { type MoeTrace, moeLayer } from './moe';

/** Standard causal multi-head attention with RoPE on the full head; kv heads < heads is GQA. */
export function mhaAttention(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, B: number, T: number): Tensor {
  const hd = headDim(c);
  const H = c.num_attention_heads;
  const Hkv = c.num_key_value_heads;
  const q = op.rope(op.view(blockLinear(c, x, p(`${pre}.q_proj.weight`)), [B, T, H, hd]), c.rope_theta);
  const k = op.rope(op.view(blockLinear(c, x, p(`${pre}.k_proj.weight`)), [B, T, Hkv, hd]), c.rope_theta);
  const v = op.view(blockLinear(c, x, p(`${pre}.v_proj.weight`)), [B, T, Hkv, hd]);
  const o = op.attention(q, k, v, {
    batch: B,
    seq: T,
    heads: H,
    kvHeads: Hkv,
    dQK: hd,
    dV: hd,
    scale: 1 / Math.sqrt(hd),
  });
  return blockLinear(c, op.view(o, [B, T, H * hd]), p(`${pre}.o_proj.weight`));
}

export function ffn(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor): Tensor {
  const g = blockLinear(c, x, p(`${pre}.gate_proj.weight`));
  const u = blockLinear(c, x, p(`${pre}.up_proj.weight`));
  return blockLinear(c, op.swiglu(g, u), p(`${pre}.down_proj.weight`));
}

/** One decoder block: attention and FFN (dense or MoE), each pre-normed with a residual. */
export function block(
  p: ParamGetter,
  c: ModelConfig,
  l: number,
  x: Tensor,
  B: number,
  T: number,
  trace: MoeTrace | null,
): Tensor {
  const pre = `model.layers.${l}`;
  const attn = c.attention === 'mla' ? mlaAttention : mhaAttention;
  const a = attn(p, c, `${pre}.self_attn`, op.rmsnorm(x, p(`${pre}.input_layernorm.weight`), c.rms_norm_eps), B, T);
  // The residual add and the FFN's pre-norm in one kernel (same values as add, then rmsnorm).
  const { sum, y: h } = op.addRmsnorm(x, a, p(`${pre}.post_attention_layernorm.weight`), c.rms_norm_eps);
  return op.add(sum, isMoeLayer(c, l) ? moeLayer(p, c, `${pre}.mlp`, h, trace) : ffn(p, c, `${pre}.mlp`, h));
}
