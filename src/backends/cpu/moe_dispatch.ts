// MoE dispatch and combine, the float64 reference. Plain loops that follow the Backend doc
// comments literally (engine/backend.ts, MoePlan):
//   slots are the M = N·K assignments a = n·K + k sorted by expert, then by a;
//   expert e owns slots [offsets[e], offsets[e+1]); slotAssign[slot] = a; assignSlot[a] = slot.
//
//   moeGather            out[m, :] = x[slotAssign[m] / K, :]
//   moeGatherBackward    dx[n, :] = Σ_k dy[assignSlot[n·K + k], :]            (k order)
//   moeGroupedMatmul     y[m, :] = x[m, :] · W_eᵀ (transW, w [E, b, a]) or x[m, :] · W_e (w [E, a, b])
//   moeGroupedWeightGrad dW_e = Σ_{m in segment e} dy[m, :]ᵀ · x[m, :]       ([E, b, a], zeros if idle)
//   moeCombine           out[n, :] = Σ_k weight[n, k] · y[assignSlot[n·K + k], :]  (k order)
//   moeCombineBackward   dy[assignSlot[a], :] = weight[a] · dOut[n, :];  dWeight[a] = dOut[n, :] · y[assignSlot[a], :]
//
// Gathered rows (moeGroupedMatmuls / moeGroupedGrads with `gather` = { K }: x is the token rows
// [N, a]): literally moeGather(x, plan, K) first, then the functions above.

import type { Backend, MoePlan, SwigluLinearGrads } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

const last = (t: Tensor) => t.shape[t.shape.length - 1];

export function moeGather(be: CpuBackend, x: Tensor, plan: MoePlan, K: number): Tensor {
  const d = last(x);
  const X = be.data(x);
  const slotAssign = be.ints(plan.slotAssign);
  const M = slotAssign.length;
  const out = new Float64Array(M * d);
  for (let m = 0; m < M; m++) {
    const n = Math.floor(slotAssign[m] / K);
    for (let c = 0; c < d; c++) out[m * d + c] = X[n * d + c];
  }
  return be.make([M, d], out);
}

export function moeGatherBackward(
  be: CpuBackend,
  dy: Tensor,
  plan: MoePlan,
  K: number,
  acc: Tensor | null = null,
): Tensor {
  const d = last(dy);
  const DY = be.data(dy);
  const assignSlot = be.ints(plan.assignSlot);
  const N = assignSlot.length / K;
  const dx = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const slot = assignSlot[n * K + k];
      for (let c = 0; c < d; c++) dx[n * d + c] += DY[slot * d + c];
    }
  }
  if (acc) {
    const prev = be.data(acc);
    for (let i = 0; i < dx.length; i++) dx[i] = prev[i] + dx[i];
  }
  return be.make([N, d], dx);
}

export function moeGroupedMatmul(be: CpuBackend, x: Tensor, w: Tensor, plan: MoePlan, transW: boolean): Tensor {
  const [M, a] = x.shape;
  const E = w.shape[0];
  const b = transW ? w.shape[1] : w.shape[2];
  const X = be.data(x);
  const W = be.data(w);
  const offsets = be.ints(plan.offsets);
  const y = new Float64Array(M * b);
  // y[m, j] = Σ_i x[m, i] · op(W_e)[i, j] with op(W_e)[i, j] = W[e, j, i] (transW: W_e is [b, a],
  // y = x·W_eᵀ) or W[e, i, j] (W_e is [a, b], y = x·W_e): strides of j and i within W_e.
  const [sj, si] = transW ? [a, 1] : [1, b];
  for (let e = 0; e < E; e++) {
    const wBase = e * a * b;
    for (let m = offsets[e]; m < offsets[e + 1]; m++) {
      for (let j = 0; j < b; j++) {
        let s = 0;
        for (let i = 0; i < a; i++) s += X[m * a + i] * W[wBase + j * sj + i * si];
        y[m * b + j] = s;
      }
    }
  }
  return be.make([M, b], y);
}

export function moeGroupedWeightGrad(be: CpuBackend, dy: Tensor, x: Tensor, plan: MoePlan, experts: number): Tensor {
  const b = last(dy);
  const a = last(x);
  const DY = be.data(dy);
  const X = be.data(x);
  const offsets = be.ints(plan.offsets);
  const dw = new Float64Array(experts * b * a);
  for (let e = 0; e < experts; e++) {
    const base = e * b * a;
    for (let m = offsets[e]; m < offsets[e + 1]; m++) {
      for (let j = 0; j < b; j++) {
        const g = DY[m * b + j];
        for (let i = 0; i < a; i++) dw[base + j * a + i] += g * X[m * a + i];
      }
    }
  }
  return be.make([experts, b, a], dw);
}

