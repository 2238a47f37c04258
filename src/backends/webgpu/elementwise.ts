// Elementwise ops on the GPU (shaders/elementwise.wgsl): add, mul, scale, addInPlace,
// broadcastScalar. One dispatch each, 1-D over the elements, 4 floats per invocation (vec4)
// whenever the buffers allow it. See the shader for the layout.

import src from '../../../shaders/elementwise.wgsl?raw';
import type { Shape, Tensor } from '../../engine/tensor';
import { sizeOf } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { type Bindable, grid1d, packUniforms } from './runtime';

/** Invocations per workgroup for the 1-D elementwise launches. */
const WG = 256;

const VEC4_ALIAS = 'alias V = vec4<f32>;';

/**
 * The same shader text with `alias V = vec4<f32>;` turned into `alias V = f32;`: the per-float
 * build of a vec4 kernel, for buffers whose byte size is not a multiple of 16.
 */
export function scalarVariant(code: string): string {
  if (!code.includes(VEC4_ALIAS)) throw new Error(`scalarVariant: shader has no '${VEC4_ALIAS}' line`);
  return code.replace(VEC4_ALIAS, 'alias V = f32;');
}

/**
 * Whether every buffer can be bound as array<vec4<f32>> covering ceil(n/4) vec4s. Pooled
 * buffers are power-of-two buckets ≥ 256 bytes, so this fails only for the exact-size buffers
 * the pool hands out near the binding-size limit.
 */
export function vec4Ok(bufs: Bindable[]): boolean {
  return bufs.every((b) => b.size % 16 === 0);
}

const SRC1 = scalarVariant(src);
function kernels(entry: string): { v4: Kernel; v1: Kernel } {
  return {
    v4: { name: 'elementwise', code: src, entry },
    v1: { name: 'elementwise_f32', code: SRC1, entry },
  };
}
const ADD = kernels('add');
const MUL = kernels('mul');
const SCALE = kernels('scale');
const ADD_INPLACE = kernels('add_inplace');
const BROADCAST = kernels('broadcast');

/**
 * Record one elementwise dispatch over n floats. `vecBufs` are the buffers accessed as
 * array<V> (they decide vec4 vs scalar); `buffers` are all bindings in order.
 */
function launch(
  be: WebGPUBackend,
  k: { v4: Kernel; v1: Kernel },
  n: number,
  buffers: Bindable[],
  vecBufs: Bindable[],
  s = 0,
): void {
  if (n === 0) return;
  const v4 = vec4Ok(vecBufs);
  const count = v4 ? Math.ceil(n / 4) : n;
  be.rt.record({
    kernel: v4 ? k.v4 : k.v1,
    overrides: { WG },
    buffers,
    uniform: packUniforms('uf', [count, s]),
    workgroups: grid1d(count, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function add(be: WebGPUBackend, a: Tensor, b: Tensor): Tensor {
  const out = be.empty(a.shape);
  const bufs = [be.buf(a), be.buf(b), be.buf(out)];
  launch(be, ADD, a.size, bufs, bufs);
  return out;
}

export function mul(be: WebGPUBackend, a: Tensor, b: Tensor): Tensor {
  const out = be.empty(a.shape);
  const bufs = [be.buf(a), be.buf(b), be.buf(out)];
  launch(be, MUL, a.size, bufs, bufs);
  return out;
}

export function scale(be: WebGPUBackend, a: Tensor, s: number): Tensor {
  const out = be.empty(a.shape);
  const bufs = [be.buf(a), be.buf(out)];
  launch(be, SCALE, a.size, bufs, bufs, s);
  return out;
}

export function addInPlace(be: WebGPUBackend, dst: Tensor, src: Tensor): void {
  if (be.buf(dst) === be.buf(src)) {
    // dst += dst: one buffer cannot be bound writable and readable in one dispatch.
    const copy = scale(be, src, 1);
    addInPlace(be, dst, copy);
    copy.dispose();
    return;
  }
  const bufs = [be.buf(dst), be.buf(src)];
  launch(be, ADD_INPLACE, dst.size, bufs, bufs);
}

export function broadcastScalar(be: WebGPUBackend, s: Tensor, shape: Shape, factor: number): Tensor {
  const out = be.empty(shape);
  launch(be, BROADCAST, sizeOf(shape), [be.buf(s), be.buf(out)], [be.buf(out)], factor);
  return out;
}

export const ops = { add, mul, scale, addInPlace, broadcastScalar } satisfies WebGPUFamily;
