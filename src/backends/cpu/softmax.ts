// Row softmax over the last dim of x [R, Tq, Tk] with an optional causal mask, float64 reference.
//   Row (r, i) sees columns j < lim(i): lim = Tk without a mask, lim = clamp(i + offset + 1, 0, Tk)
//   with one (entry (i, j) is masked when j > i + offset). Masked entries are exactly 0; a row
//   with no visible column (only possible for offset < 0) is all zeros.
//   forward:  y[j] = exp(x[j] − m) / Σ_{k<lim} exp(x[k] − m),  m = max_{k<lim} x[k]
//   backward: dx[j] = y[j] · (dy[j] − Σ_k dy[k]·y[k])   (masked entries have y = 0 → dx = 0)

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function softmax(be: CpuBackend, x: Tensor, causalOffset: number | null): Tensor {
  const [R, Tq, Tk] = x.shape;
  const xs = be.data(x);
  const y = new Float64Array(x.size);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < Tq; i++) {
      const base = (r * Tq + i) * Tk;
      const lim = causalOffset === null ? Tk : Math.min(Tk, Math.max(0, i + causalOffset + 1));
      let m = -Infinity;
      for (let j = 0; j < lim; j++) m = Math.max(m, xs[base + j]);
      let s = 0;
      for (let j = 0; j < lim; j++) s += Math.exp(xs[base + j] - m);
      for (let j = 0; j < lim; j++) y[base + j] = Math.exp(xs[base + j] - m) / s;
    }
  }
  return be.make(x.shape, y);
}

export function softmaxBackward(be: CpuBackend, y: Tensor, dy: Tensor): Tensor {
  const Tk = y.shape[y.shape.length - 1];
  const N = Tk === 0 ? 0 : y.size / Tk;
  const ys = be.data(y);
  const ds = be.data(dy);
  const dx = new Float64Array(y.size);
  for (let n = 0; n < N; n++) {
    const base = n * Tk;
    let dot = 0;
    for (let j = 0; j < Tk; j++) dot += ds[base + j] * ys[base + j];
    for (let j = 0; j < Tk; j++) dx[base + j] = ys[base + j] * (ds[base + j] - dot);
  }
  return be.make(y.shape, dx);
}

export const ops = { softmax, softmaxBackward } satisfies CpuFamily;
