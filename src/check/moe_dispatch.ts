// Op checks for the MoE dispatch/combine family: moeGather, moeGroupedMatmul (with
// moeGroupedWeightGrad in its backward), moeExpertsGathered (gate and up on the token rows
// through the plan: moeGroupedMatmuls / moeGroupedGrads with `gather`, then moeGatherBackward)
// and moeCombine. Plans are built here on the host from
// random routing (a plain stable counting sort, below), independent of the backends' moePlan, and
// uploaded as i32 inputs without gradient.
//
// Routing per case: N tokens, K distinct experts per token, E experts of which only `used` are
// ever chosen — so some experts own zero tokens (e.g. E = 8 with 3 used). Regimes (index % 3):
//   0 tiny: N 1..3, K 1..2, E ≤ 4, row sizes 1..4;
//   1 odd: N from {1, 7, 33, 65}, K 1..3, E = 8 with 3 used (or all), sizes 7, 33, 130 …;
//   2 larger: a few hundred tokens (gather/combine) or M = N·K ≈ 1500–2200 slots for the GEMM,
//     a, b in 64..130 — row tiles then straddle several expert segments.

import type { Backend, MoePlan } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import type { CheckCase, HostInput, OpCheck } from './types';

export interface HostPlan {
  offsets: Int32Array;
  slotAssign: Int32Array;
  assignSlot: Int32Array;
}

/**
 * The MoePlan of idx [N·K] over E experts, by a stable counting sort: count the assignments of
 * each expert, prefix-sum the counts into offsets, then place assignments a = 0, 1, … at their
 * expert's next free slot (so slots within an expert are in increasing a).
 */
export function hostPlan(idx: ArrayLike<number>, E: number): HostPlan {
  const M = idx.length;
  const offsets = new Int32Array(E + 1);
  for (let a = 0; a < M; a++) offsets[idx[a] + 1]++;
  for (let e = 0; e < E; e++) offsets[e + 1] += offsets[e];
  const next = offsets.slice(0, E);
  const slotAssign = new Int32Array(M);
  const assignSlot = new Int32Array(M);
  for (let a = 0; a < M; a++) {
    const slot = next[idx[a]]++;
    slotAssign[slot] = a;
    assignSlot[a] = slot;
  }
  return { offsets, slotAssign, assignSlot };
}

/** Random routing: each token picks K distinct experts from `used` (a subset of 0..E-1). */
export function randomIdx(rng: Rng, N: number, K: number, used: readonly number[]): Int32Array {
  const idx = new Int32Array(N * K);
  for (let n = 0; n < N; n++) {
    const pool = used.slice();
    for (let k = 0; k < K; k++) {
      const j = rng.int(0, pool.length - 1);
      idx[n * K + k] = pool[j];
      pool.splice(j, 1);
    }
  }
  return idx;
}

/** The plan as three i32 inputs (no gradient), in the order planOf expects. */
export function planInputs(p: HostPlan): HostInput[] {
  return [
    { name: 'offsets', shape: [p.offsets.length], dtype: 'i32', data: p.offsets, grad: false },
    { name: 'slotAssign', shape: [p.slotAssign.length], dtype: 'i32', data: p.slotAssign, grad: false },
    { name: 'assignSlot', shape: [p.assignSlot.length], dtype: 'i32', data: p.assignSlot, grad: false },
  ];
}

const planOf = ([offsets, slotAssign, assignSlot]: Tensor[]): MoePlan => ({ offsets, slotAssign, assignSlot });

interface Routing {
  N: number;
  K: number;
  E: number;
  used: number[];
  plan: HostPlan;
  desc: string;
}

