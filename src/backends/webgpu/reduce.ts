// Deterministic reductions on the GPU (shaders/reduce.wgsl): sum, sumScaled and sumSquares, result [1].
// Each pass cuts its input into fixed slices of WG·ITEMS elements and writes one partial per
// slice; passes repeat over the partials until one value is left. The slicing depends only on
// the element counts, so the same inputs give bit-identical results. No atomics.
// Where the device has `subgroups` (and the backend's paths allow it, device.ts KernelPaths) the
// pass finishes its tree with subgroup shuffles: the same additions in the same order, the same
// bits (shaders/lanes_subgroup.wgsl).
// sumScaled (a mean: Σ x · factor) is sum with the factor applied by its last pass as it writes
// the total: the f32 product scale() computes, one dispatch fewer.

import lanesSubgroup from '../../../shaders/lanes_subgroup.wgsl?raw';
import lanesTree from '../../../shaders/lanes_tree.wgsl?raw';
import src from '../../../shaders/reduce.wgsl?raw';
import subgroupEntry from '../../../shaders/reduce_subgroup.wgsl?raw';
import segSrc from '../../../shaders/reduce_segments.wgsl?raw';
import type { Segment } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { subgroupLanes } from './device';
import type { Kernel, Overrides } from './pipelines';
import { type Bindable, grid1d, packUniforms } from './runtime';
import { section } from './template';

const REDUCE: Kernel = { name: 'reduce', code: `${src}\n${lanesTree}`, entry: 'main' };
const REDUCE_SUBGROUP: Kernel = {
  name: 'reduce_subgroup',
  code: `${lanesSubgroup}\n${src}\n${subgroupEntry}`,
  entry: 'main_subgroup',
};
const REDUCE_SEGMENTS: Kernel = {
  name: 'reduce_segments',
  code: `${section(segSrc, 'kernel')}\n${section(segSrc, 'tree entry')}\n${lanesTree}`,
  entry: 'main',
};
const REDUCE_SEGMENTS_SUBGROUP: Kernel = {
  name: 'reduce_segments_subgroup',
  code: `${lanesSubgroup}\n${section(segSrc, 'kernel')}\n${section(segSrc, 'subgroup entry')}`,
  entry: 'main_subgroup',
};
/** Threads running each reduce_segments workgroup's WG-lane tree (see the shader). */
const SEGMENT_THREADS = 32;
const WG = 256;
const ITEMS = 8;
/** Elements one workgroup reduces to one partial. */
const SLICE = WG * ITEMS;

function slices(n: number): number {
  return Math.ceil(n / SLICE);
}

/** The reduce pass this backend takes: the subgroup finish where the device has it and the paths allow. */
export function reduceKernel(be: WebGPUBackend): { kernel: Kernel; overrides: Overrides } {
  const lanes = subgroupLanes(be);
  if (lanes !== null) return { kernel: REDUCE_SUBGROUP, overrides: { WG, ITEMS, SG_CAP: lanes } };
  return { kernel: REDUCE, overrides: { WG, ITEMS } };
}

/**
 * One pass: partials of x[0..n) (or of x²) into out[offset .. offset + slices(n)), each times
 * `factor` (an f32 product) when one is given.
 */
