// Row softmax with an optional causal mask on the GPU (shaders/softmax.wgsl): forward and
// backward each run one workgroup per row with a fixed-order tree reduction in workgroup
// memory: an online max/sum-exp forward, and a backward whose row sum is taken relative to dy
// at the row's largest probability, so nearly one-hot rows keep full f32 accuracy. See the shader.
// Where the device has `subgroups` (and the backend's paths allow it, device.ts KernelPaths) the
// trees finish with subgroup shuffles: the same merges in the same order, the same bits
// (shaders/lanes_subgroup.wgsl).

import lanesSubgroup from '../../../shaders/lanes_subgroup.wgsl?raw';
import lanesTree from '../../../shaders/lanes_tree.wgsl?raw';
import src from '../../../shaders/softmax.wgsl?raw';
import subgroupEntries from '../../../shaders/softmax_subgroup.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { subgroupLanes } from './device';
import type { Kernel, Overrides } from './pipelines';
import { grid1d, packUniforms, rowThreads } from './runtime';

const TREE_CODE = `${src}\n${lanesTree}`;
const SUBGROUP_CODE = `${lanesSubgroup}\n${src}\n${subgroupEntries}`;
const FWD: Kernel = { name: 'softmax', code: TREE_CODE, entry: 'softmax_fwd' };
const BWD: Kernel = { name: 'softmax', code: TREE_CODE, entry: 'softmax_bwd' };
const FWD_SUBGROUP: Kernel = { name: 'softmax_subgroup', code: SUBGROUP_CODE, entry: 'softmax_fwd_subgroup' };
const BWD_SUBGROUP: Kernel = { name: 'softmax_subgroup', code: SUBGROUP_CODE, entry: 'softmax_bwd_subgroup' };

/** The forward or backward kernel this backend takes for rows of Tk: the subgroup finish where it can. */
function kernelFor(be: WebGPUBackend, fwd: boolean, Tk: number): { kernel: Kernel; overrides: Overrides } {
  const lanes = subgroupLanes(be);
  const WG = rowThreads(Tk);
  if (lanes !== null) return { kernel: fwd ? FWD_SUBGROUP : BWD_SUBGROUP, overrides: { WG, SG_CAP: lanes } };
  return { kernel: fwd ? FWD : BWD, overrides: { WG } };
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
    ...kernelFor(be, true, Tk),
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
    ...kernelFor(be, false, Tk),
    buffers: [be.buf(y), be.buf(dy), be.buf(dx)],
    uniform: params(y, null),
    workgroups: grid1d(R * Tq, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return dx;
}

export const ops = { softmax, softmaxBackward } satisfies WebGPUFamily;