export function moeGroupedMatmuls(
  be: CpuBackend,
  x: Tensor,
  ws: Tensor[],
  plan: MoePlan,
  gather?: { K: number },
): Tensor[] {
  const xg = gather ? moeGather(be, x, plan, gather.K) : x;
  return ws.map((w) => moeGroupedMatmul(be, xg, w, plan, true));
}

export function moeGroupedGrads(
  be: CpuBackend,
  dy: Tensor,
  x: Tensor,
  w: Tensor,
  plan: MoePlan,
  acc: Tensor | null,
  want: { dx: boolean; dw: boolean },
  gather?: { K: number },
): { dx: Tensor | null; dw: Tensor | null } {
  let dx: Tensor | null = null;
  if (want.dx) {
    const g = moeGroupedMatmul(be, dy, w, plan, false);
    dx = acc ? be.add(acc, g) : g;
  }
  const xg = gather && want.dw ? moeGather(be, x, plan, gather.K) : x;
  const dw = want.dw ? moeGroupedWeightGrad(be, dy, xg, plan, w.shape[0]) : null;
  return { dx, dw };
}

export function moeCombine(be: CpuBackend, y: Tensor, weight: Tensor, plan: MoePlan): Tensor {
  const d = last(y);
  const [N, K] = weight.shape;
  const Y = be.data(y);
  const Wt = be.data(weight);
  const assignSlot = be.ints(plan.assignSlot);
  const out = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const a = n * K + k;
      const slot = assignSlot[a];
      for (let c = 0; c < d; c++) out[n * d + c] += Wt[a] * Y[slot * d + c];
    }
  }
  return be.make([N, d], out);
}

export function moeCombineBackward(
  be: CpuBackend,
  y: Tensor,
  weight: Tensor,
  plan: MoePlan,
  dOut: Tensor,
): { dy: Tensor; dWeight: Tensor } {
  const d = last(y);
  const [N, K] = weight.shape;
  const Y = be.data(y);
  const Wt = be.data(weight);
  const DO = be.data(dOut);
  const assignSlot = be.ints(plan.assignSlot);
  const dy = new Float64Array(N * K * d);
  const dWeight = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const a = n * K + k;
      const slot = assignSlot[a];
      let s = 0;
      for (let c = 0; c < d; c++) {
        dy[slot * d + c] = Wt[a] * DO[n * d + c];
        s += DO[n * d + c] * Y[slot * d + c];
      }
      dWeight[a] = s;
    }
  }
  return { dy: be.make([N * K, d], dy), dWeight: be.make([N, K], dWeight) };
}

/** Backend.moeExpertsSwiglu: swiglu(g, u), then the grouped down projection. */
function moeExpertsSwiglu(be: CpuBackend, g: Tensor, u: Tensor, w: Tensor, plan: MoePlan): Tensor {
  const h = be.swiglu(g, u);
  const y = moeGroupedMatmul(be, h, w, plan, true);
  h.dispose();
  return y;
}

/**
 * Backend.moeExpertsSwigluBackward from a backend's own ops: the gate written out, the grouped
 * gradients of the projection over it, then swigluBackward (the float64 reference here; the
 * WebGPU backend's path where its fused backward does not fit).
 */
export function moeExpertsSwigluBackwardComposed(
  be: Backend,
  dy: Tensor,
  g: Tensor,
  u: Tensor,
  w: Tensor,
  plan: MoePlan,
  needW: boolean,
): SwigluLinearGrads {
  const h = be.swiglu(g, u);
  const r = be.moeGroupedGrads(dy, h, w, plan, null, { dx: true, dw: needW });
  h.dispose();
  const { dg, du } = be.swigluBackward(g, u, r.dx as Tensor);
  r.dx?.dispose();
  return { dg, du, dw: r.dw };
}

export const ops = {
  moeExpertsSwiglu,
  moeExpertsSwigluBackward: moeExpertsSwigluBackwardComposed,
  moeGather,
  moeGatherBackward,
  moeGroupedMatmul,
  moeGroupedWeightGrad,
  moeGroupedGrads,
  moeGroupedMatmuls,
  moeCombine,
  moeCombineBackward,
} satisfies CpuFamily;
