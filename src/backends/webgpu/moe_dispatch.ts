// MoE dispatch / combine on the GPU: the row gathers of shaders/moe_dispatch.wgsl and the grouped
// expert GEMMs of shaders/moe_grouped_matmul.wgsl. Semantics: engine/backend.ts (MoePlan and the
// moe* methods); the float64 reference is backends/cpu/moe_dispatch.ts.
//
// Nothing here reads the plan back: every grid is sized from M, E and the matrix shapes, and the
// kernels read the expert offsets on the device (one command encoder per training step).
//
// Gathered rows: moeGroupedMatmul(s) and moeGroupedGrads take `gather` ({ K }: x is then the
// token rows [N, a], not the slots [N·K, a]) and read slot m's row as x[slotAssign[m] / K] inside
// the GEMM's loads (the `gathered` variants of moe_grouped_fwd.wgsl / moe_grouped_wgrad.wgsl):
// the MoE forward without its gather dispatch or its [N·K, a] buffer, bit for bit gather + the
// direct kernels. Every grouped kernel has a gathered variant (a split weight gradient reads x
// gathered too, its chunks summed as before); only where a gathered pair would exceed the storage
// buffer limit are the rows gathered first and the direct kernels run.

import src from '../../../shaders/moe_dispatch.wgsl?raw';
import entriesSrc from '../../../shaders/moe_grouped_entries.wgsl?raw';
import fwdSrc from '../../../shaders/moe_grouped_fwd.wgsl?raw';
import gemmCore from '../../../shaders/moe_grouped_matmul.wgsl?raw';
import wgradSrc from '../../../shaders/moe_grouped_wgrad.wgsl?raw';
import swigluMath from '../../../shaders/swiglu_math.wgsl?raw';
import splitkSrc from '../../../shaders/matmul_splitk.wgsl?raw';
import type { MoePlan, SwigluLinearGrads } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { vec4Ok } from './elementwise';
import { moeExpertsSwigluBackwardComposed } from '../cpu/moe_dispatch';
import { chooseThreads } from './matmul';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';
import { instantiate, section } from './template';

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
const COMBINE_BWD = rowKernels('combine_bwd');

/** Invocations per workgroup of the flat row kernels; threads per workgroup of combine_bwd. */
const WG = 256;
const DWG = 64;
/** combine_bwd: threads per dot product (DWG / this many dots per workgroup). */
const COMBINE_DOT_THREADS = 8;

const last = (t: Tensor) => t.shape[t.shape.length - 1];

