// MoE dispatch / combine on the GPU: the row gathers of shaders/moe_dispatch.wgsl and the grouped
// expert GEMMs of shaders/moe_grouped_matmul.wgsl. Semantics: engine/backend.ts (MoePlan and the
// moe* methods); the float64 reference is backends/cpu/moe_dispatch.ts.
//
// Nothing here reads the plan back: every grid is sized from M, E and the matrix shapes, and the
// kernels read the expert offsets on the device (one command encoder per training step).

import src from '../../../shaders/moe_dispatch.wgsl?raw';
import gemmSrc from '../../../shaders/moe_grouped_matmul.wgsl?raw';
import splitkSrc from '../../../shaders/matmul_splitk.wgsl?raw';
import type { MoePlan } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { vec4Ok } from './elementwise';
import { chooseThreads } from './matmul';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

// ---- row kernels (gather, combine) ----

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
const COMBINE_BWD_DY = rowKernels('combine_bwd_dy');
const COMBINE_BWD_DW = rowKernels('combine_bwd_dw');

/** Invocations per workgroup of the flat row kernels; threads per dot product of combine_bwd_dw. */
const WG = 256;
const DWG = 64;

const last = (t: Tensor) => t.shape[t.shape.length - 1];

/**
 * Record one row kernel: vec4 rows when d % 4 == 0 and every f32 buffer can be viewed as vec4s,
 * else the scalar build. `rows` × d outputs (or `groups` workgroups of DWG for combine_bwd_dw).
 */
function recordRows(
  be: WebGPUBackend,
  k: { v4: Kernel; v1: Kernel },
  d: number,
  f32s: Tensor[],
  buffers: Tensor[],
  count: (dv: number) => number,
  K: number,
  perWorkgroup: boolean,
): void {
  const v4 = d % 4 === 0 && vec4Ok(f32s.map((t) => be.buf(t)));
  const dv = v4 ? d / 4 : d;
  const n = count(dv);
  const max = be.rt.limits.maxComputeWorkgroupsPerDimension;
  be.rt.record({
    kernel: v4 ? k.v4 : k.v1,
    overrides: perWorkgroup ? { DWG } : { WG },
    buffers: buffers.map((t) => be.buf(t)),
    uniform: packUniforms('uuu', [n, dv, K]),
    workgroups: perWorkgroup ? grid1d(n, 1, max) : grid1d(n, WG, max),
  });
}

export function moeGather(be: WebGPUBackend, x: Tensor, plan: MoePlan, K: number): Tensor {
  const d = last(x);
  const M = plan.slotAssign.size;
  const out = be.empty([M, d]);
  if (M === 0 || d === 0) return out;
  recordRows(be, GATHER, d, [x, out], [x, plan.slotAssign, out], (dv) => M * dv, K, false);
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
    recordRows(be, GATHER_BWD_ACC, d, f32s, [dy, plan.assignSlot, dx, acc], (dv) => N * dv, K, false);
  } else {
    recordRows(be, GATHER_BWD, d, [dy, dx], [dy, plan.assignSlot, dx], (dv) => N * dv, K, false);
  }
  return dx;
}

export function moeCombine(be: WebGPUBackend, y: Tensor, weight: Tensor, plan: MoePlan): Tensor {
  const d = last(y);
  const [N, K] = weight.shape;
  if (K === 0) return be.zeros([N, d]);
  const out = be.empty([N, d]);
  if (N === 0 || d === 0) return out;
  recordRows(be, COMBINE, d, [y, out], [y, weight, plan.assignSlot, out], (dv) => N * dv, K, false);
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
  // Each slot's row written once: dy[m] = weight[a] · dOut[a / K].
  recordRows(be, COMBINE_BWD_DY, d, [dOut, dy], [dOut, weight, plan.slotAssign, dy], (dv) => M * dv, K, false);
  // One workgroup per assignment: a dot product of length d, fixed-order tree.
  recordRows(be, COMBINE_BWD_DW, d, [dOut, y], [dOut, y, plan.assignSlot, dWeight], () => M, K, true);
  return { dy, dWeight };
}

// ---- grouped GEMMs ----

const GEMM_FWD: Kernel = { name: 'moe_grouped_matmul', code: gemmSrc, entry: 'forward' };
const GEMM_WGRAD: Kernel = { name: 'moe_grouped_matmul', code: gemmSrc, entry: 'weight_grad' };
const SPLITK_SUM: Kernel = { name: 'matmul_splitk', code: splitkSrc, entry: 'main' };

/** Workgroup memory of the GEMM kernels: As, Bs (TK rows of tile/4 + 1 vec4s each) and `seg`. */
function sharedBytes(wgX: number, wgY: number, tk: number): number {
  return tk * (2 * wgY + 1) * 16 + tk * (2 * wgX + 1) * 16 + 16;
}

/** The deepest K tile (fewer barriers) whose workgroup memory the device grants. */
function chooseTk(be: WebGPUBackend, wgX: number, wgY: number): number {
  const limit = be.rt.limits.maxComputeWorkgroupStorageSize;
  const tk = [32, 16, 8].find((t) => sharedBytes(wgX, wgY, t) <= limit);
  if (tk === undefined)
    throw new Error(
      `moe grouped matmul: tiles ${wgX}x${wgY} need ${sharedBytes(wgX, wgY, 8)} bytes of workgroup memory; the device allows ${limit}`,
    );
  return tk;
}

