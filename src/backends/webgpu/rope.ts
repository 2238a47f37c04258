// RoPE on the GPU (shaders/rope.wgsl): one invocation per (x[2i], x[2i+1]) pair, angles computed
// in f32 in the kernel. See the shader for the expected angle error.

import type { Tensor } from '../../engine/tensor';
import src from '../../../shaders/rope.wgsl?raw';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const ROPE: Kernel = { name: 'rope', code: src, entry: 'main' };
const WG = 256;

export function rope(be: WebGPUBackend, x: Tensor, theta: number, posOffset: number, inverse: boolean): Tensor {
  const [, T, H, D] = x.shape;
  const y = be.empty(x.shape);
  const pairs = x.size / 2;
  if (pairs === 0) return y;
  be.rt.record({
    kernel: ROPE,
    overrides: { WG },
    buffers: [be.buf(x), be.buf(y)],
    uniform: packUniforms('uuuuuff', [pairs, D / 2, H, T, posOffset, inverse ? -1 : 1, Math.log2(theta)]),
    workgroups: grid1d(pairs, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return y;
}

export const ops = { rope } satisfies WebGPUFamily;