/** Rows as vec4s when d % 4 == 0 and every f32 buffer can be viewed as vec4s (else scalars). */
function vec4Rows(be: WebGPUBackend, d: number, f32s: Tensor[]): boolean {
  return d % 4 === 0 && vec4Ok(f32s.map((t) => be.buf(t)));
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
  const v4 = vec4Rows(be, d, f32s);
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
  const v4 = vec4Rows(be, d, [dOut, y, dy]);
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

// ---- grouped GEMMs ----

/** One section of moe_grouped_entries.wgsl: from its `// ==== name` line to the next. */
function entrySection(name: string, uniformBinding: number): string {
  return section(entriesSrc, name).replace('#U', String(uniformBinding));
}

/** The template lines to drop for a product reading x's rows as they are, or gathered through slotAssign. */
const rowTags = (gathered: boolean) => (gathered ? ['direct'] : ['gathered', 'slots']);
/**
 * The SwiGLU lines to drop (moe_grouped_fwd.wgsl / moe_grouped_wgrad.wgsl): x read from memory
 * or as silu(G)·U; y stored, or the gate's backward stored (dg, du).
 */
const xTags = (swiglu: boolean) => [swiglu ? 'x-mem' : 'x-swiglu'];
const yTags = (swiglu: boolean) => [swiglu ? 'y-mem' : 'y-swiglu'];
const xgTags = (swiglu: boolean) => [swiglu ? 'xg-mem' : 'xg-swiglu'];
const PLAIN_FWD = [...xTags(false), ...yTags(false)];

/**
 * Entry `forward`: bindings x, W, offsets, y[, slotAssign], then the uniform block; with `swiglu`
 * (direct rows), x is G and U's binding follows y.
 */
function gemmForward(gathered: boolean, swiglu = false): Kernel {
  return {
    name: `moe_grouped_matmul${gathered ? '_gathered' : ''}${swiglu ? '_swiglu' : ''}`,
    code: [
      swiglu ? swigluMath : '',
      gemmCore,
      instantiate(fwdSrc, {
        suffix: '',
        params: 'fp',
        base: 0,
        drop: ['acc', ...rowTags(gathered), ...xTags(swiglu), ...yTags(false)],
      }),
      entrySection('forward', 4 + (gathered ? 1 : 0) + (swiglu ? 1 : 0)),
    ].join('\n'),
    entry: 'forward',
  };
}

/** Entry `forward_pair`: bindings x, Wa, offsets, ya[, slotAssign], Wb, yb, then the uniform block. */
function gemmPair(gathered: boolean): Kernel {
  const bBase = gathered ? 5 : 4;
  return {
    name: gathered ? 'moe_grouped_matmul_pair_gathered' : 'moe_grouped_matmul_pair',
    code: [
      gemmCore,
      instantiate(fwdSrc, { suffix: '_a', params: 'q.a', base: 0, drop: ['acc', ...rowTags(gathered), ...PLAIN_FWD] }),
      instantiate(fwdSrc, {
        suffix: '_b',
        params: 'q.b',
        base: bBase,
        drop: ['acc', 'own', 'slots', ...rowTags(gathered), ...PLAIN_FWD],
        rename: { X_b: 'X_a', OFF_b: 'OFF_a', SLOTS_b: 'SLOTS_a' },
      }),
      entrySection('forward_pair', bBase + 2),
    ].join('\n'),
    entry: 'forward_pair',
  };
}
const GEMM_FWD = { direct: gemmForward(false), gathered: gemmForward(true) };
const GEMM_FWD_PAIR = { direct: gemmPair(false), gathered: gemmPair(true) };
/** Entry `weight_grad`: bindings x, out, dy, offsets[, slotAssign], then the uniform block. */
function gemmWgrad(gathered: boolean): Kernel {
  return {
    name: gathered ? 'moe_grouped_matmul_wgrad_gathered' : 'moe_grouped_matmul_wgrad',
    code: [
      gemmCore,
      instantiate(wgradSrc, { suffix: '', params: 'gp', base: 0, drop: [...rowTags(gathered), ...xgTags(false)] }),
      entrySection('weight_grad', gathered ? 5 : 4),
    ].join('\n'),
    entry: 'weight_grad',
  };
}
const GEMM_WGRAD = { direct: gemmWgrad(false), gathered: gemmWgrad(true) };

/**
 * The input and weight gradients in one dispatch (entry `backward`): bindings dy, W, offsets,
 * dx[, acc] for the input gradient, then x, dW[, slotAssign] for the weight gradient (which reads
 * dy and the offsets through the first product's bindings), then the uniform block. The input
 * gradient's rows are dy's (slots) either way; `gathered` reads x's token rows through slotAssign.
 * With `swiglu` (no acc, direct rows): the forward's x was silu(G)·U — dx's store writes dg (in
 * dx's place) and du, with bindings G, U, du after dx; the weight gradient reads x as G with U's
 * binding after dW.
 */
function gemmBackward(acc: boolean, gathered: boolean, swiglu = false): Kernel {
  const wBase = (acc ? 5 : 4) + (swiglu ? 3 : 0);
  return {
    name: `moe_grouped_matmul_bwd${acc ? '_acc' : ''}${gathered ? '_gathered' : ''}${swiglu ? '_swiglu' : ''}`,
    code: [
      swiglu ? swigluMath : '',
      gemmCore,
      instantiate(fwdSrc, {
        suffix: '_x',
        params: 'u.f',
        base: 0,
        drop: [acc ? 'plain' : 'acc', ...rowTags(false), ...xTags(false), ...yTags(swiglu)],
      }),
      instantiate(wgradSrc, {
        suffix: '_w',
        params: 'u.g',
        base: wBase,
        drop: ['own', ...rowTags(gathered), ...xgTags(swiglu)],
        rename: { DY_w: 'X_x', OFF_w: 'OFF_x' },
      }),
      entrySection('backward', wBase + 2 + (gathered ? 1 : 0) + (swiglu ? 1 : 0)),
    ].join('\n'),
    entry: 'backward',
  };
}
const GEMM_BWD = { direct: gemmBackward(false, false), gathered: gemmBackward(false, true) };
const GEMM_BWD_ACC = { direct: gemmBackward(true, false), gathered: gemmBackward(true, true) };
const GEMM_FWD_SWIGLU = gemmForward(false, true);
const GEMM_BWD_SWIGLU = gemmBackward(false, false, true);
const SPLITK_SUM: Kernel = { name: 'matmul_splitk', code: splitkSrc, entry: 'main' };

/** Workgroup memory of the GEMM kernels: As, Bs (TK rows of tile/4 + 1 vec4s each), `seg`, `tileRows` (TM u32) and `kRows` (TK u32). */
function sharedBytes(wgX: number, wgY: number, tk: number): number {
  return tk * (2 * wgY + 1) * 16 + tk * (2 * wgX + 1) * 16 + 16 + 4 * 8 * wgY + 4 * tk;
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
 * TM = 8·wgY capped by the average segment length avg = M/E: each expert's last row tile is
 * partial (rowTiles), about 1 + TM/(2·avg) times a plain matmul's work. Lavapipe, M = 2048,
 * a = b = 256, tiles then straddling segments: E = 8, TM 32/64/128 → 78/81/95 ms (matmul 72 ms);
 * E = 32 → 138/159/206 ms; aligned, avg 128: TM 32 ≈ 64. Shape-only; the sums do not depend on it.
 */
export function groupedThreads(M: number, b: number, E: number): { wgX: number; wgY: number } {
  const t = chooseThreads(M, b, 1);
  const avg = M / Math.max(E, 1);
  const cap = avg >= 512 ? 16 : avg >= 256 ? 8 : 4;
  return { wgX: leastPaddedWidth(b, t.wgX), wgY: Math.min(t.wgY, cap) };
}

/** Row tiles of a forward-direction product: at most ceil(M / TM) + E (alignedTile); extra ones exit. */
function rowTiles(M: number, E: number, wgY: number): number {
  return Math.ceil(M / (8 * wgY)) + E;
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

/** Gathered rows: x holds the N token rows, slot m reads row slotAssign[m] / K (see the header). */
export interface Gather {
  K: number;
}

/** The product's rows M: x's, or the plan's slots when x is gathered in the loads. */
const rowsOf = (x: Tensor, plan: MoePlan, gather?: Gather) => (gather ? plan.slotAssign.size : x.shape[0]);

/**
 * `tiles` overrides the automatic thread-grid choice (tests use it to show that every tile shape
 * gives bit-identical results); the backend never passes it. With `gather`, x is [N, a] and the
 * result that of moeGather(x, plan, K) in place of x.
 */
export function moeGroupedMatmul(
  be: WebGPUBackend,
  x: Tensor,
  w: Tensor,
  plan: MoePlan,
  transW: boolean,
  tiles?: { wgX: number; wgY: number },
  gather?: Gather,
  u?: Tensor,
): Tensor {
  const M = rowsOf(x, plan, gather);
  const a = x.shape[1];
  const E = w.shape[0];
  const b = transW ? w.shape[1] : w.shape[2];
  const y = be.empty([M, b]);
  if (M === 0 || b === 0) return y;
  const { wgX, wgY } = tiles ?? groupedThreads(M, b, E);
  const tk = chooseTk(be, wgX, wgY);
  be.rt.record({
    kernel: u ? GEMM_FWD_SWIGLU : gather ? GEMM_FWD.gathered : GEMM_FWD.direct,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk, TRANS_W: transW ? 1 : 0 },
    buffers: [x, w, plan.offsets, y, ...(gather ? [plan.slotAssign] : []), ...(u ? [u] : [])].map((t) => be.buf(t)),
    uniform: packUniforms('uuuuu', [M, b, a, E, gather?.K ?? 1]),
    workgroups: [Math.ceil(b / (8 * wgX)), rowTiles(M, E, wgY), 1],
  });
  return y;
}

/**
 * moeGroupedMatmul(x, w, plan, true[, gather]) for each of ws, two per dispatch (entry
 * forward_pair: the two products of an expert FFN's gate and up read the same rows). Each product
 * keeps its bits: both use the thread grid the first would use alone, and the sums do not depend
 * on it. With `gather` (x [N, a]), the bits of moeGather(x, plan, K) then the direct products.
 */
export function moeGroupedMatmuls(
  be: WebGPUBackend,
  x: Tensor,
  ws: Tensor[],
  plan: MoePlan,
  gather?: Gather,
): Tensor[] {
  if (gather && 7 > be.rt.limits.maxStorageBuffersPerShaderStage) {
    const xg = moeGather(be, x, plan, gather.K);
    const ys = moeGroupedMatmuls(be, xg, ws, plan);
    xg.dispose(); // reusable only after this flush's work is submitted (see BufferPool)
    return ys;
  }
  const out: Tensor[] = [];
  const M = rowsOf(x, plan, gather);
  const a = x.shape[1];
  for (let i = 0; i < ws.length; i += 2) {
    const [wa, wb] = [ws[i], ws[i + 1]];
    if (!wb || M === 0 || wa.shape[1] === 0 || wb.shape[1] === 0) {
      out.push(moeGroupedMatmul(be, x, wa, plan, true, undefined, gather));
      if (wb) out.push(moeGroupedMatmul(be, x, wb, plan, true, undefined, gather));
      continue;
    }
    const E = wa.shape[0];
    const { wgX, wgY } = groupedThreads(M, wa.shape[1], E);
    const tk = chooseTk(be, wgX, wgY);
    const block = (w: Tensor) => {
      const b = w.shape[1];
      const tilesX = Math.ceil(b / (8 * wgX));
      return [M, b, a, w.shape[0], tilesX, tilesX * rowTiles(M, E, wgY), gather?.K ?? 1, 0] as const;
    };
    const [ba, bb] = [block(wa), block(wb)];
    const ya = be.empty([M, wa.shape[1]]);
    const yb = be.empty([M, wb.shape[1]]);
    const total = ba[5] + bb[5];
    const x0 = Math.min(total, be.rt.limits.maxComputeWorkgroupsPerDimension);
    be.rt.record({
      kernel: gather ? GEMM_FWD_PAIR.gathered : GEMM_FWD_PAIR.direct,
      overrides: { WG_X: wgX, WG_Y: wgY, TK: tk, TRANS_W_a: 1, TRANS_W_b: 1 },
      buffers: [x, wa, plan.offsets, ya, ...(gather ? [plan.slotAssign] : []), wb, yb].map((t) => be.buf(t)),
      uniform: packUniforms('uuuuuuuuuuuuuuuu', [...ba, ...bb]),
      workgroups: [x0, Math.ceil(total / x0), 1],
    });
    out.push(ya, yb);
  }
  return out;
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

/** dW_e = Σ_{m in segment e} dy[m]ᵀ·x[m] ([E, b, a]); with `gather`, x [N, a] is read through slotAssign. */
export function moeGroupedWeightGrad(
  be: WebGPUBackend,
  dy: Tensor,
  x: Tensor,
  plan: MoePlan,
  experts: number,
  gather?: Gather,
): Tensor {
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
    kernel: gather ? GEMM_WGRAD.gathered : GEMM_WGRAD.direct,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk },
    buffers: [x, target, dy, plan.offsets, ...(gather ? [plan.slotAssign] : [])].map((t) => be.buf(t)),
    uniform: packUniforms('uuuuuu', [M, b, a, E, splits, gather?.K ?? 1]),
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

/**
 * Both gradients of y = x·W_eᵀ per segment (moeGroupedMatmul(x, w, plan, true[, gather])): dx =
 * [acc +] dy·W_e (by slot, [M, a], also with `gather`) and dW_e = dyᵀ·x over the segment (x's
 * rows through slotAssign with `gather`), in one dispatch of the `backward` entry where the
 * weight gradient would not be split (else the two kernels and an add). Both
 * use the input gradient's thread grid: the sums do not depend on it, so the bits are the
 * separate kernels'.
 */
export function moeGroupedGrads(
  be: WebGPUBackend,
  dy: Tensor,
  x: Tensor,
  w: Tensor,
  plan: MoePlan,
  acc: Tensor | null,
  want: { dx: boolean; dw: boolean },
  gather?: Gather,
  u?: Tensor,
): { dx: Tensor | null; dw: Tensor | null; du?: Tensor | null } {
  const M = dy.shape[0];
  const b = last(dy);
  const a = last(x);
  const E = w.shape[0];
  const separate = () => {
    let dx: Tensor | null = null;
    if (want.dx) {
      const g = moeGroupedMatmul(be, dy, w, plan, false);
      dx = acc ? be.add(acc, g) : g;
    }
    return { dx, dw: want.dw ? moeGroupedWeightGrad(be, dy, x, plan, E, gather) : null };
  };
  // With u (x's rows were silu(x)·u in the forward): where the fused kernel does not fit, the
  // gate written out and the plain kernels (moeExpertsSwigluBackwardComposed).
  const unfused = () => {
    if (!u) return separate();
    const r = moeExpertsSwigluBackwardComposed(be, dy, x, u, w, plan, want.dw);
    return { dx: r.dg, dw: r.dw, du: r.du };
  };
  if (!want.dx || !want.dw || M === 0 || a === 0 || b === 0 || E === 0) return unfused();
  const solo = chooseThreads(b, a, E);
  const soloTiles = Math.ceil(a / (8 * solo.wgX)) * Math.ceil(b / (8 * solo.wgY));
  const buffers = (acc ? 7 : 6) + (gather ? 1 : 0) + (u ? 4 : 0);
  if (weightGradSplits(soloTiles * E, M, E) > 1 || buffers > be.rt.limits.maxStorageBuffersPerShaderStage)
    return unfused();
  const { wgX, wgY } = groupedThreads(M, a, E);
  const tk = chooseTk(be, wgX, wgY);
  const dx = be.empty([M, a]);
  const dw = be.empty([E, b, a]);
  const du = u ? be.empty([M, a]) : null;
  // Both outputs are a columns wide ([M, a] and [E, b, a]) on one thread grid: one column count.
  const tilesX = Math.ceil(a / (8 * wgX));
  const tilesY = rowTiles(M, E, wgY);
  const wTilesY = Math.ceil(b / (8 * wgY));
  const total = tilesX * (tilesY + wTilesY * E);
  const x0 = Math.min(total, be.rt.limits.maxComputeWorkgroupsPerDimension);
  const kernels = acc ? GEMM_BWD_ACC : GEMM_BWD;
  const gate = u && du ? [x, u, du] : [];
  be.rt.record({
    kernel: u ? GEMM_BWD_SWIGLU : gather ? kernels.gathered : kernels.direct,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk, TRANS_W_x: 0 },
    buffers: [
      ...[dy, w, plan.offsets, dx, ...(acc ? [acc] : []), ...gate],
      ...[x, dw, ...(gather ? [plan.slotAssign] : []), ...(u ? [u] : [])],
    ].map((t) => be.buf(t)),
    uniform: packUniforms('uuuuuuuuuuuuuuuu', [
      M,
      a,
      b,
      E,
      M,
      b,
      a,
      E,
      1,
      tilesX,
      tilesY,
      tilesX,
      wTilesY,
      gather?.K ?? 1,
      0,
      0,
    ]),
    workgroups: [x0, Math.ceil(total / x0), 1],
  });
  return { dx, dw, du };
}

/**
 * An expert FFN's down projection over its SwiGLU gate: moeGroupedMatmul(swiglu(g, u), w, plan,
 * true) bit for bit, the gate computed as the GEMM stages its rows (no [M, F] activation).
 */
export function moeExpertsSwiglu(be: WebGPUBackend, g: Tensor, u: Tensor, w: Tensor, plan: MoePlan): Tensor {
  return moeGroupedMatmul(be, g, w, plan, true, undefined, undefined, u);
}

/**
 * Its backward: dg, du = swigluBackward(g, u, dy·W_e) and dW_e = dyᵀ·swiglu(g, u) — in one
 * dispatch of the `backward` entry (the gate's backward in dx's store, the gate recomputed in the
 * weight gradient's staging) where moeGroupedGrads would take one; else the unfused kernels.
 */
export function moeExpertsSwigluBackward(
  be: WebGPUBackend,
  dy: Tensor,
  g: Tensor,
  u: Tensor,
  w: Tensor,
  plan: MoePlan,
  needW: boolean,
): SwigluLinearGrads {
  const r = moeGroupedGrads(be, dy, g, w, plan, null, { dx: true, dw: needW }, undefined, u);
  return { dg: r.dx as Tensor, du: r.du as Tensor, dw: r.dw };
}

export const ops = {
  moeGather,
  moeGatherBackward,
  moeGroupedMatmul,
  moeGroupedWeightGrad,
  moeGroupedGrads,
  moeGroupedMatmuls,
  moeCombine,
  moeCombineBackward,
  moeExpertsSwiglu,
  moeExpertsSwigluBackward,
} satisfies WebGPUFamily;
