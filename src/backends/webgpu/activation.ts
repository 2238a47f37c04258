// SiLU / SwiGLU on the GPU (shaders/activation.wgsl). Elementwise; the vec4 entry points are
// used when the element count is a multiple of 4, the scalar ones otherwise.

import type { Tensor } from '../../engine/tensor';
import activationSrc from '../../../shaders/activation.wgsl?raw';
import swigluMath from '../../../shaders/swiglu_math.wgsl?raw';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const WG = 256;
const src = `${swigluMath}\n${activationSrc}`;

function kernels(op: string): { v4: Kernel; s: Kernel } {
  return {
    v4: { name: 'activation', code: src, entry: `${op}_v4` },
    s: { name: 'activation', code: src, entry: `${op}_s` },
  };
}

const SILU = kernels('silu');
const SILU_BWD = kernels('silu_bwd');
const SWIGLU = kernels('swiglu');
const SWIGLU_BWD = kernels('swiglu_bwd');

/** Record one elementwise dispatch over n elements, vec4-wide when n allows. */
function launch(be: WebGPUBackend, k: { v4: Kernel; s: Kernel }, n: number, tensors: Tensor[]): void {
  if (n === 0) return;
  const vec = n % 4 === 0;
  const items = vec ? n / 4 : n;
  be.rt.record({
    kernel: vec ? k.v4 : k.s,
    overrides: { WG },
    buffers: tensors.map((t) => be.buf(t)),
    uniform: packUniforms('u', [items]),
    workgroups: grid1d(items, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function silu(be: WebGPUBackend, x: Tensor): Tensor {
  const y = be.empty(x.shape);
  launch(be, SILU, x.size, [x, y]);
  return y;
}

export function siluBackward(be: WebGPUBackend, x: Tensor, dy: Tensor): Tensor {
  const dx = be.empty(x.shape);
  launch(be, SILU_BWD, x.size, [x, dy, dx]);
  return dx;
}

export function swiglu(be: WebGPUBackend, g: Tensor, u: Tensor): Tensor {
  const y = be.empty(g.shape);
  launch(be, SWIGLU, g.size, [g, u, y]);
  return y;
}

export function swigluBackward(be: WebGPUBackend, g: Tensor, u: Tensor, dy: Tensor): { dg: Tensor; du: Tensor } {
  const dg = be.empty(g.shape);
  const du = be.empty(g.shape);
  launch(be, SWIGLU_BWD, g.size, [g, u, dy, dg, du]);
  return { dg, du };
}

export const ops = { silu, siluBackward, swiglu, swigluBackward } satisfies WebGPUFamily;
