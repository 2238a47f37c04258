// Layout ops on the GPU (shaders/layout.wgsl): sliceLast, padLast, concatLast, splitLast, swap01.
// Pure copies: one dispatch each, one invocation per output element (a gather), moving a vec4
// per invocation whenever every column count and offset along the last dim is a multiple of 4,
// one float otherwise. See the shader for the index maps.

import src from '../../../shaders/layout.wgsl?raw';
import type { Shape, Tensor } from '../../engine/tensor';
import { sizeOf } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { scalarVariant, vec4Ok } from './elementwise';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

/** Invocations per workgroup. */
const WG = 256;

const SRC1 = scalarVariant(src);
function kernels(entry: string): { v4: Kernel; v1: Kernel } {
  return {
    v4: { name: 'layout', code: src, entry },
    v1: { name: 'layout_f32', code: SRC1, entry },
  };
}
const SLICE = kernels('slice_last');
const PAD = kernels('pad_last');
const CONCAT = kernels('concat_last');
const SWAP01 = kernels('swap01');
const SPLIT = kernels('split_last');

function lastDim(t: Tensor): number {
  return t.shape[t.shape.length - 1];
}

function withLast(shape: Shape, last: number): Shape {
  return [...shape.slice(0, -1), last];
}

/**
 * Record one layout dispatch. `cols` are all column counts and offsets in floats; when they
 * (and the buffers) allow it the vec4 kernel runs and they are passed in vec4 units.
 * `params` = [p0, p1, p2] of the shader's Params, in floats.
 */
function launch(
  be: WebGPUBackend,
  k: { v4: Kernel; v1: Kernel },
  out: Tensor,
  inputs: Tensor[],
  params: [number, number, number],
  cols: number[],
): void {
  const n = out.size;
  if (n === 0) return;
  const buffers = [...inputs.map((t) => be.buf(t)), be.buf(out)];
  const v4 = cols.every((c) => c % 4 === 0) && vec4Ok(buffers);
  const w = v4 ? 4 : 1;
  const count = n / w;
  be.rt.record({
    kernel: v4 ? k.v4 : k.v1,
    overrides: { WG },
    buffers,
    uniform: packUniforms('uuuu', [count, params[0] / w, params[1] / w, params[2] / w]),
    workgroups: grid1d(count, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function sliceLast(be: WebGPUBackend, x: Tensor, start: number, len: number): Tensor {
  const D = lastDim(x);
  const out = be.empty(withLast(x.shape, len));
  launch(be, SLICE, out, [x], [D, len, start], [D, len, start]);
  return out;
}

export function padLast(be: WebGPUBackend, x: Tensor, start: number, total: number): Tensor {
  const L = lastDim(x);
  const out = be.empty(withLast(x.shape, total));
  launch(be, PAD, out, [x], [L, total, start], [L, total, start]);
  return out;
}

export function concatLast(be: WebGPUBackend, a: Tensor, b: Tensor): Tensor {
  const Da = lastDim(a);
  const Db = lastDim(b);
  const out = be.empty(withLast(a.shape, Da + Db));
  launch(be, CONCAT, out, [a, b], [Da, Db, 0], [Da, Db]);
  return out;
}

/** x [..., D] → a = x[..., :at], b = x[..., at:], in one dispatch over x. */
export function splitLast(be: WebGPUBackend, x: Tensor, at: number): { a: Tensor; b: Tensor } {
  const D = lastDim(x);
  const a = be.empty(withLast(x.shape, at));
  const b = be.empty(withLast(x.shape, D - at));
  if (x.size === 0) return { a, b };
  const buffers = [be.buf(x), be.buf(a), be.buf(b)];
  const v4 = D % 4 === 0 && at % 4 === 0 && vec4Ok(buffers);
  const w = v4 ? 4 : 1;
  be.rt.record({
    kernel: v4 ? SPLIT.v4 : SPLIT.v1,
    overrides: { WG },
    buffers,
    uniform: packUniforms('uuuu', [x.size / w, D / w, at / w, 0]),
    workgroups: grid1d(x.size / w, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return { a, b };
}

export function swap01(be: WebGPUBackend, x: Tensor): Tensor {
  const [A, B, C] = x.shape;
  const out = be.empty([B, A, C]);
  // Only C (the contiguous run) is divided by 4 in the vec4 build; A and B count rows.
  const n = sizeOf(out.shape);
  if (n === 0) return out;
  const buffers = [be.buf(x), be.buf(out)];
  const v4 = C % 4 === 0 && vec4Ok(buffers);
  const w = v4 ? 4 : 1;
  be.rt.record({
    kernel: v4 ? SWAP01.v4 : SWAP01.v1,
    overrides: { WG },
    buffers,
    uniform: packUniforms('uuuu', [n / w, A, B, C / w]),
    workgroups: grid1d(n / w, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

/** dst ← src (same size), as a buffer-to-buffer copy recorded in order with the dispatches. */
export function copyInto(be: WebGPUBackend, dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) throw new Error(`copyInto: ${src} into ${dst}`);
  be.rt.recordCopy(be.buf(src), be.buf(dst), 4 * src.size);
}

export const ops = { sliceLast, padLast, concatLast, splitLast, swap01, copyInto } satisfies WebGPUFamily;
