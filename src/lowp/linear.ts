// The low-precision linear layer (V3's FP8 recipe, spec §3), differentiable like engine/ops:
// linearLowp (quantize, then GEMM, every time: the reference) and linearLowpFused (the same bits
// with quantize-on-load GEMMs and the per-tape cache of quantized operands, qcache.ts), which
// model/linear.ts uses.

import type { AccumSpec, QTensor, QuantSpec } from '../engine/backend';
import { fail, needsGrad, requireF32 } from '../engine/ops';
import { Tape } from '../engine/tape';
import { shapeStr, type Tensor } from '../engine/tensor';
import { activationQuantT, weightQuant } from './qcache';

export interface LowpLinearSpec {
  /** Activations and weights (Fprop), and the cached activations for Wgrad. */
  forward: QuantSpec;
  /** Output gradients in Dgrad and Wgrad. */
  grad: QuantSpec;
  weightTiling: 'blocks' | 'rows';
  accum: AccumSpec;
}

/** [R, C] → [C, R] (through swap01 on a trailing unit dim). */
function transpose2d(x: Tensor): Tensor {
  const [r, c] = x.shape;
  return x.backend.view(x.backend.swap01(x.backend.view(x, [r, c, 1])), [c, r]);
}

/**
 * y = x·Wᵀ with all three GEMMs block-scaled in low precision (spec §3):
 *   Fprop  y  = Q_rows(x) · Q_w(W)ᵀ                 (1×B activation tiles, B×B weight blocks)
 *   Dgrad  dx = Q_rows(dy) · Q_w(Wᵀ)ᵀ
 *   Wgrad  dW = Q_rows(dyᵀ) · Q_rows(xᵀ)ᵀ           (tiles along the token axis: V3's 128×1)
 * Only Q_rows(xᵀ) — codes and scales — is kept for the backward, not x itself. Master weights,
 * gradients and optimizer state stay f32.
 */
export function linearLowp(x: Tensor, w: Tensor, spec: LowpLinearSpec): Tensor {
  requireF32('linearLowp', x, w);
  if (w.shape.length !== 2) fail('linearLowp', `weight must be [out, in], got ${shapeStr(w.shape)}`);
  const inDim = x.shape[x.shape.length - 1];
  if (inDim !== w.shape[1]) fail('linearLowp', `input width ${inDim} ≠ weight in-dim ${w.shape[1]}`);
  const be = x.backend;
  const rows = x.size / inDim;
  const x2 = be.view(x, [rows, inDim]);
  const quantW = (m: Tensor, s: QuantSpec) =>
    spec.weightTiling === 'blocks' ? be.quantizeBlocks(m, s) : be.quantizeRows(m, s);
  const y2 = be.blockScaledMatmul(be.quantizeRows(x2, spec.forward), quantW(w, spec.forward), spec.accum);
  const y = be.view(y2, [...x.shape.slice(0, -1), w.shape[0]]);
  if (needsGrad(x, w)) {
    const xtq = w.requiresGrad ? be.quantizeRows(transpose2d(x2), spec.forward) : null; // cached in low precision
    Tape.record(y, [x, w], (dy) => {
      const dy2 = be.view(dy, [rows, w.shape[0]]);
      const dx = x.requiresGrad
        ? be.view(
            be.blockScaledMatmul(be.quantizeRows(dy2, spec.grad), quantW(transpose2d(w), spec.forward), spec.accum),
            x.shape,
          )
        : null;
      const dw = xtq ? be.blockScaledMatmul(be.quantizeRows(transpose2d(dy2), spec.grad), xtq, spec.accum) : null;
      return [dx, dw];
    });
  }
  return y;
}

