// Layout ops, float64 reference: pure copies along the last dim (R = product of leading dims).
//   sliceLast  x [R, D] → [R, len]        out[r, j] = x[r, start + j]
//   padLast    x [R, L] → [R, total]      out[r, start + j] = x[r, j], zeros elsewhere
//   concatLast a [R, Da], b [R, Db] → [R, Da + Db]
//   swap01     x [A, B, C] → [B, A, C]    out[b, a, c] = x[a, b, c]
//   splitLast  x [R, D] → x[:, :at], x[:, at:]
// Backwards (no separate functions needed): sliceLast ↔ padLast, concatLast → two sliceLasts,
// swap01 → swap01.

import type { Shape, Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

function lastDim(t: Tensor): number {
  return t.shape[t.shape.length - 1];
}

function withLast(shape: Shape, last: number): Shape {
  return [...shape.slice(0, -1), last];
}

/** Number of rows (product of the leading dims). */
function rows(t: Tensor): number {
  let n = 1;
  for (let i = 0; i < t.shape.length - 1; i++) n *= t.shape[i];
  return n;
}

export function sliceLast(be: CpuBackend, x: Tensor, start: number, len: number): Tensor {
  const D = lastDim(x);
  const R = rows(x);
  const xs = be.data(x);
  const out = new Float64Array(R * len);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < len; j++) out[r * len + j] = xs[r * D + start + j];
  }
  return be.make(withLast(x.shape, len), out);
}

export function padLast(be: CpuBackend, x: Tensor, start: number, total: number): Tensor {
  const L = lastDim(x);
  const R = rows(x);
  const xs = be.data(x);
  const out = new Float64Array(R * total);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < L; j++) out[r * total + start + j] = xs[r * L + j];
  }
  return be.make(withLast(x.shape, total), out);
}

export function concatLast(be: CpuBackend, a: Tensor, b: Tensor): Tensor {
  const Da = lastDim(a);
  const Db = lastDim(b);
  const D = Da + Db;
  const R = rows(a);
  const as = be.data(a);
  const bs = be.data(b);
  const out = new Float64Array(R * D);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < Da; j++) out[r * D + j] = as[r * Da + j];
    for (let j = 0; j < Db; j++) out[r * D + Da + j] = bs[r * Db + j];
  }
  return be.make(withLast(a.shape, D), out);
}

/** x [R, D] → a = x[:, :at], b = x[:, at:]. */
export function splitLast(be: CpuBackend, x: Tensor, at: number): { a: Tensor; b: Tensor } {
  const D = lastDim(x);
  return { a: sliceLast(be, x, 0, at), b: sliceLast(be, x, at, D - at) };
}

export function swap01(be: CpuBackend, x: Tensor): Tensor {
  const [A, B, C] = x.shape;
  const xs = be.data(x);
  const out = new Float64Array(A * B * C);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) out[(b * A + a) * C + c] = xs[(a * B + b) * C + c];
    }
  }
  return be.make([B, A, C], out);
}

/** dst ← src (same size). */
export function copyInto(be: CpuBackend, dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new Error(`copyInto: ${src} into ${dst}`);
  be.data(dst).set(be.data(src));
}

export const ops = { sliceLast, padLast, concatLast, splitLast, swap01, copyInto } satisfies CpuFamily;
