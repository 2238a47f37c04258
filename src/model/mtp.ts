// Multi-token prediction (DeepSeek-V3 §2.2, spec §4), the training objective.
//
// Module k = 1..D sits after the main model. At position i it combines the previous depth's
// hidden state h^{k-1}_i (the main model's last block output, before the final norm, for k = 1)
// with the embedding of token t_{i+k}, and predicts token t_{i+k+1}:
//
//   h'_i = eh_proj · [enorm(Emb(t_{i+k})) ; hnorm(h^{k-1}_i)]      eh_proj: [d, 2d]
//   h^k  = Block_k(h')  over positions 0..T−k−1 (one full causal decoder block)
//   P^k  = softmax(lm_head · shared_head.norm(h^k))                  (head and Emb shared)
//   L_k  = mean cross-entropy of P^k against t_{i+k+1}
//
// Each depth sees one position fewer (T−k), so the chain stays causal: h^k_i depends on tokens
// up to i+k only. The trainer's objective is L_main + (λ/D)·Σ_k L_k.
//
// Parameter names follow DeepSeek-V3's checkpoint: module k is `model.layers.{L+k−1}` (L =
// num_hidden_layers) holding enorm, hnorm, eh_proj, a full decoder layer and
// shared_head.norm. The checkpoint also stores shared_head.head and embed_tokens there; both are
// the main model's tensors here (lm_head.weight, model.embed_tokens.weight), never copies.

import * as op from '../engine/ops';
import type { Tensor } from '../engine/tensor';
import { type ModelConfig, mtpLayerIndex, mtpShapes } from './config';
import { blockLinear, prequantizeBlockLinears } from './linear';
import type { ParamGetter } from './mla';
import type { MoeTrace } from './moe';
import { blockResidual, normResidual } from './block';

// The modules' parameter shapes live with the model's (config.ts); re-exported for callers.
export { mtpLayerIndex, mtpShapes } from './config';

/** The first `len` positions of x [B, T, d]. */
function firstPositions(x: Tensor, len: number): Tensor {
  const [B, T, d] = x.shape;
  if (len === T) return x;
  return op.view(op.sliceLast(op.view(x, [B, T * d]), 0, len * d), [B, len, d]);
}

/**
 * The MTP losses [L_1, …, L_D] (each a scalar [1]), D = idsShifted.length.
 *   hMain:             [B, T, d], the main model's last-block output before the final norm;
 *   idsShifted[k−1]:   i32 [B, T−k] = ids[:, k:T];
 *   targetsShifted[k−1]: i32 [B, T−k] = targets[:, k:T] (targets[i] = ids[i+1]).
 * MoE layers of the modules report loads (and aux losses) into `trace`, after the main model's.
 * RoPE positions restart at 0 in each module; attention scores only depend on position
 * differences, so this equals using the tokens' absolute positions.
 */
export function mtpLosses(
  p: ParamGetter,
  c: ModelConfig,
  hMain: Tensor,
  idsShifted: Tensor[],
  targetsShifted: Tensor[],
  trace: MoeTrace | null,
): Tensor[] {
  const D = idsShifted.length;
  if (targetsShifted.length !== D)
    throw new Error(`mtpLosses: ${D} shifted id tensors but ${targetsShifted.length} shifted target tensors`);
  if (hMain.shape.length !== 3 || hMain.shape[2] !== c.hidden_size)
    throw new Error(`mtpLosses: hMain must be [B, T, ${c.hidden_size}], got [${hMain.shape.join(', ')}]`);
  const [B, T] = hMain.shape;
  if (D > 0 && T - D < 1)
    throw new Error(
      `mtpLosses: MTP depth ${D} needs sequences longer than ${D} tokens (T − k ≥ 1 for every k), got T = ${T}`,
    );
  const emb = p('model.embed_tokens.weight');
  const head = p('lm_head.weight');
  prequantizeBlockLinears(
    c,
    () => mtpShapes(c, D).map(([n]) => n),
    (n) => p(n),
  );
  const losses: Tensor[] = [];
  let hPrev = hMain;
  for (let k = 1; k <= D; k++) {
    const Tk = T - k;
    const ids = idsShifted[k - 1];
    const targets = targetsShifted[k - 1];
    for (const [what, t] of [
      ['ids', ids],
      ['targets', targets],
    ] as const) {
      if (t.dtype !== 'i32' || t.shape.length !== 2 || t.shape[0] !== B || t.shape[1] !== Tk) {
        throw new Error(`mtpLosses: shifted ${what} for depth ${k} must be i32 [${B}, ${Tk}], got ${t}`);
      }
    }
    const l = mtpLayerIndex(c, k);
    const pre = `model.layers.${l}`;
    const e = op.rmsnorm(op.embedding(emb, ids), p(`${pre}.enorm.weight`), c.rms_norm_eps);
    const h = op.rmsnorm(firstPositions(hPrev, Tk), p(`${pre}.hnorm.weight`), c.rms_norm_eps);
    // Embedding FIRST, then the hidden state: the order of DeepSeek's released checkpoints (and
    // vLLM's loader), the reverse of the paper's notation [RMSNorm(h); RMSNorm(Emb)] (spec §4 ⚠).
    // eh_proj is not among the layers V3 keeps in high precision, so it follows the block linears.
    const x = blockLinear(c, op.concatLast(e, h), p(`${pre}.eh_proj.weight`));
    // The block's FFN residual add fused into the shared head's norm (as the main model's final norm).
    const r = blockResidual(p, c, l, { x, delta: null }, B, Tk, trace);
    const { x: hk, h: normed } = normResidual(r, p(`${pre}.shared_head.norm.weight`), c.rms_norm_eps);
    const logits = op.linear(normed, head);
    losses.push(op.crossEntropyMean(logits, targets, targets.size));
    hPrev = hk;
  }
  return losses;
}