/** N, K, E and the used experts for a regime; `gemm` makes regime 2 a ≈2000-slot problem. */
function routing(rng: Rng, regime: number, gemm: boolean): Routing {
  let N: number, K: number, E: number, nUsed: number;
  if (regime === 0) {
    K = rng.int(1, 2);
    E = rng.int(K, 4);
    N = rng.int(1, 3);
    nUsed = rng.int(K, E);
  } else if (regime === 1) {
    K = rng.int(1, 3);
    E = 8;
    N = rng.pick([1, 7, 33, 65]);
    nUsed = rng.next() < 0.5 ? 3 : E;
  } else {
    K = rng.pick([1, 2, 4, 6]);
    E = rng.pick([4, 8, 16, 32]);
    N = gemm ? Math.ceil(rng.int(1500, 2200) / K) : rng.int(150, 400);
    nUsed = rng.next() < 0.5 ? Math.max(K, Math.ceil(E / 2)) : E;
  }
  // A random subset of the experts, so the idle ones are anywhere (first, last, in between).
  const all = Array.from({ length: E }, (_, e) => e);
  const used: number[] = [];
  for (let i = 0; i < nUsed; i++) used.push(all.splice(rng.int(0, all.length - 1), 1)[0]);
  used.sort((x, y) => x - y);
  const plan = hostPlan(randomIdx(rng, N, K, used), E);
  return { N, K, E, used, plan, desc: `N=${N} K=${K} E=${E} used=${used.length}` };
}

/** A row size for a regime (odd sizes in regime 1: not multiples of 4 or of any tile). */
function rowSize(rng: Rng, regime: number): number {
  if (regime === 0) return rng.int(1, 4);
  if (regime === 1) return rng.pick([1, 5, 7, 33, 65, 130]);
  return rng.int(64, 130);
}

const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

export const moeGatherCheck: OpCheck = {
  name: 'moeGather',
  about: 'out[m] = x[slotAssign[m] / K]; backward moeGatherBackward sums the K slots of a token in k order',
  // The forward is an exact copy of f32-rounded values (≈ 6e-8); the backward adds K ≤ 6 rows in
  // f32 (≈ 2e-7). 1e-6 leaves margin.
  tolForward: 1e-6,
  tolBackward: 1e-6,
  makeCase(rng: Rng, index: number): CheckCase {
    const regime = index % 3;
    const r = routing(rng, regime, false);
    const d = rowSize(rng, regime);
    return {
      desc: `${r.desc} d=${d}`,
      inputs: [
        { name: 'x', shape: [r.N, d], dtype: 'f32', data: rng.normalArray(r.N * d), grad: true },
        ...planInputs(r.plan),
      ],
      nDiff: 1,
      forward: (be: Backend, [x, ...p]: Tensor[]) => [be.moeGather(x, planOf(p), r.K)],
      backward: (be: Backend, [, ...p]: Tensor[], [dy]: Tensor[]) => [
        be.moeGatherBackward(dy, planOf(p), r.K),
        null,
        null,
        null,
      ],
    };
  },
};

/**
 * Row widths (a, b) of an M-row expert GEMM shrunk until the CPU cost of a forward (M·a·b) fits
 * the finite-difference budget (~32 forwards): at most ~8.5e6 multiply-adds, each width kept ≥ 64
 * (wider than a 32-column tile); the wider one shrinks first.
 */
function withinBudget(M: number, a: number, b: number): [number, number] {
  while (M * a * b > 8.5e6 && Math.max(a, b) > 64) {
    if (a >= b) a = Math.max(64, Math.floor(a * 0.9));
    else b = Math.max(64, Math.floor(b * 0.9));
  }
  return [a, b];
}

