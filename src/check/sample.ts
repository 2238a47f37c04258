// Op checks for the sampler and speculative decoding (inference only: no backward, nDiff 0):
// samplingProbs, sampleCategorical, tokenLogprob, specResidual, specAccept.
//
// Shape regimes (index % 3): 0 = tiny (R 1–3, V 1 or 2–7); 1 = odd (V ∈ {7, 33, 130});
// 2 = larger: V ≈ 5000 (several strides per thread per row) at index 2, 8, …, and a few hundred
// at index 5, 11, … (so the default 3 cases per seed include the long row; the test suite runs
// CASES per seed, which include both).
//
// Index outputs (sampleCategorical, specAccept) must match the reference EXACTLY (tolForward 0),
// and so must the kept set of samplingProbs. The GPU computes in f32, the reference in f64, so
// each generator keeps its random draws off the knife edges where an f32 rounding could flip a
// decision (all margins are ≥ 20× the f32 error bound they guard):
//   - every float input is rounded to f32 first (the CPU reference then sees what the GPU sees);
//   - sampleCategorical: u is re-drawn while u·total lies within 1e-4·total of a cumulative sum
//     (computed in f64) at a positive weight; the GPU's f32 cumulative sums are within
//     ≈ (V/WG + log2 WG)·2⁻²⁴·total ≤ 2e-6·total of exact;
//   - samplingProbs: topP is re-drawn while it lies within 1e-4 of the cumulative mass at the
//     end of any run of equal sorted probabilities, or while the probability at the top-p
//     boundary is within 1e-4 relative of the next smaller one (the GPU's f32 probabilities
//     carry relative errors ≤ ≈ 1e-5 for |z| ≤ 64, so closer values could swap or merge);
//     top-k needs no margin: the GPU ranks the raw f32 logits, whose order and ties x / T in
//     f64 preserves exactly;
//   - specAccept: u is re-drawn while u·q[d] lies within 1e-4 relative of p[d].
// Exact ties are made on purpose: half of the logit cases are quantized (multiples of 1, 1/2
// or 1/4), and some rows copy their maximum to a second column, to test that top-k keeps ties
// at its boundary, top-p keeps tied runs whole, and greedy picks the lowest tied index.

import type { Backend } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import type { HostInput, OpCheck } from './types';

/** Round to f32; `+ 0` folds −0 onto +0 (they are equal floats but distinct bit patterns). */
const f32 = (x: number): number => Math.fround(x) + 0;

/** Relative margin kept between a random draw and any decision boundary (see the header). */
const MARGIN = 1e-4;

function sizes(rng: Rng, index: number): { R: number; V: number } {
  switch (index % 3) {
    case 0:
      return { R: rng.int(1, 3), V: rng.next() < 0.4 ? 1 : rng.int(2, 7) };
    case 1:
      return { R: rng.int(2, 5), V: rng.pick([7, 33, 130]) };
    default:
      return Math.floor(index / 3) % 2 === 0
        ? { R: rng.int(1, 3), V: rng.int(4900, 5100) }
        : { R: rng.int(3, 6), V: rng.int(200, 600) };
  }
}

const f32Input = (name: string, shape: number[], data: Float64Array): HostInput => ({
  name,
  shape,
  dtype: 'f32',
  data: data.map(f32),
  grad: false,
});
const i32Input = (name: string, shape: number[], data: Int32Array): HostInput => ({
  name,
  shape,
  dtype: 'i32',
  data,
  grad: false,
});

/**
 * Random logits [R, V] (f32 values): normal with std 1, 2 or 4; half the time quantized to
 * multiples of 1/q (many exact ties), and then some rows also copy their max to another column.
 */
function makeLogits(rng: Rng, R: number, V: number): { x: Float64Array; desc: string } {
  const std = rng.pick([1, 2, 4]);
  const q = rng.next() < 0.5 ? rng.pick([1, 2, 4]) : 0;
  const x = rng.normalArray(R * V, std).map((v) => f32(q ? Math.round(v * q) / q : v));
  if (q && V > 1) {
    for (let r = 0; r < R; r++) {
      if (rng.next() < 0.5) continue;
      const row = x.subarray(r * V, (r + 1) * V);
      let best = 0;
      for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
      row[rng.int(0, V - 1)] = row[best]; // may hit `best` itself: then the row's ties are whatever q made
    }
  }
  return { x, desc: `std=${std}${q ? ` quant=1/${q}` : ''}` };
}