/**
 * Threads of the forward GEMM: the plain-matmul choice for an [M, b] output, with the row tile
 * TM = 8·wgY capped by the average segment length avg = M/E. Every segment boundary inside a row
 * tile costs that tile one extra pass over K, so the work is about (M/TM + E) tile passes, i.e.
 * 1 + TM/avg times a plain matmul's. TM ≤ avg/4 keeps that at 1.25 (TM = 32 is the floor: below
 * it the tile loses its register reuse). Measured on lavapipe, M = 2048, a = b = 256: E = 8
 * (avg 256) TM 32/64/128 → 78/81/95 ms (plain matmul 72 ms); E = 32 (avg 64) → 138/159/206 ms.
 * A function of the shape only; the sums do not depend on it (each row sums k in order).
 */
export function groupedThreads(M: number, b: number, E: number): { wgX: number; wgY: number } {
  const t = chooseThreads(M, b, 1);
  const avg = M / Math.max(E, 1);
  const cap = avg >= 512 ? 16 : avg >= 256 ? 8 : 4;
  return { wgX: leastPaddedWidth(b, t.wgX), wgY: Math.min(t.wgY, cap) };
}

/**
 * Threads along the output columns: of 4, 8, 12 and 16 (up to `max`), the one whose column
 * tiles (8 per thread) pad b the least, the widest on ties. Expert widths are often 3·2^k (the
 * browser preset's 96 pads to 128 in 16-thread tiles, a quarter of the tile's work wasted; 12
 * threads cover it exactly).
 */
export function leastPaddedWidth(b: number, max: number): number {
  let best = 4;
  for (const w of [4, 8, 12, 16]) {
    if (w > max) break;
    const pad = (n: number) => Math.ceil(b / (8 * n)) * 8 * n - b;
    if (pad(w) <= pad(best)) best = w;
  }
  return best;
}

/**
 * `tiles` overrides the automatic thread-grid choice (tests use it to show that every tile shape
 * gives bit-identical results); the backend never passes it.
 */
export function moeGroupedMatmul(
  be: WebGPUBackend,
  x: Tensor,
  w: Tensor,
  plan: MoePlan,
  transW: boolean,
  tiles?: { wgX: number; wgY: number },
): Tensor {
  const [M, a] = x.shape;
  const E = w.shape[0];
  const b = transW ? w.shape[1] : w.shape[2];
  const y = be.empty([M, b]);
  if (M === 0 || b === 0) return y;
  const { wgX, wgY } = tiles ?? groupedThreads(M, b, E);
  const tk = chooseTk(be, wgX, wgY);
  be.rt.record({
    kernel: GEMM_FWD,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk, TRANS_W: transW ? 1 : 0 },
    buffers: [be.buf(x), be.buf(w), be.buf(plan.offsets), be.buf(y)],
    uniform: packUniforms('uuuu', [M, b, a, E]),
    workgroups: [Math.ceil(b / (8 * wgX)), Math.ceil(M / (8 * wgY)), 1],
  });
  return y;
}

/** Below this many workgroups a big GPU idles (as in matmul.ts). */
const MIN_GROUPS = 64;

/**
 * Chunks per expert segment for the weight gradient: 1 unless the output has few tiles and the
 * average segment is long, then enough chunks (each ≥ 256 rows on average) for ~2·MIN_GROUPS
 * workgroups. A function of the shape only, so a given problem sums in the same order everywhere.
 */
export function weightGradSplits(tiles: number, M: number, E: number): number {
  const avg = M / Math.max(E, 1);
  if (tiles >= MIN_GROUPS || avg < 512) return 1;
  return Math.max(1, Math.min(Math.ceil((2 * MIN_GROUPS) / tiles), Math.floor(avg / 256)));
}

export function moeGroupedWeightGrad(be: WebGPUBackend, dy: Tensor, x: Tensor, plan: MoePlan, experts: number): Tensor {
  const M = dy.shape[0];
  const b = last(dy);
  const a = last(x);
  const E = experts;
  if (M === 0) return be.zeros([E, b, a]);
  const out = be.empty([E, b, a]);
  if (E === 0 || b === 0 || a === 0) return out;
  const { wgX, wgY } = chooseThreads(b, a, E);
  const tk = chooseTk(be, wgX, wgY);
  const tilesX = Math.ceil(a / (8 * wgX));
  const tilesY = Math.ceil(b / (8 * wgY));
  const splits = weightGradSplits(tilesX * tilesY * E, M, E);
  const total = E * b * a;
  const target = splits > 1 ? be.empty([splits * total]) : out;
  be.rt.record({
    kernel: GEMM_WGRAD,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk },
    buffers: [be.buf(dy), be.buf(x), be.buf(plan.offsets), be.buf(target)],
    uniform: packUniforms('uuuuu', [M, b, a, E, splits]),
    workgroups: [tilesX, tilesY, E * splits],
  });
  if (splits > 1) {
    be.rt.record({
      kernel: SPLITK_SUM,
      buffers: [be.buf(target), be.buf(out)],
      uniform: packUniforms('uu', [total, splits]),
      workgroups: grid1d(total, 256, be.rt.limits.maxComputeWorkgroupsPerDimension),
    });
    target.dispose(); // reusable only after this flush's work is submitted (see BufferPool)
  }
  return out;
}

export const ops = {
  moeGather,
  moeGatherBackward,
  moeGroupedMatmul,
  moeGroupedWeightGrad,
  moeCombine,
  moeCombineBackward,
} satisfies WebGPUFamily;
