// SiLU and SwiGLU, float64 reference.
//   silu(x)  = x·σ(x);            silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
//   swiglu(g, u) = silu(g)·u;     dg = dy·u·silu'(g),  du = dy·silu(g)
// σ is evaluated from e = exp(−|x|) ∈ (0, 1], so nothing overflows for large |x|, and 1 − σ(x)
// is formed directly (as σ(−x)) instead of by cancellation.

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

/** [σ(x), 1 − σ(x)], both without overflow or cancellation. */
function sigmoidPair(x: number): [number, number] {
  const e = Math.exp(-Math.abs(x));
  const big = 1 / (1 + e); // σ(|x|)
  const small = e / (1 + e); // σ(−|x|)
  return x >= 0 ? [big, small] : [small, big];
}

function siluGrad(x: number): number {
  const [s, sc] = sigmoidPair(x);
  return s * (1 + x * sc);
}

export function silu(be: CpuBackend, x: Tensor): Tensor {
  const xs = be.data(x);
  const out = new Float64Array(x.size);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i] * sigmoidPair(xs[i])[0];
  return be.make(x.shape, out);
}

export function siluBackward(be: CpuBackend, x: Tensor, dy: Tensor): Tensor {
  const xs = be.data(x);
  const g = be.data(dy);
  const dx = new Float64Array(x.size);
  for (let i = 0; i < xs.length; i++) dx[i] = g[i] * siluGrad(xs[i]);
  return be.make(x.shape, dx);
}

export function swiglu(be: CpuBackend, g: Tensor, u: Tensor): Tensor {
  const gs = be.data(g);
  const us = be.data(u);
  const out = new Float64Array(g.size);
  for (let i = 0; i < gs.length; i++) out[i] = gs[i] * sigmoidPair(gs[i])[0] * us[i];
  return be.make(g.shape, out);
}

export function swigluBackward(be: CpuBackend, g: Tensor, u: Tensor, dy: Tensor): { dg: Tensor; du: Tensor } {
  const gs = be.data(g);
  const us = be.data(u);
  const d = be.data(dy);
  const dg = new Float64Array(g.size);
  const du = new Float64Array(g.size);
  for (let i = 0; i < gs.length; i++) {
    dg[i] = d[i] * us[i] * siluGrad(gs[i]);
    du[i] = d[i] * gs[i] * sigmoidPair(gs[i])[0];
  }
  return { dg: be.make(g.shape, dg), du: be.make(g.shape, du) };
}

export const ops = { silu, siluBackward, swiglu, swigluBackward } satisfies CpuFamily;