export const moeGroupedMatmulCheck: OpCheck = {
  name: 'moeGroupedMatmul',
  about:
    'y_seg = x_seg·W_eᵀ (w [E,b,a]) or x_seg·W_e (w [E,a,b]); dx by the opposite direction, dw by moeGroupedWeightGrad',
  // Each output is a sum of a products of N(0,1) values, accumulated in f32 in k order (as in
  // matmul, whose measured error is < 1e-6 at this length): 1e-5. The backward is the same kernel
  // shape (dx: a sum of b products; dw: a sum over an expert's segment of up to ~2000 rows, or of
  // split-K partials summed in order), same bound.
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng: Rng, index: number): CheckCase {
    const regime = index % 3;
    const r = routing(rng, regime, true);
    const M = r.N * r.K;
    const [a, b] = withinBudget(M, rowSize(rng, regime), rowSize(rng, regime));
    const transW = rng.next() < 0.5;
    const wShape = transW ? [r.E, b, a] : [r.E, a, b];
    const E = r.E;
    return {
      desc: `${r.desc} M=${M} a=${a} b=${b} w[${wShape.join(',')}]${transW ? ' transW' : ''}`,
      inputs: [
        { name: 'x', shape: [M, a], dtype: 'f32', data: rng.normalArray(M * a), grad: true },
        { name: 'w', shape: wShape, dtype: 'f32', data: rng.normalArray(size(wShape)), grad: true },
        ...planInputs(r.plan),
      ],
      nDiff: 1,
      forward: (be: Backend, [x, w, ...p]: Tensor[]) => [be.moeGroupedMatmul(x, w, planOf(p), transW)],
      backward: (be: Backend, [x, w, ...p]: Tensor[], [dy]: Tensor[]) => {
        const plan = planOf(p);
        // y = x·op(W_e) ⇒ dx = dy·op(W_e)ᵀ: the same w read the other way round ([M, b] → [M, a]).
        const dx = be.moeGroupedMatmul(dy, w, plan, !transW);
        // transW: w [E, b, a] ⇒ dW_e = Σ dyᵀ·x [b, a];  else w [E, a, b] ⇒ dW_e = Σ xᵀ·dy [a, b].
        const dw = transW ? be.moeGroupedWeightGrad(dy, x, plan, E) : be.moeGroupedWeightGrad(x, dy, plan, E);
        return [dx, dw, null, null, null];
      },
    };
  },
};

export const moeExpertsGatheredCheck: OpCheck = {
  name: 'moeExpertsGathered',
  about:
    'gate/up y_seg = gather(x)_seg·W_eᵀ with the gather in the GEMM loads; backward: both grads per weight (up → gate chained), then moeGatherBackward',
  // As moeGroupedMatmul (sums of a or b products in f32, k order); dx adds K ≤ 6 slot rows on
  // top, each a sum of 2·b products: 1e-5.
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng: Rng, index: number): CheckCase {
    const regime = index % 3;
    const r = routing(rng, regime, true);
    const { N, K, E } = r;
    const M = N * K;
    let a = rowSize(rng, regime);
    let b = rowSize(rng, regime);
    // Two products per forward: at most ~4.2e6 multiply-adds each, half moeGroupedMatmulCheck's
    // budget, with a and b kept ≥ 40 (still wider than a 32-column tile).
    while (M * a * b > 4.2e6 && Math.max(a, b) > 40) {
      if (a >= b) a = Math.max(40, Math.floor(a * 0.9));
      else b = Math.max(40, Math.floor(b * 0.9));
    }
    const gather = { K };
    return {
      desc: `${r.desc} M=${M} a=${a} b=${b}`,
      inputs: [
        { name: 'x', shape: [N, a], dtype: 'f32', data: rng.normalArray(N * a), grad: true },
        { name: 'w_gate', shape: [E, b, a], dtype: 'f32', data: rng.normalArray(E * b * a), grad: true },
        { name: 'w_up', shape: [E, b, a], dtype: 'f32', data: rng.normalArray(E * b * a), grad: true },
        ...planInputs(r.plan),
      ],
      nDiff: 2,
      forward: (be: Backend, [x, wg, wu, ...p]: Tensor[]) => be.moeGroupedMatmuls(x, [wg, wu], planOf(p), gather),
      backward: (be: Backend, [x, wg, wu, ...p]: Tensor[], [dg, du]: Tensor[]) => {
        const plan = planOf(p);
        const both = { dx: true, dw: true };
        // The slots' gradient dxg = dg·W_gate + du·W_up (up first, as the tape walks), then each
        // token sums its K slots.
        const up = be.moeGroupedGrads(du, x, wu, plan, null, both, gather);
        const gate = be.moeGroupedGrads(dg, x, wg, plan, up.dx, both, gather);
        return [be.moeGatherBackward(gate.dx as Tensor, plan, K), gate.dw, up.dw, null, null, null];
      },
    };
  },
};

