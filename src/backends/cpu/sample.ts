// Sampling and speculative-decoding ops, float64 reference (semantics in engine/backend.ts).
// Top-k and top-p are defined by thresholds, so ties at a boundary are all kept, and the GPU
// kernels (which find the thresholds by bisection) and this reference agree exactly.

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

function argmax(row: Float64Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

export function samplingProbs(be: CpuBackend, logits: Tensor, temperature: number, topK: number, topP: number): Tensor {
  const [R, V] = logits.shape;
  const xs = be.data(logits);
  const out = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const row = xs.subarray(r * V, (r + 1) * V);
    const o = out.subarray(r * V, (r + 1) * V);
    if (temperature === 0) {
      o[argmax(row)] = 1;
      continue;
    }
    const z = Float64Array.from(row, (x) => x / temperature);
    let floor = -Infinity;
    if (topK >= 1 && topK < V) floor = Float64Array.from(z).sort().reverse()[topK - 1];
    let max = -Infinity;
    for (const v of z) if (v >= floor && v > max) max = v;
    let sum = 0;
    for (let i = 0; i < V; i++) if (z[i] >= floor) sum += o[i] = Math.exp(z[i] - max);
    for (let i = 0; i < V; i++) o[i] /= sum;
    if (topP > 0 && topP < 1) {
      // τ: walk the distinct probabilities from the top until the kept mass reaches topP.
      const sorted = Array.from(o)
        .filter((p) => p > 0)
        .sort((a, b) => b - a);
      let mass = 0;
      let tau = sorted[sorted.length - 1];
      for (let i = 0; i < sorted.length; i++) {
        mass += sorted[i];
        // Ties are kept together: only stop at the end of a run of equal values.
        if (mass >= topP && (i + 1 === sorted.length || sorted[i + 1] !== sorted[i])) {
          tau = sorted[i];
          break;
        }
      }
      let kept = 0;
      for (let i = 0; i < V; i++) if (o[i] >= tau) kept += o[i];
      for (let i = 0; i < V; i++) o[i] = o[i] >= tau ? o[i] / kept : 0;
    }
  }
  return be.make([R, V], out);
}

export function sampleCategorical(be: CpuBackend, w: Tensor, u: Tensor): Tensor {
  const [R, V] = w.shape;
  const ws = be.data(w);
  const us = be.data(u);
  const out = new Int32Array(R);
  for (let r = 0; r < R; r++) {
    const row = ws.subarray(r * V, (r + 1) * V);
    let total = 0;
    let lastPositive = 0;
    for (let i = 0; i < V; i++) {
      total += row[i];
      if (row[i] > 0) lastPositive = i;
    }
    const target = us[r] * total;
    let acc = 0;
    let pick = lastPositive;
    for (let i = 0; i < V; i++) {
      acc += row[i];
      if (acc > target) {
        pick = i;
        break;
      }
    }
    out[r] = total > 0 ? Math.min(pick, lastPositive) : 0;
  }
  return be.make([R], out, 'i32');
}

export function tokenLogprob(be: CpuBackend, logits: Tensor, ids: Tensor, temperature: number): Tensor {
  const [R, V] = logits.shape;
  const xs = be.data(logits);
  const is = be.ints(ids);
  const t = temperature === 0 ? 1 : temperature;
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, xs[r * V + i] / t);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(xs[r * V + i] / t - max);
    out[r] = xs[r * V + is[r]] / t - max - Math.log(sum);
  }
  return be.make([R], out);
}

export function specResidual(be: CpuBackend, p: Tensor, q: Tensor): Tensor {
  const ps = be.data(p);
  const qs = be.data(q);
  return be.make(
    p.shape,
    Float64Array.from(ps, (x, i) => Math.max(0, x - qs[i])),
  );
}

export function specAccept(be: CpuBackend, p: Tensor, q: Tensor, draft: Tensor, u: Tensor, resid: Tensor): Tensor {
  const [R, V] = p.shape;
  const ps = be.data(p);
  const qs = be.data(q);
  const ds = be.ints(draft);
  const us = be.data(u);
  const rs = be.ints(resid);
  const out = new Int32Array(R * 2);
  for (let r = 0; r < R; r++) {
    const d = ds[r];
    const ok = us[r] * qs[r * V + d] < ps[r * V + d];
    out[2 * r] = ok ? d : rs[r];
    out[2 * r + 1] = ok ? 1 : 0;
  }
  return be.make([R, 2], out, 'i32');
}

export const ops = { samplingProbs, sampleCategorical, tokenLogprob, specResidual, specAccept } satisfies CpuFamily;