function randomTemperature(rng: Rng, pZero: number): number {
  return rng.next() < pZero ? 0 : f32(0.5 + rng.next());
}

/** The reference's probabilities before top-p (f64), one row: softmax of x / T over the top-k set. */
function topKProbs(row: Float64Array, T: number, topK: number): Float64Array {
  const z = row.map((v) => v / T);
  let floor = -Infinity;
  if (topK >= 1 && topK < z.length) floor = Float64Array.from(z).sort().reverse()[topK - 1];
  let max = -Infinity;
  for (const v of z) if (v >= floor) max = Math.max(max, v);
  const e = z.map((v) => (v >= floor ? Math.exp(v - max) : 0));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * Whether topP keeps clear of every top-p decision boundary of this row: the cumulative mass at
 * the end of each run of equal sorted probabilities, and the gap between the boundary run and
 * the next smaller value.
 */
function topPSafe(p: Float64Array, topP: number): boolean {
  const sorted = Array.from(p)
    .filter((v) => v > 0)
    .sort((a, b) => b - a);
  const runs: Array<{ v: number; cum: number }> = [];
  let cum = 0;
  for (let i = 0; i < sorted.length; i++) {
    cum += sorted[i];
    if (i + 1 === sorted.length || sorted[i + 1] !== sorted[i]) runs.push({ v: sorted[i], cum });
  }
  for (const r of runs) if (Math.abs(r.cum - topP) < MARGIN) return false;
  const b = runs.findIndex((r) => r.cum >= topP);
  if (b >= 0 && b + 1 < runs.length && runs[b].v / runs[b + 1].v - 1 < MARGIN) return false;
  return true;
}

/** Rows of f32 probabilities: softmax of normal logits with the given std. */
function randomDistributions(rng: Rng, R: number, V: number, std: number): Float64Array {
  const out = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const z = rng.normalArray(V, std);
    const m = Math.max(...z);
    let s = 0;
    for (let i = 0; i < V; i++) s += out[r * V + i] = Math.exp(z[i] - m);
    for (let i = 0; i < V; i++) out[r * V + i] = f32(out[r * V + i] / s);
  }
  return out;
}

/** A uniform in [0, 1) that is exactly an f32. */
function uniformF32(rng: Rng): number {
  for (;;) {
    const u = f32(rng.next());
    if (u < 1) return u;
  }
}

/**
 * u for one row of weights: re-drawn while u·total is within MARGIN·total of the cumulative sum
 * at a positive weight (f64); after 200 misses, the f32 nearest the middle of the widest interval.
 */
function safeUniform(rng: Rng, w: Float64Array): number {
  let total = 0;
  for (const v of w) total += v;
  if (total === 0) return uniformF32(rng);
  const bounds: number[] = [];
  let c = 0;
  for (const v of w) {
    c += v;
    if (v > 0) bounds.push(c);
  }
  const safe = (u: number) => bounds.every((b) => Math.abs(u * total - b) >= MARGIN * total);
  for (let tries = 0; tries < 200; tries++) {
    const u = uniformF32(rng);
    if (safe(u)) return u;
  }
  let lo = 0;
  let best = { lo: 0, hi: bounds[0] };
  for (const b of bounds) {
    if (b - lo > best.hi - best.lo) best = { lo, hi: b };
    lo = b;
  }
  const u = f32((best.lo + best.hi) / 2 / total);
  if (!safe(u) || u >= 1) throw new Error('sampleCategorical check: no safe uniform for this row');
  return u;
}

/** Cases per seed in the test suite: both variants of the large regime (V ≈ 5000 and a few hundred). */
const CASES = 6;

