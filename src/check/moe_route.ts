// Op checks for the MoE routing family: sigmoid, moeRoute (+ moeRouteBackward), the two fused
// (moeRouteSigmoid + moeRouteSigmoidBackward), the exact-tie routing check moeRouteTies, moePlan
// and moeBiasUpdate.
//
// Routing outputs an integer selection, so the checks compare it EXACTLY: the i32 outputs
// (idx, the plan) are returned as they are, and the harness's relErr works on Int32Array
// values too. A single wrong index gives an error of at least 1/(E−1) ≥ 4e-3 (or 1e6 when the
// reference is all zeros), far above every tolerance here; the plan checks use tolerance 0.
//
// Finite differences and ties. The harness perturbs each score by h = 1e-5 and re-runs the CPU
// forward. Near a tie (two sel values, or two group scores, closer than h) the perturbation
// can flip the selection and the "derivative" jumps. So the differentiable check 'moeRoute'
// draws, per row, E DISTINCT sel values on a grid of 1/512 (gaps ≥ 2e-3 ≫ h) and sets
// scores = sel − bias (bias on the same grid, so every score, sel and group score is exact in
// f32); rows where two group scores tie are redrawn. Exact ties are tested by the forward-only
// check 'moeRouteTies' (scores and bias on a grid of 1/8: ties among experts, among groups, and
// ties created by the bias), which has no backward and hence no finite differences; the
// GPU-vs-CPU comparison of the backward does not depend on ties (idx is its input).
//
// Paths. moeRoute, moeRouteSigmoid and moeRouteTies take the subgroup entries where the device
// has `subgroups`; their twins moeRouteWorkgroup, moeRouteSigmoidWorkgroup and
// moeRouteTiesWorkgroup run the same cases' kinds on the workgroup kernels (rank counting).

import type { Backend, RouteConfig } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Shape, Tensor } from '../engine/tensor';
import { onPaths } from './reduce';
import type { OpCheck } from './types';

// ---- sigmoid ----

function ewShape(rng: Rng, index: number): Shape {
  switch (index % 3) {
    case 0:
      return [rng.int(1, 2), rng.int(1, 3)];
    case 1:
      return [rng.pick([7, 33]), rng.pick([13, 130])];
    default:
      return [rng.int(100, 300), rng.pick([64, 256])];
  }
}

// ---- routing configurations, by shape regime ----

interface Topology {
  E: number;
  G: number;
  topkGroup: number;
  K: number;
}

const TOPOLOGIES: Topology[][] = [
  // 0 tiny: plain top-K (G = 1), K = 1, one expert, two groups of one
  [
    { E: 1, G: 1, topkGroup: 1, K: 1 },
    { E: 2, G: 1, topkGroup: 1, K: 1 },
    { E: 3, G: 1, topkGroup: 1, K: 2 },
    { E: 4, G: 2, topkGroup: 1, K: 1 },
    { E: 6, G: 3, topkGroup: 1, K: 2 },
  ],
  // 1 odd: E odd multiples of the group count, group-limited
  [
    { E: 6, G: 3, topkGroup: 2, K: 3 },
    { E: 9, G: 3, topkGroup: 1, K: 3 },
    { E: 12, G: 4, topkGroup: 2, K: 3 },
    { E: 18, G: 6, topkGroup: 2, K: 1 },
    { E: 30, G: 5, topkGroup: 3, K: 5 },
    { E: 33, G: 1, topkGroup: 1, K: 4 },
  ],
  // 2 larger: V3-like shapes (8 groups, keep 4, top-8), E = 256, K = 16
  [
    { E: 16, G: 4, topkGroup: 2, K: 4 },
    { E: 64, G: 8, topkGroup: 4, K: 8 },
    { E: 256, G: 8, topkGroup: 4, K: 8 },
    { E: 256, G: 16, topkGroup: 3, K: 16 },
    { E: 40, G: 1, topkGroup: 1, K: 6 },
  ],
];

function pickConfig(rng: Rng, index: number): { N: number; E: number; r: RouteConfig } {
  const regime = index % 3;
  const t = rng.pick(TOPOLOGIES[regime]);
  const N = regime === 0 ? rng.int(1, 3) : regime === 1 ? rng.pick([7, 33]) : rng.int(100, 300);
  const r: RouteConfig = {
    nGroup: t.G,
    topkGroup: t.topkGroup,
    topK: t.K,
    normTopk: rng.next() < 0.5,
    scale: rng.pick([1, 2.5]),
  };
  return { N, E: t.E, r };
}

/**
 * With K = 1 a normalized weight is s/s = 1 whatever the score, so the weights' gradient to the
 * scores is exactly zero; the f32 residue of (dW − dW·s/s)/s (≈ 1e-8) measured against a zero
 * reference would read as a relative error of 1e-2. Such cases check the forward only.
 */
