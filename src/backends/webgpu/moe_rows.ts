// MoE row kernels on the GPU: the gathers and the combine of shaders/moe_dispatch.wgsl (slots of
// a dispatch plan to and from token rows), forward and backward. Semantics: engine/backend.ts
// (MoePlan, moeGather / moeCombine and their backwards); the float64 reference is
// backends/cpu/moe_dispatch.ts. The grouped expert GEMMs are in moe_dispatch.ts.

import src from '../../../shaders/moe_dispatch.wgsl?raw';
import type { MoePlan } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend } from './backend';
import { vec4Ok } from './elementwise';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const VEC4_LINES = 'alias V = vec4<f32>;\nfn hsum(v: V) -> f32 { return v.x + v.y + v.z + v.w; }';
const SCALAR_LINES = 'alias V = f32;\nfn hsum(v: V) -> f32 { return v; }';
if (!src.includes(VEC4_LINES)) throw new Error('moe_dispatch.wgsl: the vec4 alias lines are missing');
const SRC1 = src.replace(VEC4_LINES, SCALAR_LINES);

function rowKernels(entry: string): { v4: Kernel; v1: Kernel } {
  return { v4: { name: 'moe_dispatch', code: src, entry }, v1: { name: 'moe_dispatch_f32', code: SRC1, entry } };
}
const GATHER = rowKernels('gather');
const GATHER_BWD = rowKernels('gather_backward');
const GATHER_BWD_ACC = rowKernels('gather_backward_acc');
const COMBINE = rowKernels('combine');
const COMBINE_BWD = rowKernels('combine_bwd');

/** Invocations per workgroup of the flat row kernels; threads per workgroup of combine_bwd. */
const WG = 256;
const DWG = 64;
/** combine_bwd: threads per dot product (DWG / this many dots per workgroup). */
const COMBINE_DOT_THREADS = 8;

export const last = (t: Tensor) => t.shape[t.shape.length - 1];

/**
 * vec4 views of the MoE kernels' rows: every row width in `widths` a multiple of 4 and every f32
 * buffer a whole number of vec4s (else scalar views). The row kernels here and the grouped GEMMs
 * (moe_dispatch.ts) both ask this.
 */
export function vec4Rows(be: WebGPUBackend, widths: number[], f32s: Tensor[]): boolean {
  return widths.every((w) => w % 4 === 0) && vec4Ok(f32s.map((t) => be.buf(t)));
}

/** Record one flat row kernel over `count(dv)` V-elements of its [rows, d] output. */
function recordRows(
  be: WebGPUBackend,
  k: { v4: Kernel; v1: Kernel },
  d: number,
  f32s: Tensor[],
  buffers: Tensor[],
  count: (dv: number) => number,
  K: number,
): void {
  const v4 = vec4Rows(be, [d], f32s);
  const dv = v4 ? d / 4 : d;
  const n = count(dv);
  be.rt.record({
    kernel: v4 ? k.v4 : k.v1,
    overrides: { WG },
    buffers: buffers.map((t) => be.buf(t)),
    uniform: packUniforms('uuu', [n, dv, K]),
    workgroups: grid1d(n, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function moeGather(be: WebGPUBackend, x: Tensor, plan: MoePlan, K: number): Tensor {
  const d = last(x);
  const M = plan.slotAssign.size;
  const out = be.empty([M, d]);
  if (M === 0 || d === 0) return out;
  recordRows(be, GATHER, d, [x, out], [x, plan.slotAssign, out], (dv) => M * dv, K);
  return out;
}

export function moeGatherBackward(
  be: WebGPUBackend,
  dy: Tensor,
  plan: MoePlan,
  K: number,
  acc: Tensor | null = null,
): Tensor {
  const d = last(dy);
  const N = plan.assignSlot.size / K;
  const dx = be.empty([N, d]);
  if (N === 0 || d === 0) return dx;
  if (acc) {
    const f32s = [dy, dx, acc];
    recordRows(be, GATHER_BWD_ACC, d, f32s, [dy, plan.assignSlot, dx, acc], (dv) => N * dv, K);
  } else {
    recordRows(be, GATHER_BWD, d, [dy, dx], [dy, plan.assignSlot, dx], (dv) => N * dv, K);
  }
  return dx;
}

export function moeCombine(be: WebGPUBackend, y: Tensor, weight: Tensor, plan: MoePlan): Tensor {
  const d = last(y);
  const [N, K] = weight.shape;
  if (K === 0) return be.zeros([N, d]);
  const out = be.empty([N, d]);
  if (N === 0 || d === 0) return out;
  recordRows(be, COMBINE, d, [y, out], [y, weight, plan.assignSlot, out], (dv) => N * dv, K);
  return out;
}

export function moeCombineBackward(
  be: WebGPUBackend,
  y: Tensor,
  weight: Tensor,
  plan: MoePlan,
  dOut: Tensor,
): { dy: Tensor; dWeight: Tensor } {
  const d = last(y);
  const [N, K] = weight.shape;
  const M = N * K;
  const dy = be.empty([M, d]);
  if (M === 0) return { dy, dWeight: be.empty([N, K]) };
  if (d === 0) return { dy, dWeight: be.zeros([N, K]) };
  const dWeight = be.empty([N, K]);
  // One dispatch of DWG-thread workgroups: M dot products dWeight[a] (DWG / RD per workgroup,
  // RD threads each, a fixed-order tree of DWG lanes), then ceil(M·dv / DWG) workgroups writing
  // dy[m] = weight[a] · dOut[a / K].
  const v4 = vec4Rows(be, [d], [dOut, y, dy]);
  const dv = v4 ? d / 4 : d;
  const dyGroups = Math.ceil((M * dv) / DWG);
  be.rt.record({
    kernel: v4 ? COMBINE_BWD.v4 : COMBINE_BWD.v1,
    overrides: { DWG, RD: COMBINE_DOT_THREADS },
    buffers: [dOut, y, weight, plan.slotAssign, plan.assignSlot, dy, dWeight].map((t) => be.buf(t)),
    uniform: packUniforms('uuuu', [M, M * dv, dv, K]),
    workgroups: grid1d(
      Math.ceil(M / (DWG / COMBINE_DOT_THREADS)) + dyGroups,
      1,
      be.rt.limits.maxComputeWorkgroupsPerDimension,
    ),
  });
  return { dy, dWeight };
}
