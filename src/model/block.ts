// One decoder block (attention and FFN, each pre-normed with a residual), used by the main model
// (model.ts) and by each MTP module (mtp.ts).

import * as op from '../engine/ops';
import type { Tensor } from '../engine/tensor';
import { headDim, isMoeLayer, type ModelConfig } from './config';
import { blockLinear, blockLinears, blockSwigluLinear } from './linear';
import { mlaAttention, type ParamGetter } from './mla';
import { type MoeTrace, moeLayer } from './moe';

/** Standard causal multi-head attention with RoPE on the full head; kv heads < heads is GQA. */
export function mhaAttention(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, B: number, T: number): Tensor {
  const hd = headDim(c);
  const H = c.num_attention_heads;
  const Hkv = c.num_key_value_heads;
  // q, k and v read the same x: blockLinears (fewer dispatches; x quantized once in low precision).
  const [qx, kx, vx] = blockLinears(c, x, [
    p(`${pre}.q_proj.weight`),
    p(`${pre}.k_proj.weight`),
    p(`${pre}.v_proj.weight`),
  ]);
  const [q, k] = op.ropePair(op.view(qx, [B, T, H, hd]), op.view(kx, [B, T, Hkv, hd]), c.rope_theta);
  const v = op.view(vx, [B, T, Hkv, hd]);
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
  const [g, u] = blockLinears(c, x, [p(`${pre}.gate_proj.weight`), p(`${pre}.up_proj.weight`)]);
  return blockSwigluLinear(c, g, u, p(`${pre}.down_proj.weight`));
}

/**
 * The residual stream x with a branch's output `delta` not yet added: the add is left to the
 * next consumer, which fuses it into its RMSNorm (addRmsnorm) — the next block's input norm or
 * the final norm. delta null: x is the stream.
 */
export interface Residual {
  x: Tensor;
  delta: Tensor | null;
}

/** rmsnorm of the stream r (after its pending add, fused into the norm); also the stream itself. */
export function normResidual(r: Residual, w: Tensor, eps: number): { x: Tensor; h: Tensor } {
  if (!r.delta) return { x: r.x, h: op.rmsnorm(r.x, w, eps) };
  const { sum, y } = op.addRmsnorm(r.x, r.delta, w, eps);
  return { x: sum, h: y };
}

/** The stream r with its pending add done. */
export function settle(r: Residual): Tensor {
  return r.delta ? op.add(r.x, r.delta) : r.x;
}

/**
 * One decoder block on a residual stream, returning the stream with the FFN's output pending
 * (see Residual). Each residual add is fused into the RMSNorm that follows it; on the tape the
 * fused op is the add and the norm it replaces, so values and gradients are the unfused block's.
 */
export function blockResidual(
  p: ParamGetter,
  c: ModelConfig,
  l: number,
  r: Residual,
  B: number,
  T: number,
  trace: MoeTrace | null,
): Residual {
  const pre = `model.layers.${l}`;
  const attn = c.attention === 'mla' ? mlaAttention : mhaAttention;
  const { x, h: hIn } = normResidual(r, p(`${pre}.input_layernorm.weight`), c.rms_norm_eps);
  const a = attn(p, c, `${pre}.self_attn`, hIn, B, T);
  const { x: x1, h } = normResidual({ x, delta: a }, p(`${pre}.post_attention_layernorm.weight`), c.rms_norm_eps);
  return { x: x1, delta: isMoeLayer(c, l) ? moeLayer(p, c, `${pre}.mlp`, h, trace) : ffn(p, c, `${pre}.mlp`, h) };
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
  return settle(blockResidual(p, c, l, { x, delta: null }, B, T, trace));
}
