// Differentiable MoE dispatch ops: the row gather into dispatch-slot order, the grouped expert
// GEMMs (with the gather folded into their loads: moeExpertsGathered) and the weighted combine
// back to token order. Re-exported by ops.ts; the routing ops stay there.

import type { MoePlan } from './backend';
import { fail, needsGrad, requireF32 } from './op_base';
import { Tape } from './tape';
import { type Tensor, sameShape, shapeStr } from './tensor';

/** Rows of x [N, d] in dispatch-slot order [N·K, d]. */
export function moeGather(x: Tensor, plan: MoePlan, K: number): Tensor {
  requireF32('moeGather', x);
  const be = x.backend;
  const y = be.moeGather(x, plan, K);
  // The gradient gathered so far for x is added in the kernel (after its k-sum: the same bits).
  if (needsGrad(x))
    Tape.recordAccumulating([y], [x], [true], (dys, prev) => [
      be.moeGatherBackward(dys[0] as Tensor, plan, K, prev[0]),
    ]);
  return y;
}

/** Each expert's segment of x [M, in] times its weight W_e [out, in]ᵀ (w [E, out, in]) → [M, out]. */
export function moeExperts(x: Tensor, w: Tensor, plan: MoePlan): Tensor {
  return moeExpertsMany(x, [w], plan)[0];
}

/**
 * moeExperts for several weights read by the same rows (an expert FFN's gate and up): the
 * forward products two per dispatch, the same bits as one moeExperts each. The backward walks the
 * weights last to first, as the tape walks separate nodes recorded in this order: both gradients
 * of a product in one dispatch (Backend.moeGroupedGrads), its dx added to the gradient gathered
 * so far for x in the GEMM's store.
 */
export function moeExpertsMany(x: Tensor, ws: Tensor[], plan: MoePlan): Tensor[] {
  requireF32('moeExperts', x, ...ws);
  for (const w of ws)
    if (w.shape.length !== 3 || w.shape[2] !== x.shape[1])
      fail('moeExperts', `weights ${shapeStr(w.shape)} do not take inputs ${shapeStr(x.shape)}`);
  const be = x.backend;
  const ys = ws.length === 1 ? [be.moeGroupedMatmul(x, ws[0], plan, true)] : be.moeGroupedMatmuls(x, ws, plan);
  if (needsGrad(x, ...ws)) {
    Tape.recordAccumulating(ys, [x, ...ws], [true, ...ws.map(() => false)], (dys, prev) => {
      let dx = prev[0];
      const dws: Array<Tensor | null> = ws.map(() => null);
      for (let i = ws.length - 1; i >= 0; i--) {
        const dy = dys[i];
        if (!dy) continue;
        const g = be.moeGroupedGrads(dy, x, ws[i], plan, dx, { dx: x.requiresGrad, dw: ws[i].requiresGrad });
        if (x.requiresGrad) dx = g.dx;
        dws[i] = g.dw;
      }
      return [dx, ...dws];
    });
  }
  return ys;
}

/**
 * moeExpertsMany(moeGather(x, plan, K), ws, plan) for x [N, d], bit for bit, without the gathered
 * rows: the forward products and the weight gradients read slot m's row as x[slotAssign[m] / K]
 * in their loads (Backend.moeGroupedMatmuls / moeGroupedGrads with `gather`): one dispatch and one
 * [N·K, d] buffer fewer. One tape node with input x: its backward chains the products' input
 * gradients last weight to first into dxg [N·K, d] as moeExpertsMany does (the first with no
 * earlier gradient: the gathered rows had none), then sums each token's K slots and adds x's
 * gradient gathered so far, as moeGather's node would (moeGatherBackward with acc).
 */
export function moeExpertsGathered(x: Tensor, ws: Tensor[], plan: MoePlan, K: number): Tensor[] {
  requireF32('moeExpertsGathered', x, ...ws);
  if (x.shape.length !== 2 || plan.slotAssign.size !== x.shape[0] * K)
    fail(
      'moeExpertsGathered',
      `x ${shapeStr(x.shape)} is not the [N, d] of a plan of ${plan.slotAssign.size} slots, K = ${K}`,
    );
  for (const w of ws)
    if (w.shape.length !== 3 || w.shape[2] !== x.shape[1])
      fail('moeExpertsGathered', `weights ${shapeStr(w.shape)} do not take inputs ${shapeStr(x.shape)}`);
  const be = x.backend;
  const gather = { K };
  const ys = be.moeGroupedMatmuls(x, ws, plan, gather);
  if (needsGrad(x, ...ws)) {
    Tape.recordAccumulating(ys, [x, ...ws], [true, ...ws.map(() => false)], (dys, prev) => {
      let dxg: Tensor | null = null;
      const dws: Array<Tensor | null> = ws.map(() => null);
      for (let i = ws.length - 1; i >= 0; i--) {
        const dy = dys[i];
        if (!dy) continue;
        const want = { dx: x.requiresGrad, dw: ws[i].requiresGrad };
        const g = be.moeGroupedGrads(dy, x, ws[i], plan, dxg, want, gather);
        if (x.requiresGrad) dxg = g.dx;
        dws[i] = g.dw;
      }
      return [dxg ? be.moeGatherBackward(dxg, plan, K, prev[0]) : null, ...dws];
    });
  }
  return ys;
}

/**
 * moeExperts(swiglu(g, u), w, plan) — an expert FFN's down projection over its SwiGLU gate (g, u
 * [M, F] by slot from moeExpertsGathered; w [E, out, F]) — as one op: the backend folds the gate
 * into the grouped GEMM (Backend.moeExpertsSwiglu; on the GPU no [M, F] activation is written,
 * forward or backward). The same bits, gradients included, as the unfused pair: its backward is
 * theirs in the tape's order (the projection's gradients, then the gate's).
 */
export function moeExpertsSwiglu(g: Tensor, u: Tensor, w: Tensor, plan: MoePlan): Tensor {
  requireF32('moeExpertsSwiglu', g, u, w);
  if (g.shape.length !== 2 || !sameShape(g.shape, u.shape))
    fail('moeExpertsSwiglu', `g ${shapeStr(g.shape)} and u ${shapeStr(u.shape)} are not one [M, F] shape`);
  if (w.shape.length !== 3 || w.shape[2] !== g.shape[1])
    fail('moeExpertsSwiglu', `weights ${shapeStr(w.shape)} do not take inputs ${shapeStr(g.shape)}`);
  const be = g.backend;
  const y = be.moeExpertsSwiglu(g, u, w, plan);
  if (needsGrad(g, u, w)) {
    Tape.record(y, [g, u, w], (dy) => {
      const r = be.moeExpertsSwigluBackward(dy, g, u, w, plan, w.requiresGrad);
      return [r.dg, r.du, r.dw];
    });
  }
  return y;
}

/** out[n] = Σ_k weight[n, k] · y[slot of (n, k)]. */
export function moeCombine(y: Tensor, weight: Tensor, plan: MoePlan): Tensor {
  requireF32('moeCombine', y, weight);
  const be = y.backend;
  const out = be.moeCombine(y, weight, plan);
  if (needsGrad(y, weight)) {
    Tape.record(out, [y, weight], (dOut) => {
      const g = be.moeCombineBackward(y, weight, plan, dOut);
      return [g.dy, g.dWeight];
    });
  }
  return out;
}