function pass(
  be: WebGPUBackend,
  x: Bindable,
  n: number,
  out: Bindable,
  offset: number,
  square: boolean,
  factor: number | null = null,
): void {
  const groups = slices(n);
  be.rt.record({
    ...reduceKernel(be),
    buffers: [x, out],
    uniform: packUniforms('uuuuuf', [n, offset, square ? 1 : 0, groups, factor === null ? 0 : 1, factor ?? 1]),
    workgroups: grid1d(groups, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** Reduce the n partials in `parts` (plain sum) down to the single value out[0] (times factor, if given). */
function finish(be: WebGPUBackend, parts: Tensor, n: number, out: Tensor, factor: number | null = null): void {
  let cur = parts;
  let len = n;
  while (len > SLICE) {
    const next = be.empty([slices(len)]);
    pass(be, be.buf(cur), len, be.buf(next), 0, false);
    // Released now, reusable only after this work is submitted (see BufferPool).
    if (cur !== parts) cur.dispose();
    cur = next;
    len = slices(len);
  }
  pass(be, be.buf(cur), len, be.buf(out), 0, false, factor);
  if (cur !== parts) cur.dispose();
}

/** Σ a, times factor in the last pass when one is given. */
function total(be: WebGPUBackend, a: Tensor, factor: number | null): Tensor {
  const n = a.size;
  const out = be.empty([1]);
  if (n <= SLICE) {
    pass(be, be.buf(a), n, be.buf(out), 0, false, factor);
    return out;
  }
  const parts = be.empty([slices(n)]);
  pass(be, be.buf(a), n, be.buf(parts), 0, false);
  finish(be, parts, slices(n), out, factor);
  parts.dispose();
  return out;
}

export function sum(be: WebGPUBackend, a: Tensor): Tensor {
  if (a.size === 0) return be.zeros([1]);
  return total(be, a, null);
}

export function sumScaled(be: WebGPUBackend, a: Tensor, factor: number): Tensor {
  // Empty: the product scale() would give, 0 · f32(factor) (NaN for a non-finite factor).
  if (a.size === 0) return be.fromArray([0 * Math.fround(factor)], [1]);
  return total(be, a, factor);
}

export function sumSquares(be: WebGPUBackend, ts: Tensor[]): Tensor {
  const xs = ts.filter((t) => t.size > 0);
  if (xs.length === 0) return be.zeros([1]);
  const out = be.empty([1]);
  if (xs.length === 1 && xs[0].size <= SLICE) {
    pass(be, be.buf(xs[0]), xs[0].size, be.buf(out), 0, true);
    return out;
  }
  // One pass per tensor, each into its own segment of one partials buffer (in list order),
  // then the whole buffer reduced as one array.
  const total = xs.reduce((acc, t) => acc + slices(t.size), 0);
  const parts = be.empty([total]);
  let offset = 0;
  for (const t of xs) {
    pass(be, be.buf(t), t.size, be.buf(parts), offset, true);
    offset += slices(t.size);
  }
  finish(be, parts, total, out);
  parts.dispose();
  return out;
}

/**
 * sumSquares over segments of one flat tensor in one partial pass (shaders/reduce_segments.wgsl):
 * the same slices, trees and partials layout as sumSquares over the segments as tensors, so the
 * same finish passes give the same bits.
 */
export function sumSquaresSegments(be: WebGPUBackend, flat: Tensor, segments: readonly Segment[]): Tensor {
  const segs = segments.filter((s) => s.size > 0);
  for (const s of segs)
    if (s.offset < 0 || s.offset + s.size > flat.size)
      throw new Error(`sumSquaresSegments: segment [${s.offset}, +${s.size}) outside ${flat}`);
  if (segs.length === 0) return be.zeros([1]);
  const table = new Uint32Array(4 * segs.length);
  let groups = 0;
  segs.forEach((s, i) => {
    table.set([s.offset, s.size, groups, 0], 4 * i);
    groups += slices(s.size);
  });
  const rows = be.fromArray(Int32Array.from(table), [segs.length, 4], 'i32');
  const out = be.empty([1]);
  // One small segment: its single partial is the result (as sumSquares writes it straight to out).
  const parts = groups === 1 ? out : be.empty([groups]);
  const lanes = subgroupLanes(be);
  be.rt.record({
    kernel: lanes !== null ? REDUCE_SEGMENTS_SUBGROUP : REDUCE_SEGMENTS,
    overrides: lanes !== null ? { WG, ITEMS, R: SEGMENT_THREADS, SG_CAP: lanes } : { WG, ITEMS, R: SEGMENT_THREADS },
    buffers: [be.buf(flat), be.buf(parts), be.buf(rows)],
    uniform: packUniforms('uuuu', [segs.length, groups, 1, 0]),
    workgroups: grid1d(groups, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  rows.dispose();
  if (parts !== out) {
    finish(be, parts, groups, out);
    parts.dispose();
  }
  return out;
}

export const ops = { sum, sumScaled, sumSquares, sumSquaresSegments } satisfies WebGPUFamily;
