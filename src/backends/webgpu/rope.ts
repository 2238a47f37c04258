// RoPE on the GPU (shaders/rope.wgsl): one invocation per (x[2i], x[2i+1]) pair, angles computed
// in f32 in the kernel; ropePair rotates two tensors (q and k) in one dispatch. See the shader for the expected angle error.

import type { Tensor } from '../../engine/tensor';
import ropeMath from '../../../shaders/rope_math.wgsl?raw';
import ropeSrc from '../../../shaders/rope.wgsl?raw';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

/** rope.wgsl with the shared rotation (rope_math.wgsl) prepended. */
const src = `${ropeMath}\n${ropeSrc}`;
const ROPE: Kernel = { name: 'rope', code: src, entry: 'main' };
const PAIR: Kernel = { name: 'rope', code: src, entry: 'pair' };
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

/** rope of a and of b (same B, T and D; head counts may differ) in one dispatch: the same bits as two. */
export function ropePair(
  be: WebGPUBackend,
  a: Tensor,
  b: Tensor,
  theta: number,
  posOffset: number,
  inverse: boolean,
): [Tensor, Tensor] {
  const [, T, Ha, D] = a.shape;
  const Hb = b.shape[2];
  const [pa, pb] = [a.size / 2, b.size / 2];
  if (pa === 0 || pb === 0) return [rope(be, a, theta, posOffset, inverse), rope(be, b, theta, posOffset, inverse)];
  const ya = be.empty(a.shape);
  const yb = be.empty(b.shape);
  be.rt.record({
    kernel: PAIR,
    overrides: { WG },
    buffers: [be.buf(a), be.buf(ya), be.buf(b), be.buf(yb)],
    uniform: packUniforms('uuuuuuuff', [pa, pb, D / 2, Ha, Hb, T, posOffset, inverse ? -1 : 1, Math.log2(theta)]),
    workgroups: grid1d(pa + pb, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return [ya, yb];
}

export const ops = { rope, ropePair } satisfies WebGPUFamily;
