// MoE routing, float64 reference: the sigmoid gate, group-limited top-K routing (spec §2) and
// its backward (also composed: gate + routing as one op, moeRouteSigmoid), the dispatch plan
// (a stable counting sort) and the loss-free-balancing bias update.
//
// Selection is a discrete decision, so "close" is not good enough: the CPU must choose exactly
// the experts the GPU chooses. The GPU forms sel = scores + bias and the group score (top-1 +
// top-2 sel) in f32, so this reference rounds both to f32 with Math.fround before comparing
// (f32 addition is correctly rounded, so fround(fround(s) + fround(b)) is bit-for-bit the GPU's
// value). Ties break to the lower group / expert index on both backends. The WEIGHTS, which are
// differentiable, are computed in float64 from the original scores as usual.

import type { MoePlan, RouteConfig } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

const f32 = Math.fround;

/** σ(x) from e = exp(−|x|) ∈ (0, 1]: no overflow for large |x|. */
export function sigmoid(be: CpuBackend, x: Tensor): Tensor {
  const xs = be.data(x);
  const y = new Float64Array(x.size);
  for (let i = 0; i < xs.length; i++) {
    const e = Math.exp(-Math.abs(xs[i]));
    y[i] = xs[i] >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
  return be.make(x.shape, y);
}

/** dx = dy · y · (1 − y). */
export function sigmoidBackward(be: CpuBackend, y: Tensor, dy: Tensor): Tensor {
  const ys = be.data(y);
  const g = be.data(dy);
  const dx = new Float64Array(y.size);
  for (let i = 0; i < ys.length; i++) dx[i] = g[i] * ys[i] * (1 - ys[i]);
  return be.make(y.shape, dx);
}

/** a (value va, index ia) comes strictly before b: larger value, or equal value and lower index. */
function before(va: number, ia: number, vb: number, ib: number): boolean {
  return va > vb || (va === vb && ia < ib);
}

/** Indices of the `count` best entries of vals among `candidates`, best first. */
function topIndices(vals: ArrayLike<number>, candidates: number[], count: number): number[] {
  return [...candidates].sort((a, b) => (before(vals[a], a, vals[b], b) ? -1 : 1)).slice(0, count);
}

export function moeRoute(
  be: CpuBackend,
  scores: Tensor,
  bias: Tensor,
  r: RouteConfig,
): { idx: Tensor; weight: Tensor } {
  const [N, E] = scores.shape;
  const K = r.topK;
  const G = r.nGroup;
  const gs = E / G;
  const s = be.data(scores);
  const b = be.data(bias);
  const idx = new Int32Array(N * K);
  const weight = new Float64Array(N * K);
  const sel = new Float64Array(E);
  const gscore = new Float64Array(G);
  for (let n = 0; n < N; n++) {
    const row = n * E;
    // Biased scores, rounded exactly as the GPU's f32 add.
    for (let e = 0; e < E; e++) sel[e] = f32(f32(s[row + e]) + f32(b[e]));
    // Group score: top-1 + top-2 sel of the group (one f32 add, as on the GPU).
    for (let g = 0; g < G; g++) {
      const members = Array.from({ length: gs }, (_, j) => g * gs + j);
      const [t1, t2] = topIndices(sel, members, 2);
      gscore[g] = gs === 1 ? sel[t1] : f32(sel[t1] + sel[t2]);
    }
    const keptGroups = topIndices(
      gscore,
      Array.from({ length: G }, (_, g) => g),
      r.topkGroup,
    );
    const candidates: number[] = [];
    for (const g of keptGroups) for (let j = 0; j < gs; j++) candidates.push(g * gs + j);
    const chosen = topIndices(sel, candidates, K);
    // Weights: the ORIGINAL scores of the chosen experts (no bias), summed in rank order.
    let S = 0;
    for (const e of chosen) S += s[row + e];
    for (let k = 0; k < K; k++) {
      const sk = s[row + chosen[k]];
      idx[n * K + k] = chosen[k];
      weight[n * K + k] = (r.normTopk ? sk / S : sk) * r.scale;
    }
  }
  return { idx: be.make([N, K], idx), weight: be.make([N, K], weight) };
}

/**
 * dScores from dWeight. w_k = scale·s_k (no norm), or w_k = scale·s_k / S with S = Σ_j s_j:
 *   ∂w_j/∂s_k = scale·(δ_jk / S − s_j / S²)  ⇒  dS_k = scale·(dW_k / S − Σ_j dW_j·s_j / S²).
 * Experts not chosen get 0 (the selection itself carries no gradient).
 */
export function moeRouteBackward(be: CpuBackend, scores: Tensor, idx: Tensor, dWeight: Tensor, r: RouteConfig): Tensor {
  const [N, E] = scores.shape;
  const K = r.topK;
  const s = be.data(scores);
  const ix = be.ints(idx);
  const dw = be.data(dWeight);
  const ds = new Float64Array(N * E);
  for (let n = 0; n < N; n++) {
    let S = 0;
    let T = 0;
    for (let j = 0; j < K; j++) {
      const sj = s[n * E + ix[n * K + j]];
      S += sj;
      T += dw[n * K + j] * sj;
    }
    for (let k = 0; k < K; k++) {
      const e = ix[n * K + k];
      ds[n * E + e] = r.normTopk ? r.scale * (dw[n * K + k] / S - T / (S * S)) : r.scale * dw[n * K + k];
    }
  }
  return be.make([N, E], ds);
}

/** The router's gate and routing in one op: scores = σ(logits), then moeRoute on the scores. */
export function moeRouteSigmoid(
  be: CpuBackend,
  logits: Tensor,
  bias: Tensor,
  r: RouteConfig,
): { idx: Tensor; weight: Tensor; scores: Tensor } {
  const scores = sigmoid(be, logits);
  return { ...moeRoute(be, scores, bias, r), scores };
}

/**
 * dLogits of moeRouteSigmoid: dy = moeRouteBackward's dScores (+ dScores, the gradient that
 * reached the scores from elsewhere), then dy · y · (1 − y) with y = scores.
 */
export function moeRouteSigmoidBackward(
  be: CpuBackend,
  scores: Tensor,
  idx: Tensor,
  dWeight: Tensor,
  r: RouteConfig,
  dScores?: Tensor | null,
): Tensor {
  const dy = moeRouteBackward(be, scores, idx, dWeight, r);
  if (dScores) {
    const a = be.data(dy);
    const b = be.data(dScores);
    for (let i = 0; i < a.length; i++) a[i] += b[i];
  }
  return sigmoidBackward(be, scores, dy);
}

/** Stable counting sort of the M = N·K assignments by expert. */
export function moePlan(be: CpuBackend, idx: Tensor, experts: number): MoePlan {
  const ix = be.ints(idx);
  const M = ix.length;
  const offsets = new Int32Array(experts + 1);
  for (let a = 0; a < M; a++) offsets[ix[a] + 1]++;
  for (let e = 0; e < experts; e++) offsets[e + 1] += offsets[e];
  const next = offsets.slice(0, experts); // next free slot of each expert
  const slotAssign = new Int32Array(M);
  const assignSlot = new Int32Array(M);
  for (let a = 0; a < M; a++) {
    const slot = next[ix[a]]++;
    slotAssign[slot] = a;
    assignSlot[a] = slot;
  }
  return {
    offsets: be.make([experts + 1], offsets),
    slotAssign: be.make([M], slotAssign),
    assignSlot: be.make([M], assignSlot),
  };
}

/** b_e += γ·sign(mean(c) − c_e), c_e = offsets[e+1] − offsets[e]; sign taken exactly as sign(M − E·c_e). */
export function moeBiasUpdate(be: CpuBackend, bias: Tensor, offsets: Tensor, gamma: number): void {
  const b = be.data(bias);
  const off = be.ints(offsets);
  const E = b.length;
  const M = off[E];
  for (let e = 0; e < E; e++) {
    const c = off[e + 1] - off[e];
    b[e] += gamma * Math.sign(M - E * c);
  }
}

/** moeBiasUpdate for each (bias, offsets) pair, in order. */
export function moeBiasUpdates(
  be: CpuBackend,
  biases: readonly Tensor[],
  offsets: readonly Tensor[],
  gamma: number,
): void {
  biases.forEach((b, i) => {
    moeBiasUpdate(be, b, offsets[i], gamma);
  });
}

export const ops = {
  sigmoid,
  sigmoidBackward,
  moeRoute,
  moeRouteBackward,
  moeRouteSigmoid,
  moeRouteSigmoidBackward,
  moePlan,
  moeBiasUpdate,
  moeBiasUpdates,
} satisfies CpuFamily;
