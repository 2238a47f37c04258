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
import { blockLinear, prequantizeBlockLinears } from './linear';
import { block, blockResidual, normResidual, type Residual } from './block';
import { mlaLatent, mlaQuery, mlaScale, type ParamGetter } from './mla';
import { isBuffer, newTrace, type MoeTrace } from './moe';
import { mtpLosses } from './mtp';

export { ffn } from './block';

export type Params = Map<string, Tensor>;

/** Seeded init: norm gains at 1, every other weight N(0, initializer_range²). */
export function initParams(be: Backend, c: ModelConfig, rng: Rng): Params {
  const params: Params = new Map();
  for (const [name, shape] of parameterShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = name.endsWith('norm.weight')
      ? new Float64Array(n).fill(1)
      : isBuffer(name)
        ? new Float64Array(n)
        : rng.normalArray(n, c.initializer_range);
    const t = be.fromArray(data, shape);
    t.name = name;
    t.requiresGrad = !isBuffer(name);
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

/**
 * The blocks' residual stream, with the last FFN's output still pending (block.ts Residual):
 * each block's last add is fused into the next norm.
 */
function stream(params: Params, c: ModelConfig, ids: Tensor, trace: MoeTrace | null): Residual {
  const [B, T] = ids.shape;
  const p = getter(params);
  // Every block linear of the model, the MTP modules' too (mtpLosses then finds them quantized).
  prequantizeBlockLinears(
    c,
    () => params.keys(),
    (n) => params.get(n),
  );
  let r: Residual = { x: op.embedding(p('model.embed_tokens.weight'), ids), delta: null };
  for (let l = 0; l < c.num_hidden_layers; l++) r = blockResidual(p, c, l, r, B, T, trace);
  return r;
}

/**
 * The final norm (fused with the last residual add) and the (untied) output head: the logits,
 * and the last block's output h [B, T, d] (before the final norm), what the MTP modules start from.
 */
function head(params: Params, c: ModelConfig, r: Residual): { logits: Tensor; h: Tensor } {
  const p = getter(params);
  const { x: h, h: normed } = normResidual(r, p('model.norm.weight'), c.rms_norm_eps);
  return { logits: op.linear(normed, p('lm_head.weight')), h };
}

/** Logits [B, T, V] for token ids [B, T] (i32). MoE layers report loads into `trace`. */
export function forward(params: Params, c: ModelConfig, ids: Tensor, trace: MoeTrace | null = null): Tensor {
  return head(params, c, stream(params, c, ids, trace)).logits;
}

/** Per MTP depth k: ids[:, k:] and targets[:, k:] (i32 [B, T−k]), built on the host. */
export interface MtpInputs {
  ids: Tensor[];
  targets: Tensor[];
}

/**
 * Attention probabilities [T, T] of one head of one layer for a single sequence ids [1, T]
 * (for the lab's heatmap): the same q and k the layer uses, causal softmax of q·kᵀ·scale.
 */
export function attentionPattern(params: Params, c: ModelConfig, ids: Tensor, layer: number, head: number): Tensor {
  const [B, T] = ids.shape;
  if (B !== 1) throw new Error('attentionPattern: one sequence at a time');
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.num_hidden_layers)
    throw new Error(`attentionPattern: layer ${layer} is not in [0, ${c.num_hidden_layers})`);
  if (!Number.isInteger(head) || head < 0 || head >= c.num_attention_heads)
    throw new Error(`attentionPattern: head ${head} is not in [0, ${c.num_attention_heads})`);
  const p = getter(params);
  let x = op.embedding(p('model.embed_tokens.weight'), ids);
  for (let l = 0; l < layer; l++) x = block(p, c, l, x, B, T, null);
  const pre = `model.layers.${layer}.self_attn`;
  const h = op.rmsnorm(x, p(`model.layers.${layer}.input_layernorm.weight`), c.rms_norm_eps);
  const { q, k, scale } = c.attention === 'mla' ? mlaQueryKey(p, c, pre, h, T) : mhaQueryKey(p, c, pre, h, T);
  // q [1, T, H, dq], k [1, T, Hk, dq] → this head's rows [1, T, dq] (GQA: its kv head).
  const [, , H, dq] = q.shape;
  const Hk = k.shape[2];
  const row = (t: Tensor, heads: number, i: number) =>
    op.view(op.sliceLast(op.view(t, [T, heads * dq]), i * dq, dq), [1, T, dq]);
  const qh = row(q, H, head);
  const kh = row(k, Hk, Math.floor(head / (H / Hk)));
  const scores = op.scale(op.matmul(qh, kh, { transB: true }), scale);
  return op.view(op.softmax(scores, 0), [T, T]);
}

function mhaQueryKey(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, T: number) {
  const hd = headDim(c);
  const q = op.rope(
    op.view(blockLinear(c, x, p(`${pre}.q_proj.weight`)), [1, T, c.num_attention_heads, hd]),
    c.rope_theta,
  );
  const k = op.rope(
    op.view(blockLinear(c, x, p(`${pre}.k_proj.weight`)), [1, T, c.num_key_value_heads, hd]),
    c.rope_theta,
  );
  return { q, k, scale: 1 / Math.sqrt(hd) };
}

function mlaQueryKey(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, T: number) {
  const H = c.num_attention_heads;
  const dn = c.qk_nope_head_dim;
  const dr = c.qk_rope_head_dim;
  const q = mlaQuery(p, c, pre, x, 1, T);
  const { latent, kpe } = mlaLatent(p, c, pre, x, 1, T);
  const kv = op.view(blockLinear(c, latent, p(`${pre}.kv_b_proj.weight`)), [1, T, H, dn + c.v_head_dim]);
  const kpeHeads = op.view(op.repeatMiddle(op.view(kpe, [T, 1, dr]), H), [1, T, H, dr]);
  return { q: op.concatLast(q.nope, q.pe), k: op.concatLast(op.sliceLast(kv, 0, dn), kpeHeads), scale: mlaScale(c) };
}

/**
 * The training objective of a batch: lm = mean next-token cross-entropy; total adds, for MoE
 * with aux_loss_alpha > 0, α · Σ_layers mean_sequences(L_Bal).
 */
export function lossOf(
  params: Params,
  c: ModelConfig,
  ids: Tensor,
  targets: Tensor,
  trace: MoeTrace | null = null,
  mtp: { inputs: MtpInputs; lambda: number } | null = null,
): { total: Tensor; lm: Tensor; aux: Tensor | null; mtp: Tensor | null } {
  const tr = trace ?? newTrace();
  const { logits, h } = head(params, c, stream(params, c, ids, tr));
  const lm = op.crossEntropyMean(logits, targets, targets.size);
  let total = lm;
  // MTP: L += (λ/D)·Σ_k L_k; reported as mean_k L_k.
  let mtpLoss: Tensor | null = null;
  const D = c.num_nextn_predict_layers;
  if (D > 0 && mtp) {
    const losses = mtpLosses(getter(params), c, h, mtp.inputs.ids, mtp.inputs.targets, tr);
    let sum = losses[0];
    for (const l of losses.slice(1)) sum = op.add(sum, l);
    mtpLoss = scaleExact(sum, 1 / D);
    if (mtp.lambda > 0) total = op.add(total, scaleExact(sum, mtp.lambda / D));
  }
  let aux: Tensor | null = null;
  if (tr.aux.length && c.aux_loss_alpha > 0) {
    // mean(a) as one fused op (the same bits, value and gradient).
    const mean = (a: Tensor) => op.sumScaled(a, 1 / a.size);
    aux = mean(tr.aux[0]);
    for (const a of tr.aux.slice(1)) aux = op.add(aux, mean(a));
    total = op.add(total, scaleExact(aux, c.aux_loss_alpha));
  }
  return { total, lm, aux, mtp: mtpLoss };
}

/** x · f, with no dispatch when f is 1 (x · 1 is x, and so is the gradient's dy · 1). */
function scaleExact(x: Tensor, f: number): Tensor {
  return f === 1 ? x : op.scale(x, f);
}