const zeroGradient = (r: RouteConfig) => r.topK === 1 && r.normTopk;

function routeDesc(N: number, E: number, r: RouteConfig, extra: string): string {
  return `N=${N} E=${E} G=${r.nGroup} topkGroup=${r.topkGroup} K=${r.topK} norm=${r.normTopk ? 'on' : 'off'} scale=${r.scale} ${extra}`;
}

/** The group scores of one row of sel (top-1 + top-2 per group). */
function groupScores(sel: ArrayLike<number>, E: number, G: number): number[] {
  const gs = E / G;
  const out: number[] = [];
  for (let g = 0; g < G; g++) {
    const v = Array.from({ length: gs }, (_, j) => sel[g * gs + j]).sort((a, b) => b - a);
    out.push(gs === 1 ? v[0] : v[0] + v[1]);
  }
  return out;
}

/**
 * Scores and bias with no ties anywhere (see the header): sel values per row are E distinct
 * multiples of 1/512 in [0.15, 0.85], bias multiples of 1/512 in [−0.1, 0.1] (or all zero),
 * scores = sel − bias ∈ (0.05, 0.95), all exact in f32.
 */
function distinctScores(
  rng: Rng,
  N: number,
  E: number,
  G: number,
  zeroBias: boolean,
): { scores: Float64Array; bias: Float64Array } {
  const Q = 512;
  const bias = Float64Array.from({ length: E }, () => (zeroBias ? 0 : rng.int(-51, 51) / Q));
  const scores = new Float64Array(N * E);
  const lo = Math.round(0.15 * Q);
  const hi = Math.round(0.85 * Q);
  for (let n = 0; n < N; n++) {
    for (;;) {
      // E distinct grid points: a partial Fisher–Yates shuffle of lo..hi.
      const pool = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
      const sel: number[] = [];
      for (let e = 0; e < E; e++) {
        const j = rng.int(e, pool.length - 1);
        [pool[e], pool[j]] = [pool[j], pool[e]];
        sel.push(pool[e] / Q);
      }
      const gsc = groupScores(sel, E, G);
      if (new Set(gsc).size !== gsc.length) continue; // a group-score tie: redraw the row
      for (let e = 0; e < E; e++) scores[n * E + e] = sel[e] - bias[e];
      break;
    }
  }
  return { scores, bias };
}

/**
 * Scores and bias full of exact ties: scores multiples of 1/8 in [1/8, 7/8], bias multiples of
 * 1/8 in [−1/4, 1/4] (so s_a + b_a = s_b + b_b happens often: bias-made ties), or zero.
 */
function tiedScores(rng: Rng, N: number, E: number, zeroBias: boolean): { scores: Float64Array; bias: Float64Array } {
  const bias = Float64Array.from({ length: E }, () => (zeroBias ? 0 : rng.int(-2, 2) / 8));
  const scores = Float64Array.from({ length: N * E }, () => rng.int(1, 7) / 8);
  return { scores, bias };
}

function routeForward(r: RouteConfig) {
  return (be: Backend, [scores, bias]: Tensor[]): Tensor[] => {
    const { idx, weight } = be.moeRoute(scores, bias, r);
    return [weight, idx];
  };
}

// ---- plan inputs ----

/** idx [N, K]: each row K distinct experts drawn from a random subset (other experts get no tokens). */
function randomAssignments(rng: Rng, N: number, E: number, K: number): { idx: Int32Array; used: number } {
  let used = Array.from({ length: E }, (_, e) => e).filter(() => rng.next() < 0.7);
  if (used.length < K) used = Array.from({ length: E }, (_, e) => e);
  // A skewed preference: the first used experts are drawn more often.
  const idx = new Int32Array(N * K);
  for (let n = 0; n < N; n++) {
    const pool = used.slice();
    for (let k = 0; k < K; k++) {
      const u = rng.next();
      const j = k + Math.floor(u * u * (pool.length - k));
      [pool[k], pool[j]] = [pool[j], pool[k]];
      idx[n * K + k] = pool[k];
    }
  }
  return { idx, used: used.length };
}

/**
 * Per-expert loads as offsets [E+1]. Half the time the mean is an integer with some loads
 * exactly at the mean (sign 0) and some at 0; otherwise random loads.
 */