export const moeExpertsSwigluCheck: OpCheck = {
  name: 'moeExpertsSwiglu',
  about:
    'down projection over the SwiGLU gate: y_seg = swiglu(g, u)_seg·W_eᵀ; dg, du = swigluBackward(g, u, dy·W_e), dW by moeGroupedWeightGrad of swiglu(g, u)',
  // As moeGroupedMatmul (sums of F or out products in f32, k order), the gate's values and
  // gradients elementwise on top: 1e-5.
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng: Rng, index: number): CheckCase {
    const regime = index % 3;
    const r = routing(rng, regime, true);
    const M = r.N * r.K;
    const [F, out] = withinBudget(M, rowSize(rng, regime), rowSize(rng, regime));
    return {
      desc: `${r.desc} M=${M} F=${F} out=${out}`,
      inputs: [
        { name: 'g', shape: [M, F], dtype: 'f32', data: rng.normalArray(M * F, 3), grad: true },
        { name: 'u', shape: [M, F], dtype: 'f32', data: rng.normalArray(M * F), grad: true },
        { name: 'w', shape: [r.E, out, F], dtype: 'f32', data: rng.normalArray(r.E * out * F), grad: true },
        ...planInputs(r.plan),
      ],
      nDiff: 1,
      forward: (be: Backend, [g, u, w, ...p]: Tensor[]) => [be.moeExpertsSwiglu(g, u, w, planOf(p))],
      backward: (be: Backend, [g, u, w, ...p]: Tensor[], [dy]: Tensor[]) => {
        const r = be.moeExpertsSwigluBackward(dy, g, u, w, planOf(p), true);
        return [r.dg, r.du, r.dw, null, null, null];
      },
    };
  },
};

export const moeCombineCheck: OpCheck = {
  name: 'moeCombine',
  about:
    'out[n] = Σ_k weight[n,k]·y[assignSlot[n·K+k]] (k order); backward moeCombineBackward (dy per slot, dWeight dot products)',
  // Forward: K ≤ 6 products summed in f32 (≈ 3e-7). dWeight is a dot product of length d ≤ 130
  // summed by a fixed tree in f32 (≈ 1e-6 relative to its largest entry at worst); dy is one
  // product per element. 1e-5 leaves margin for both.
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng: Rng, index: number): CheckCase {
    const regime = index % 3;
    const r = routing(rng, regime, false);
    const d = rowSize(rng, regime);
    const M = r.N * r.K;
    return {
      desc: `${r.desc} d=${d}`,
      inputs: [
        { name: 'y', shape: [M, d], dtype: 'f32', data: rng.normalArray(M * d), grad: true },
        { name: 'weight', shape: [r.N, r.K], dtype: 'f32', data: rng.normalArray(M), grad: true },
        ...planInputs(r.plan),
      ],
      nDiff: 1,
      forward: (be: Backend, [y, weight, ...p]: Tensor[]) => [be.moeCombine(y, weight, planOf(p))],
      backward: (be: Backend, [y, weight, ...p]: Tensor[], [dOut]: Tensor[]) => {
        const g = be.moeCombineBackward(y, weight, planOf(p), dOut);
        return [g.dy, g.dWeight, null, null, null];
      },
    };
  },
};

export const moeDispatchChecks: OpCheck[] = [
  moeGatherCheck,
  moeGroupedMatmulCheck,
  moeExpertsGatheredCheck,
  moeExpertsSwigluCheck,
  moeCombineCheck,
];
