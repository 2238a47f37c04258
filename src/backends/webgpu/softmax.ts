// Row softmax with an optional causal mask on the GPU (shaders/softmax.wgsl): forward and
// backward each run one workgroup per row with a fixed-order tree reduction in workgroup
// memory: an online max/sum-exp forward, and a backward whose row sum is taken relative to dy
// at the row's largest probability, so nearly one-hot rows keep full f32 accuracy. See the shader.

import src from '../../../shaders/softmax.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms, rowThreads } from './runtime';

const FWD: Kernel = { name: 'softmax', code: src, entry: 'softmax_fwd' };
const BWD: Kernel = { name: 'softmax', code: src, entry: 'softmax_bwd' };

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

export const ops = { softmax, softmaxBackward } satisfies WebGPUFamily;