/**
 * linearLowp with the same bits and fewer passes (issue 21): the activations and output
 * gradients are quantized inside the GEMMs (Backend.quantizedMatmul: A read in f32, 1×B tiles
 * quantized on load), the weight is quantized once per step for Fprop and Dgrad (B×B blocks: W and
 * Wᵀ in one pass), and Q_rows(xᵀ) — still the only thing kept of x for Wgrad — is made in place
 * once per input tensor (lowp/qcache.ts). Wgrad reads dY transposed inside its GEMM.
 *   Fprop  y  = Q_rows(x) · Q_w(W)ᵀ          (one GEMM; Q_w(W) cached per step)
 *   Dgrad  dx = Q_rows(dy) · Q_w(Wᵀ)ᵀ        (one GEMM; Q_w(Wᵀ) from the same pass as Q_w(W))
 *   Wgrad  dW = Q_rows(dyᵀ) · Q_rows(xᵀ)ᵀ    (one GEMM reading dy as dyᵀ)
 */
export function linearLowpFused(x: Tensor, w: Tensor, spec: LowpLinearSpec, qx?: QTensor): Tensor {
  requireF32('linearLowp', x, w);
  if (w.shape.length !== 2) fail('linearLowp', `weight must be [out, in], got ${shapeStr(w.shape)}`);
  const inDim = x.shape[x.shape.length - 1];
  if (inDim !== w.shape[1]) fail('linearLowp', `input width ${inDim} ≠ weight in-dim ${w.shape[1]}`);
  const be = x.backend;
  const rows = x.size / inDim;
  const x2 = be.view(x, [rows, inDim]);
  const grad = needsGrad(x, w);
  const wq = weightQuant(be, w, spec.forward, spec.weightTiling, grad && x.requiresGrad);
  // qx: Q_rows(x) made once for several linears (linearsLowpFused); the code-reading GEMM on it
  // gives quantizedMatmul's bits.
  const y2 = qx ? be.blockScaledMatmul(qx, wq.q, spec.accum) : be.quantizedMatmul(x2, spec.forward, wq.q, spec.accum);
  const y = be.view(y2, [...x.shape.slice(0, -1), w.shape[0]]);
  if (grad) {
    const xtq = w.requiresGrad ? activationQuantT(be, x, x2, spec.forward) : null; // cached in low precision
    Tape.record(y, [x, w], (dy) => {
      const dy2 = be.view(dy, [rows, w.shape[0]]);
      const dx = x.requiresGrad
        ? be.view(be.quantizedMatmul(dy2, spec.grad, wq.transposed(), spec.accum), x.shape)
        : null;
      const dw = xtq ? be.quantizedMatmul(dy2, spec.grad, xtq, spec.accum, true) : null;
      return [dx, dw];
    });
  }
  return y;
}

/**
 * linearLowpFused for several weights read by the same input (q/k/v, gate/up): x is quantized
 * once, in one quantize pass, and every Fprop GEMM reads its codes — instead of each GEMM
 * quantizing x on load again. The same bits (quantizeRows + blockScaledMatmul is what
 * quantizedMatmul computes); the backward is each linear's own.
 */
export function linearsLowpFused(x: Tensor, ws: readonly Tensor[], spec: LowpLinearSpec): Tensor[] {
  if (ws.length < 2) return ws.map((w) => linearLowpFused(x, w, spec));
  requireF32('linearLowp', x, ...ws);
  const inDim = x.shape[x.shape.length - 1];
  for (const w of ws) {
    if (w.shape.length !== 2) fail('linearLowp', `weight must be [out, in], got ${shapeStr(w.shape)}`);
    if (inDim !== w.shape[1]) fail('linearLowp', `input width ${inDim} ≠ weight in-dim ${w.shape[1]}`);
  }
  const be = x.backend;
  const qx = be.quantizeRows(be.view(x, [x.size / inDim, inDim]), spec.forward);
  const ys = ws.map((w) => linearLowpFused(x, w, spec, qx));
  // Recorded already: the pool hands the buffers out again only after this work is submitted.
  qx.codes.dispose();
  qx.scales.dispose();
  return ys;
}
