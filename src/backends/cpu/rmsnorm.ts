// RMSNorm, float64 reference.
//   forward:  rstd[n] = 1 / sqrt(mean_j x[n,j]² + eps),  y[n,j] = x[n,j] · rstd[n] · w[j]
//   backward: with s[n] = Σ_j w[j]·dy[n,j]·x[n,j],
//             dx[n,j] = rstd[n]·w[j]·dy[n,j] − x[n,j]·rstd[n]³·s[n] / D
//             dw[j]   = Σ_n dy[n,j]·x[n,j]·rstd[n]   (summed in increasing n)
//             with res (the gradient already gathered for x): dx + res; with dyMore, the
//             upstream gradient is dy + dyMore[0] + … (parts the tape has not added yet)

import type { NormSegment, NormSegmentsResult } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function rmsnorm(be: CpuBackend, x: Tensor, w: Tensor, eps: number): { y: Tensor; rstd: Tensor } {
  const D = x.shape[x.shape.length - 1];
  const N = D === 0 ? 0 : x.size / D;
  const xs = be.data(x);
  const ws = be.data(w);
  const y = new Float64Array(x.size);
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const base = n * D;
    let ss = 0;
    for (let j = 0; j < D; j++) ss += xs[base + j] * xs[base + j];
    const r = 1 / Math.sqrt(ss / D + eps);
    rstd[n] = r;
    for (let j = 0; j < D; j++) y[base + j] = xs[base + j] * r * ws[j];
  }
  return { y: be.make(x.shape, y), rstd: be.make([N], rstd) };
}

export function rmsnormBackward(
  be: CpuBackend,
  x: Tensor,
  w: Tensor,
  rstd: Tensor,
  dy: Tensor,
  res?: Tensor,
  dyMore: readonly Tensor[] = [],
): { dx: Tensor; dw: Tensor } {
  const D = x.shape[x.shape.length - 1];
  const N = D === 0 ? 0 : x.size / D;
  const xs = be.data(x);
  const ws = be.data(w);
  const rs = be.data(rstd);
  // The upstream gradient: dy plus its further parts, summed in order.
  const g = Float64Array.from(be.data(dy));
  for (const part of dyMore) {
    const ps = be.data(part);
    for (let i = 0; i < g.length; i++) g[i] += ps[i];
  }
  // dx starts from the gradient already gathered for x (res), or from zero.
  const dx = res ? Float64Array.from(be.data(res)) : new Float64Array(x.size);
  const dw = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    const base = n * D;
    const r = rs[n];
    let s = 0;
    for (let j = 0; j < D; j++) s += ws[j] * g[base + j] * xs[base + j];
    const c = (r * r * r * s) / D;
    for (let j = 0; j < D; j++) {
      dx[base + j] += r * ws[j] * g[base + j] - xs[base + j] * c;
      dw[j] += g[base + j] * xs[base + j] * r;
    }
  }
  return { dx: be.make(x.shape, dx), dw: be.make([D], dw) };
}

/** sum = a + b, then rmsnorm(sum). */
export function addRmsnorm(
  be: CpuBackend,
  a: Tensor,
  b: Tensor,
  w: Tensor,
  eps: number,
): { sum: Tensor; y: Tensor; rstd: Tensor } {
  const x = be.data(a);
  const z = be.data(b);
  const sum = be.make(
    a.shape,
    x.map((v, i) => v + z[i]),
  );
  return { sum, ...rmsnorm(be, sum, w, eps) };
}

/** Each segment: rmsnorm over x's first w.size columns, the rest carried (one rstd per segment). */
export function rmsnormSegments(be: CpuBackend, segs: readonly NormSegment[], eps: number): NormSegmentsResult {
  const out: NormSegmentsResult = { y: [], rest: [], rstd: [] };
  for (const { x, w } of segs) {
    const D = w.size;
    const S = x.shape[1];
    const r = rmsnorm(be, S > D ? be.sliceLast(x, 0, D) : x, w, eps);
    out.y.push(r.y);
    out.rest.push(S > D ? be.sliceLast(x, D, S - D) : null);
    out.rstd.push(r.rstd);
  }
  return out;
}

/** Per segment: rmsnormBackward on the normalized columns, dRest (or zeros) for the carried ones. */
export function rmsnormSegmentsBackward(
  be: CpuBackend,
  segs: readonly NormSegment[],
  rstd: readonly Tensor[],
  dy: readonly Tensor[],
  dRest: ReadonlyArray<Tensor | null>,
): { dx: Tensor[]; dw: Tensor[] } {
  const dx: Tensor[] = [];
  const dw: Tensor[] = [];
  segs.forEach(({ x, w }, i) => {
    const D = w.size;
    const [N, S] = x.shape;
    const g = rmsnormBackward(be, S > D ? be.sliceLast(x, 0, D) : x, w, rstd[i], dy[i]);
    dx.push(S > D ? be.concatLast(g.dx, dRest[i] ?? be.zeros([N, S - D])) : g.dx);
    dw.push(g.dw);
  });
  return { dx, dw };
}

export const ops = {
  rmsnorm,
  rmsnormBackward,
  addRmsnorm,
  rmsnormSegments,
  rmsnormSegmentsBackward,
} satisfies CpuFamily;
