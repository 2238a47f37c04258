// Reductions, float64 reference: plain sequential sums (the GPU sums in a fixed-order tree;
// the two agree to f32 rounding).

import type { Segment } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

/** Σ of all elements → [1]. */
export function sum(be: CpuBackend, a: Tensor): Tensor {
  const x = be.data(a);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return be.make([1], Float64Array.of(s));
}

/** Σ of all elements times factor → [1] (a mean: factor = 1/count). */
export function sumScaled(be: CpuBackend, a: Tensor, factor: number): Tensor {
  const x = be.data(a);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return be.make([1], Float64Array.of(s * factor));
}

/** Σ over tensors of Σ x² → [1]. */
export function sumSquares(be: CpuBackend, ts: Tensor[]): Tensor {
  let s = 0;
  for (const t of ts) {
    const x = be.data(t);
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  }
  return be.make([1], Float64Array.of(s));
}

/** Σ over segments of Σ x² over flat[offset, offset + size) → [1]. */
export function sumSquaresSegments(be: CpuBackend, flat: Tensor, segments: readonly Segment[]): Tensor {
  const x = be.data(flat);
  let s = 0;
  for (const seg of segments) {
    if (seg.offset < 0 || seg.offset + seg.size > x.length)
      throw new Error(`sumSquaresSegments: segment [${seg.offset}, +${seg.size}) outside ${flat}`);
    for (let i = seg.offset; i < seg.offset + seg.size; i++) s += x[i] * x[i];
  }
  return be.make([1], Float64Array.of(s));
}

export const ops = { sum, sumScaled, sumSquares, sumSquaresSegments } satisfies CpuFamily;