export const sampleChecks: OpCheck[] = [
  {
    name: 'samplingProbs',
    about:
      'sampling distribution: greedy one-hot, or softmax(x/T) restricted to top-k then top-p (ties kept), renormalized',
    // f32 softmax: z = x / T is rounded (|z| ≤ ≈ 32 here: absolute error ≤ 2e-6 in the
    // exponent), exp adds a few ulp, the row sum ≈ log2(V)·2⁻²⁴: relative errors ≤ ≈ 5e-6 on
    // the largest probabilities, which set the normwise scale. A kept-set mismatch would show
    // as an error of the size of a whole boundary probability (and is also tested exactly in
    // backends/sample.test.ts).
    tolForward: 2e-5,
    tolBackward: 0,
    cases: CASES,
    makeCase(rng, index) {
      const { R, V } = sizes(rng, index);
      const { x, desc } = makeLogits(rng, R, V);
      const T = randomTemperature(rng, 0.25);
      const topK = rng.pick([0, 1, 5, V]);
      let topP = f32(rng.pick([1, 0.9, 0.5]));
      if (T > 0 && topP < 1) {
        const rows = Array.from({ length: R }, (_, r) => topKProbs(x.subarray(r * V, (r + 1) * V), T, topK));
        const ok = (p: number) => rows.every((row) => topPSafe(row, p));
        for (let tries = 0; !ok(topP); tries++) topP = tries < 50 ? f32(0.3 + 0.65 * rng.next()) : 1;
      }
      return {
        desc: `R=${R} V=${V} T=${T.toFixed(3)} topK=${topK} topP=${topP.toFixed(4)} ${desc}`,
        inputs: [f32Input('logits', [R, V], x)],
        nDiff: 0,
        forward: (be: Backend, [logits]: Tensor[]) => [be.samplingProbs(logits, T, topK, topP)],
      };
    },
  },
  {
    name: 'sampleCategorical',
    about: 'inverse-CDF draw per row from non-negative weights: smallest i with cumsum > u·total (exact index)',
    // Exact: u is kept ≥ 1e-4·total away from every cumulative-sum boundary (see the header).
    tolForward: 0,
    tolBackward: 0,
    cases: CASES,
    makeCase(rng, index) {
      const { R, V } = sizes(rng, index);
      const w = new Float64Array(R * V);
      const u = new Float64Array(R);
      const kinds: string[] = [];
      for (let r = 0; r < R; r++) {
        const row = w.subarray(r * V, (r + 1) * V);
        const kind = rng.next() < 0.1 ? 'zero' : rng.pick(['dense', 'sparse', 'single']);
        kinds.push(kind);
        if (kind === 'single') row[rng.int(0, V - 1)] = f32(10 ** (-2 + 4 * rng.next()));
        else if (kind !== 'zero') {
          // Unnormalized: a softmax times a scale in [0.01, 100].
          const p = randomDistributions(rng, 1, V, rng.pick([1, 2, 3]));
          const scale = 10 ** (-2 + 4 * rng.next());
          for (let i = 0; i < V; i++) row[i] = f32(p[i] * scale);
          if (kind === 'sparse') {
            // Zero out about half the columns, and a tail (so the last positive index < V − 1).
            for (let i = 0; i < V; i++) if (rng.next() < 0.5) row[i] = 0;
            for (let i = Math.max(1, V - rng.int(0, 3)); i < V; i++) row[i] = 0;
          }
        }
        u[r] = rng.next() < 0.1 ? 0 : safeUniform(rng, row);
      }
      return {
        desc: `R=${R} V=${V} rows=${kinds.join(',')}`,
        inputs: [f32Input('w', [R, V], w), f32Input('u', [R], u)],
        nDiff: 0,
        forward: (be: Backend, [wt, ut]: Tensor[]) => [be.sampleCategorical(wt, ut)],
      };
    },
  },
  {
    name: 'tokenLogprob',
    about: 'log softmax(logits / T)[id] per row (T = 0 read as 1)',
    // A log-sum-exp in f32: z rounding (≤ 2e-6 absolute for |z| ≤ 32), exp/log to a few ulp,
    // the sum to ≈ log2(V)·2⁻²⁴: absolute errors ≈ 1e-6 against log-probs of order
    // log V + spread (≥ 1 in magnitude for the row that sets the normwise scale, except V = 1
    // where every value is exactly 0 on both sides). 1e-5 leaves margin.
    tolForward: 1e-5,
    tolBackward: 0,
    cases: CASES,
    makeCase(rng, index) {
      const { R, V } = sizes(rng, index);
      const { x, desc } = makeLogits(rng, R, V);
      const T = randomTemperature(rng, 0.25);
      const ids = Int32Array.from({ length: R }, () => rng.int(0, V - 1));
      return {
        desc: `R=${R} V=${V} T=${T.toFixed(3)} ${desc}`,
        inputs: [f32Input('logits', [R, V], x), i32Input('ids', [R], ids)],
        nDiff: 0,
        forward: (be: Backend, [logits, idt]: Tensor[]) => [be.tokenLogprob(logits, idt, T)],
      };
    },
  },
  {
    name: 'specResidual',
    about: 'speculative residual max(0, p − q), elementwise',
    // One f32 subtraction of f32 inputs (exact when p ≈ q, by Sterbenz): ≤ 2⁻²⁴ relative.
    tolForward: 1e-6,
    tolBackward: 0,
    cases: CASES,
    makeCase(rng, index) {
      const { R, V } = sizes(rng, index);
      const p = randomDistributions(rng, R, V, rng.pick([1, 2]));
      const q = randomDistributions(rng, R, V, rng.pick([1, 2]));
      // Some exact equalities (residual exactly 0) and some p = 0 entries.
      for (let i = 0; i < p.length; i++) {
        const c = rng.next();
        if (c < 0.1) q[i] = p[i];
        else if (c < 0.15) p[i] = 0;
      }
      return {
        desc: `R=${R} V=${V}`,
        inputs: [f32Input('p', [R, V], p), f32Input('q', [R, V], q)],
        nDiff: 0,
        forward: (be: Backend, [pt, qt]: Tensor[]) => [be.specResidual(pt, qt)],
      };
    },
  },
  {
    name: 'specAccept',
    about: 'speculative accept/reject per row: u·q[d] < p[d] ? (d, 1) : (resid, 0) (exact)',
    // Exact: u·q[d] is kept ≥ 1e-4 relative away from p[d]; the GPU's product has one rounding.
    tolForward: 0,
    tolBackward: 0,
    cases: CASES,
    makeCase(rng, index) {
      const { R, V } = sizes(rng, index);
      const R2 = R + rng.int(0, 4); // a few more rows: the decision is per row
      const p = randomDistributions(rng, R2, V, rng.pick([1, 2]));
      const q = randomDistributions(rng, R2, V, rng.pick([1, 2]));
      const draft = new Int32Array(R2);
      const u = new Float64Array(R2);
      const resid = Int32Array.from({ length: R2 }, () => rng.int(0, V - 1));
      for (let r = 0; r < R2; r++) {
        // The draft token: a draw from q (f64 inverse CDF).
        let t = rng.next();
        let d = 0;
        while (d < V - 1 && (t -= q[r * V + d]) >= 0) d++;
        draft[r] = d;
        if (rng.next() < 0.15) p[r * V + d] = 0; // never accepted
        const pd = p[r * V + d];
        const qd = q[r * V + d];
        if (rng.next() < 0.1)
          u[r] = 0; // accepted iff p[d] > 0
        else {
          do u[r] = uniformF32(rng);
          while (Math.abs(u[r] * qd - pd) < MARGIN * Math.max(pd, qd));
        }
      }
      return {
        desc: `R=${R2} V=${V} accepted=${u.filter((ur, r) => ur * q[r * V + draft[r]] < p[r * V + draft[r]]).length}`,
        inputs: [
          f32Input('p', [R2, V], p),
          f32Input('q', [R2, V], q),
          i32Input('draft', [R2], draft),
          f32Input('u', [R2], u),
          i32Input('resid', [R2], resid),
        ],
        nDiff: 0,
        forward: (be: Backend, [pt, qt, dt, ut, rt]: Tensor[]) => [be.specAccept(pt, qt, dt, ut, rt)],
      };
    },
  },
];
