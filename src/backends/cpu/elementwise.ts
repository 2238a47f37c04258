// Elementwise ops, float64 reference: add, mul, scale, addInPlace, broadcastScalar.

import { sizeOf, type Shape, type Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function add(be: CpuBackend, a: Tensor, b: Tensor): Tensor {
  const x = be.data(a);
  const y = be.data(b);
  const out = new Float64Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i];
  return be.make(a.shape, out);
}

export function mul(be: CpuBackend, a: Tensor, b: Tensor): Tensor {
  const x = be.data(a);
  const y = be.data(b);
  const out = new Float64Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = x[i] * y[i];
  return be.make(a.shape, out);
}

export function scale(be: CpuBackend, a: Tensor, s: number): Tensor {
  const x = be.data(a);
  const out = new Float64Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = x[i] * s;
  return be.make(a.shape, out);
}

/** dst += src, in place. */
export function addInPlace(be: CpuBackend, dst: Tensor, src: Tensor): void {
  const d = be.data(dst);
  const s = be.data(src);
  for (let i = 0; i < d.length; i++) d[i] += s[i];
}

/** Every element = s[0] · factor. */
export function broadcastScalar(be: CpuBackend, s: Tensor, shape: Shape, factor: number): Tensor {
  const out = new Float64Array(sizeOf(shape));
  out.fill(be.data(s)[0] * factor);
  return be.make(shape, out);
}

export const ops = { add, mul, scale, addInPlace, broadcastScalar } satisfies CpuFamily;
