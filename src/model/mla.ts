// Multi-head latent attention (DeepSeek-V2/V3), training form, exactly as the spec's §1:
//   q:  q_lora_rank = 0 → q = W_q·x;  else q = W_UQ·RMSNorm(W_DQ·x)         [H, dn + dr] per token
//       q_nope | q_pe split per head; RoPE on q_pe
//   kv: [c_raw ; kpe_raw] = W_DKV·x;  c = RMSNorm(c_raw);  k_pe = RoPE(kpe_raw)  (ONE key, all heads)
//       [k_nope ; v]_h = (W_UKV·c) viewed [H, dn + dv]
//   attention with k_h = [k_nope_h ; k_pe], scale (dn + dr)^-0.5, then o_proj.
// Parameter names follow Hugging Face DeepSeek-V3 (q_proj | q_a_proj, q_a_layernorm, q_b_proj,
// kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj).

import * as op from '../engine/ops';
import type { Tensor } from '../engine/tensor';
import type { ModelConfig } from './config';
import { blockLinear, blockLinears } from './linear';

export type ParamGetter = (name: string) => Tensor;

export function mlaScale(c: ModelConfig): number {
  return 1 / Math.sqrt(c.qk_nope_head_dim + c.qk_rope_head_dim);
}

/**
 * Where the tokens sit for RoPE: a start position for all sequences (training, posOffset), or a
 * start position per sequence (the generation engine: i32 [B], token j of sequence b at pos[b] + j).
 */
export type Positions = number | Tensor;

export function rotate(x: Tensor, theta: number, at: Positions): Tensor {
  return typeof at === 'number' ? op.rope(x, theta, at) : x.backend.ropeAt(x, at, theta);
}

/** The query projection [B, T, H·(dn + dr)]: W_q·x, or W_UQ·RMSNorm(W_DQ·x) with a q rank. */
function queryProjection(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor): Tensor {
  return queryUp(p, c, pre, blockLinear(c, x, queryInWeight(p, c, pre)));
}

/** The weight x meets first on the query side: W_q, or W_DQ with a q rank. */
function queryInWeight(p: ParamGetter, c: ModelConfig, pre: string): Tensor {
  return p(c.q_lora_rank === 0 ? `${pre}.q_proj.weight` : `${pre}.q_a_proj.weight`);
}

/** The rest of the query projection from x's first product: none, or W_UQ·RMSNorm(·) with a q rank. */
function queryUp(p: ParamGetter, c: ModelConfig, pre: string, first: Tensor): Tensor {
  if (c.q_lora_rank === 0) return first;
  return blockLinear(
    c,
    op.rmsnorm(first, p(`${pre}.q_a_layernorm.weight`), c.rms_norm_eps),
    p(`${pre}.q_b_proj.weight`),
  );
}

/** Queries [B, T, H, dn + dr] with RoPE applied to the last dr dims of each head. */
export function mlaQuery(
  p: ParamGetter,
  c: ModelConfig,
  pre: string,
  x: Tensor,
  B: number,
  T: number,
  posOffset: Positions = 0,
): { nope: Tensor; pe: Tensor } {
  const H = c.num_attention_heads;
  const dn = c.qk_nope_head_dim;
  const dr = c.qk_rope_head_dim;
  const qh = op.view(queryProjection(p, c, pre, x), [B, T, H, dn + dr]);
  return { nope: op.sliceLast(qh, 0, dn), pe: rotate(op.sliceLast(qh, dn, dr), c.rope_theta, posOffset) };
}

/** The per-token cache content: normalized latent c [B, T, dc] and the RoPE'd shared key [B, T, 1, dr]. */
export function mlaLatent(
  p: ParamGetter,
  c: ModelConfig,
  pre: string,
  x: Tensor,
  B: number,
  T: number,
  posOffset: Positions = 0,
): { latent: Tensor; kpe: Tensor } {
  const dc = c.kv_lora_rank;
  const dr = c.qk_rope_head_dim;
  const kva = blockLinear(c, x, p(`${pre}.kv_a_proj_with_mqa.weight`)); // [B, T, dc + dr]
  const latent = op.rmsnorm(op.sliceLast(kva, 0, dc), p(`${pre}.kv_a_layernorm.weight`), c.rms_norm_eps);
  const kpe = rotate(op.view(op.sliceLast(kva, dc, dr), [B, T, 1, dr]), c.rope_theta, posOffset);
  return { latent, kpe };
}

/** Training-form MLA over a whole sequence: x [B, T, d] → [B, T, d]. */
export function mlaAttention(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, B: number, T: number): Tensor {
  const H = c.num_attention_heads;
  const dn = c.qk_nope_head_dim;
  const dr = c.qk_rope_head_dim;
  const dv = c.v_head_dim;
  // The same model as mlaQuery / mlaLatent with the slices, RoPEs, the head repeat and the
  // concats folded into three kernels (same values, bit for bit): [q_nope ; RoPE(q_pe)] per
  // head in one pass over q (ropeCols); [c_raw | kpe_raw] split inside the norms' kernel; the
  // keys [k_nope_h ; RoPE(kpe)] and the values taken from W_UKV·c in one pass (mlaKeys).
  // x's two products (the query's first and the latent's down-projection) in one dispatch.
  const [qIn, kva] = blockLinears(c, x, [queryInWeight(p, c, pre), p(`${pre}.kv_a_proj_with_mqa.weight`)]);
  // The latent's norm over kva's first dc columns, kpe_raw carried out — and, with a q rank, the
  // query's norm — in one kernel.
  const kvNorm = { x: kva, w: p(`${pre}.kv_a_layernorm.weight`) };
  const norms =
    c.q_lora_rank === 0
      ? op.rmsnormSegments([kvNorm], c.rms_norm_eps)
      : op.rmsnormSegments([{ x: qIn, w: p(`${pre}.q_a_layernorm.weight`) }, kvNorm], c.rms_norm_eps);
  const { y: latent, rest: kpeRaw } = norms[norms.length - 1];
  const q = c.q_lora_rank === 0 ? qIn : blockLinear(c, norms[0].y, p(`${pre}.q_b_proj.weight`));
  const qFull = op.ropeCols(op.view(q, [B, T, H, dn + dr]), dn, dr, c.rope_theta);
  const kv = op.view(blockLinear(c, latent, p(`${pre}.kv_b_proj.weight`)), [B, T, H, dn + dv]);
  const { k, v } = op.mlaKeys(kv, kpeRaw as Tensor, dn, c.rope_theta);
  const o = op.attention(qFull, k, v, {
    batch: B,
    seq: T,
    heads: H,
    kvHeads: H,
    dQK: dn + dr,
    dV: dv,
    scale: mlaScale(c),
  });
  return blockLinear(c, op.view(o, [B, T, H * dv]), p(`${pre}.o_proj.weight`));
}
