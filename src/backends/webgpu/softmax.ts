// Row softmax with an optional causal mask on the GPU (shaders/softmax.wgsl): forward and
// backward each run one workgroup per row with a fixed-order tree reduction in workgroup
// memory: an online max/sum-exp forward, and a backward whose row sum is taken relative to dy
// at the row's largest probability, so nearly one-hot rows keep full f32 accuracy. See the shader.

import src from '../../../shaders/softmax.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const FWD: Kernel = { name: 'softmax', code: src, entry: 'softmax_fwd' };
const BWD: Kernel = { name: 'softmax', code: src, entry: 'softmax_bwd' };

/**
 * Threads per row: enough to give short rows one element per thread, 256 for long ones (each
 * thread then strides over Tk/256 elements; Tk = 4096 → 16). A function of Tk only, so the
 * reduction tree, and so the result, is fixed per shape.
 */
function rowThreads(Tk: number): number {
  if (Tk <= 32) return 32;
  if (Tk <= 64) return 64;
  if (Tk <= 128) return 128;
  return 256;
}

/** Uniform block: rows, tq, tk, causal, offset (see Params in the shader). */
function params(x: Tensor, causalOffset: number | null): ArrayBuffer {
  const [R, Tq, Tk] = x.shape;
  return packUniforms('uuuui', [R * Tq, Tq, Tk, causalOffset === null ? 0 : 1, causalOffset ?? 0]);
}

export function softmax(be: WebGPUBackend, x: Tensor, causalOffset: number | null): Tensor {
  const [R, Tq, Tk] = x.shape;
  const y = be.empty(x.shape);
  if (x.size === 0) return y;
  be.rt.record({
    kernel: FWD,
    overrides: { WG: rowThreads(Tk) },
    buffers: [be.buf(x), be.buf(y)],
    uniform: params(x, causalOffset),
    workgroups: grid1d(R * Tq, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return y;
}

export function softmaxBackward(be: WebGPUBackend, y: Tensor, dy: Tensor): Tensor {
  const [R, Tq, Tk] = y.shape;
  const dx = be.empty(y.shape);
  if (y.size === 0) return dx;
  be.rt.record({
    kernel: BWD,
    overrides: { WG: rowThreads(Tk) },
    buffers: [be.buf(y), be.buf(dy), be.buf(dx)],
    uniform: params(y, null),
    workgroups: grid1d(R * Tq, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return dx;
}