function randomOffsets(rng: Rng, E: number): Int32Array {
  const c = new Int32Array(E);
  if (rng.next() < 0.5) {
    const m = rng.int(0, 20);
    for (let e = 0; e + 1 < E; e += 2) {
      const d = rng.pick([0, m, rng.int(0, m)]); // pairs m ± d keep the mean at m (d = m: a 0 load)
      c[e] = m + d;
      c[e + 1] = m - d;
    }
    if (E % 2 === 1) c[E - 1] = m;
    for (let e = E - 1; e > 0; e--) {
      const j = rng.int(0, e);
      [c[e], c[j]] = [c[j], c[e]];
    }
  } else {
    for (let e = 0; e < E; e++) c[e] = rng.next() < 0.2 ? 0 : rng.int(0, 40);
  }
  const off = new Int32Array(E + 1);
  for (let e = 0; e < E; e++) off[e + 1] = off[e] + c[e];
  return off;
}

const checks: OpCheck[] = [
  {
    name: 'sigmoid',
    about: 'y = σ(x) (stable: exp of −|x|); dx = dy·y·(1 − y)',
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const s = ewShape(rng, index);
      const n = s[0] * s[1];
      return {
        desc: `shape=[${s.join(',')}]`,
        inputs: [{ name: 'x', shape: s, dtype: 'f32', data: rng.normalArray(n, 3), grad: true }],
        nDiff: 1,
        forward: (be, [x]) => [be.sigmoid(x)],
        backward(be, [x], [dy]) {
          const y = be.sigmoid(x);
          const dx = be.sigmoidBackward(y, dy);
          y.dispose();
          return [dx];
        },
      };
    },
  },
  {
    name: 'moeRoute',
    about:
      'group-limited top-K of scores + bias (idx exact), weight = chosen original scores (normalized, scaled); ' +
      'dScores via moeRouteBackward (tie-free values: see moeRouteTies for ties)',
    // weight: a few f32 roundings (s/S, ·scale, S a sum of ≤ 16 values in (0, 1)); measured
    // ≤ 6e-8. idx: exact (see the header).
    tolForward: 1e-6,
    // dScores = scale·(dW_k − T/S)/S: T is a K-term f32 dot product, then a difference that
    // can cancel; measured ≤ 7e-8 normwise (seeds 1..3), so 1e-6 leaves margin.
    tolBackward: 1e-6,
    makeCase(rng, index) {
      const { N, E, r } = pickConfig(rng, index);
      const zeroBias = rng.next() < 0.25;
      const { scores, bias } = distinctScores(rng, N, E, r.nGroup, zeroBias);
      return {
        desc: routeDesc(N, E, r, zeroBias ? 'bias=0' : 'bias=grid'),
        inputs: [
          { name: 'scores', shape: [N, E], dtype: 'f32', data: scores, grad: true },
          { name: 'bias', shape: [E], dtype: 'f32', data: bias, grad: false },
        ],
        nDiff: zeroGradient(r) ? 0 : 1,
        forward: routeForward(r),
        backward: zeroGradient(r)
          ? undefined
          : (be, [sc, bi], [dw]) => {
              const { idx, weight } = be.moeRoute(sc, bi, r);
              weight.dispose();
              const ds = be.moeRouteBackward(sc, idx, dw, r);
              idx.dispose();
              return [ds, null];
            },
      };
    },
  },
  {
    name: 'moeRouteSigmoid',
    about:
      'sigmoid and routing in one op: scores = σ(logits), then moeRoute (idx exact); dLogits via ' +
      'moeRouteSigmoidBackward, with and without a gradient on the scores from elsewhere',
    // weight, scores: σ in f32 (exp, a divide, a multiply) then the routing's roundings;
    // measured ≤ 1.6e-7 (seeds 0..3). idx: exact.
    tolForward: 1e-6,
    // moeRoute's backward, an add, then dy·y·(1 − y) with y from the f32 σ; measured ≤ 3.1e-7.
    tolBackward: 1e-6,
    makeCase(rng, index) {
      const { N, E, r } = pickConfig(rng, index);
      const zeroBias = rng.next() < 0.25;
      // Tie-free scores in (0.05, 0.95) as for moeRoute, made logits: σ(logit(s)) = s up to the
      // f32 roundings (≈ 1e-8 ≪ the 2e-3 gaps between sel values, and ≫ no flip from h = 1e-5).
      const { scores, bias } = distinctScores(rng, N, E, r.nGroup, zeroBias);
      const logits = scores.map((s) => Math.log(s / (1 - s)));
      // Odd cases: the scores also get an upstream gradient (the balance loss's, in training).
      const extra = index % 2 === 1;
      return {
        desc: routeDesc(N, E, r, `${zeroBias ? 'bias=0' : 'bias=grid'} dScores=${extra ? 'on' : 'off'}`),
        inputs: [
          { name: 'logits', shape: [N, E], dtype: 'f32', data: logits, grad: true },
          { name: 'bias', shape: [E], dtype: 'f32', data: bias, grad: false },
        ],
        // Outputs [weight, scores, idx]: scores differentiable only with the extra gradient; with
        // neither it and a zero weight gradient, nothing to differentiate.
        nDiff: extra ? 2 : zeroGradient(r) ? 0 : 1,
        forward(be, [lg, bi]) {
          const { idx, weight, scores: sc } = be.moeRouteSigmoid(lg, bi, r);
          return [weight, sc, idx];
        },
        backward:
          !extra && zeroGradient(r)
            ? undefined
            : (be, [lg, bi], [dw, ds]) => {
                const { idx, weight, scores: sc } = be.moeRouteSigmoid(lg, bi, r);
                weight.dispose();
                const dl = be.moeRouteSigmoidBackward(sc, idx, dw, r, ds ?? null);
                idx.dispose();
                sc.dispose();
                return [dl, null];
              },
      };
    },
  },
  {
    name: 'moeRouteTies',
    about:
      'moeRoute with exact ties (scores and bias on a 1/8 grid): ties break to the lower group/expert index on both backends',
    tolForward: 1e-6,
    tolBackward: 0,
    makeCase(rng, index) {
      const { N, E, r } = pickConfig(rng, index);
      const zeroBias = rng.next() < 0.25;
      const { scores, bias } = tiedScores(rng, N, E, zeroBias);
      return {
        desc: routeDesc(N, E, r, zeroBias ? 'bias=0' : 'bias=1/8-grid'),
        inputs: [
          { name: 'scores', shape: [N, E], dtype: 'f32', data: scores, grad: false },
          { name: 'bias', shape: [E], dtype: 'f32', data: bias, grad: false },
        ],
        nDiff: 0,
        forward: routeForward(r),
      };
    },
  },
  {
    name: 'moePlan',
    about:
      'dispatch plan (offsets, slotAssign, assignSlot): stable counting sort by expert, exact; experts with no tokens',
    tolForward: 0,
    tolBackward: 0,
    makeCase(rng, index) {
      let N: number, E: number, K: number;
      switch (index % 3) {
        case 0:
          E = rng.int(1, 4);
          [N, K] = [rng.int(1, 3), rng.int(1, Math.min(E, 2))];
          break;
        case 1:
          E = rng.pick([5, 33]);
          [N, K] = [rng.pick([7, 33, 130]), rng.pick([1, 3])];
          break;
        default:
          E = rng.pick([64, 256]);
          [N, K] = [rng.int(1000, 3000), rng.pick([2, 6, 8])];
      }
      const { idx, used } = randomAssignments(rng, N, E, K);
      return {
        desc: `N=${N} K=${K} E=${E} (M=${N * K}, ${used} experts used)`,
        inputs: [{ name: 'idx', shape: [N, K], dtype: 'i32', data: idx, grad: false }],
        nDiff: 0,
        forward(be, [ix]) {
          const p = be.moePlan(ix, E);
          return [p.offsets, p.slotAssign, p.assignSlot];
        },
      };
    },
  },
  {
    name: 'moeBiasUpdate',
    about: 'loss-free balancing: b_e += γ·sign(mean(c) − c_e) from the plan offsets (sign 0 at the mean)',
    // One f32 add per element: ≈ 6e-8.
    tolForward: 1e-6,
    tolBackward: 0,
    makeCase(rng, index) {
      const E = index % 3 === 0 ? rng.int(1, 4) : index % 3 === 1 ? rng.pick([5, 33]) : rng.pick([64, 256]);
      const off = randomOffsets(rng, E);
      const gamma = rng.pick([0.001, 0.01, 0.5]);
      return {
        desc: `E=${E} M=${off[E]} gamma=${gamma}`,
        inputs: [
          { name: 'bias', shape: [E], dtype: 'f32', data: rng.normalArray(E, 0.01), grad: false },
          { name: 'offsets', shape: [E + 1], dtype: 'i32', data: off, grad: false },
        ],
        nDiff: 0,
        forward(be, [b, o]) {
          const out = be.scale(b, 1); // a copy: the update is in place
          be.moeBiasUpdate(out, o, gamma);
          return [out];
        },
      };
    },
  },
];

/** The routing checks that also run on the workgroup kernels (the default takes the subgroup entries where the device has them). */
const WORKGROUP_TWINS = ['moeRoute', 'moeRouteSigmoid', 'moeRouteTies'];

export const moeRouteChecks: OpCheck[] = [
  ...checks,
  ...checks
    .filter((c) => WORKGROUP_TWINS.includes(c.name))
    .map((c) => onPaths(c, 'Workgroup', { subgroups: false }, 'workgroup kernel (rank counting, no subgroups)')),
];
