// MoE dispatch / combine on the GPU: the grouped expert GEMMs of shaders/moe_grouped_matmul.wgsl
// here, the row gathers and the combine of shaders/moe_dispatch.wgsl in moe_rows.ts. Semantics:
// engine/backend.ts (MoePlan and the moe* methods); the float64 reference is
// backends/cpu/moe_dispatch.ts.
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

import entriesSrc from '../../../shaders/moe_grouped_entries.wgsl?raw';
import fwdSrc from '../../../shaders/moe_grouped_fwd.wgsl?raw';
import gemmCore from '../../../shaders/moe_grouped_matmul.wgsl?raw';
import wgradSrc from '../../../shaders/moe_grouped_wgrad.wgsl?raw';
import swigluMath from '../../../shaders/swiglu_math.wgsl?raw';
import splitkSrc from '../../../shaders/matmul_splitk.wgsl?raw';
import type { MoePlan, SwigluLinearGrads } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { last, moeCombine, moeCombineBackward, moeGather, moeGatherBackward, vec4Rows } from './moe_rows';
import { moeExpertsSwigluBackwardComposed } from '../cpu/moe_dispatch';
import { chooseThreads, coverThreads } from './matmul';
import { DEFAULT_TUNING } from './tuning';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';
import { instantiate, section } from './template';

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
/** The load path's lines to drop: scalar views of the f32 buffers (v1), or vec4 views (v4). */
const pathTags = (v4: boolean) => [v4 ? 'v1' : 'v4'];
const pathName = (v4: boolean) => (v4 ? '_v4' : '');
/** A kernel family built once per load path: [scalar views, vec4 views]. */
const byPath = <T>(make: (v4: boolean) => T): { v1: T; v4: T } => ({ v1: make(false), v4: make(true) });

/**
 * Tests and diagnostics only: take the scalar load path everywhere (both paths give the same
 * bits). A module-level switch: it holds for every backend in the process until switched back.
 */
let scalarOnly = false;
export function setGroupedScalarOnly(on: boolean): void {
  scalarOnly = on;
}

/**
 * The vec4 load path: every matrix width a multiple of 4 and every f32 buffer a whole number of
 * vec4s (moe_grouped_fwd.wgsl); else the scalar path.
 */
function vec4Path(be: WebGPUBackend, widths: number[], f32s: Tensor[]): 'v1' | 'v4' {
  return !scalarOnly && vec4Rows(be, widths, f32s) ? 'v4' : 'v1';
}

/**
 * Entry `forward`: bindings x, W, offsets, y[, slotAssign], then the uniform block; with `swiglu`
 * (direct rows), x is G and U's binding follows y.
 */
function gemmForward(gathered: boolean, swiglu: boolean, v4: boolean): Kernel {
  return {
    name: `moe_grouped_matmul${gathered ? '_gathered' : ''}${swiglu ? '_swiglu' : ''}${pathName(v4)}`,
    code: [
      swiglu ? swigluMath : '',
      gemmCore,
      instantiate(fwdSrc, {
        suffix: '',
        params: 'fp',
        base: 0,
        drop: ['acc', ...rowTags(gathered), ...xTags(swiglu), ...yTags(false), ...pathTags(v4)],
      }),
      entrySection('forward', 4 + (gathered ? 1 : 0) + (swiglu ? 1 : 0)),
    ].join('\n'),
    entry: 'forward',
  };
}

/** Entry `forward_pair`: bindings x, Wa, offsets, ya[, slotAssign], Wb, yb, then the uniform block. */
function gemmPair(gathered: boolean, v4: boolean): Kernel {
  const bBase = gathered ? 5 : 4;
  const drop = ['acc', ...rowTags(gathered), ...PLAIN_FWD, ...pathTags(v4)];
  return {
    name: `moe_grouped_matmul_pair${gathered ? '_gathered' : ''}${pathName(v4)}`,
    code: [
      gemmCore,
      instantiate(fwdSrc, { suffix: '_a', params: 'q.a', base: 0, drop }),
      instantiate(fwdSrc, {
        suffix: '_b',
        params: 'q.b',
        base: bBase,
        drop: ['own', 'slots', ...drop],
        rename: { X_b: 'X_a', OFF_b: 'OFF_a', SLOTS_b: 'SLOTS_a' },
      }),
      entrySection('forward_pair', bBase + 2),
    ].join('\n'),
    entry: 'forward_pair',
  };
}
const GEMM_FWD = byPath((v4) => ({ direct: gemmForward(false, false, v4), gathered: gemmForward(true, false, v4) }));
const GEMM_FWD_PAIR = byPath((v4) => ({ direct: gemmPair(false, v4), gathered: gemmPair(true, v4) }));
/** Entry `weight_grad`: bindings x, out, dy, offsets[, slotAssign], then the uniform block. */
function gemmWgrad(gathered: boolean, v4: boolean): Kernel {
  const drop = [...rowTags(gathered), ...xgTags(false), ...pathTags(v4)];
  return {
    name: `moe_grouped_matmul_wgrad${gathered ? '_gathered' : ''}${pathName(v4)}`,
    code: [
      gemmCore,
      instantiate(wgradSrc, { suffix: '', params: 'gp', base: 0, drop }),
      entrySection('weight_grad', gathered ? 5 : 4),
    ].join('\n'),
    entry: 'weight_grad',
  };
}
const GEMM_WGRAD = byPath((v4) => ({ direct: gemmWgrad(false, v4), gathered: gemmWgrad(true, v4) }));

/**
 * The input and weight gradients in one dispatch (entry `backward`): bindings dy, W, offsets,
 * dx[, acc] for the input gradient, then x, dW[, slotAssign] for the weight gradient (which reads
 * dy and the offsets through the first product's bindings), then the uniform block. The input
 * gradient's rows are dy's (slots) either way; `gathered` reads x's token rows through slotAssign.
 * With `swiglu` (no acc, direct rows): the forward's x was silu(G)·U — dx's store writes dg (in
 * dx's place) and du, with bindings G, U, du after dx; the weight gradient reads x as G with U's
 * binding after dW.
 */
function gemmBackward(acc: boolean, gathered: boolean, swiglu: boolean, v4: boolean): Kernel {
  const wBase = (acc ? 5 : 4) + (swiglu ? 3 : 0);
  return {
    name: `moe_grouped_matmul_bwd${acc ? '_acc' : ''}${gathered ? '_gathered' : ''}${swiglu ? '_swiglu' : ''}${pathName(v4)}`,
    code: [
      swiglu ? swigluMath : '',
      gemmCore,
      instantiate(fwdSrc, {
        suffix: '_x',
        params: 'u.f',
        base: 0,
        drop: [acc ? 'plain' : 'acc', ...rowTags(false), ...xTags(false), ...yTags(swiglu), ...pathTags(v4)],
      }),
      instantiate(wgradSrc, {
        suffix: '_w',
        params: 'u.g',
        base: wBase,
        drop: ['own', ...rowTags(gathered), ...xgTags(swiglu), ...pathTags(v4)],
        rename: { DY_w: 'X_x', OFF_w: 'OFF_x' },
      }),
      entrySection('backward', wBase + 2 + (gathered ? 1 : 0) + (swiglu ? 1 : 0)),
    ].join('\n'),
    entry: 'backward',
  };
}
const GEMM_BWD = byPath((v4) => ({
  plain: { direct: gemmBackward(false, false, false, v4), gathered: gemmBackward(false, true, false, v4) },
  acc: { direct: gemmBackward(true, false, false, v4), gathered: gemmBackward(true, true, false, v4) },
}));
const GEMM_FWD_SWIGLU = byPath((v4) => gemmForward(false, true, v4));
const GEMM_BWD_SWIGLU = byPath((v4) => gemmBackward(false, false, true, v4));
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
 * The grouped GEMMs take the default tuning's grid on every adapter (their tiles are not in the
 * per-adapter table): at most 16 threads per dim.
 */
const MAX_THREADS = DEFAULT_TUNING.maxThreads;

/**
 * Threads of the forward GEMM: the plain-matmul choice for an [M, b] output (its columns covered
 * as the matmul's, coverThreads: expert widths are often 3·2^k, and browser-v3's 96 fits one
 * 12-thread tile exactly), with the row tile TM = 8·wgY capped by the average segment length
 * avg = M/E: each expert's last row tile is partial (rowTiles), about 1 + TM/(2·avg) times a plain
 * matmul's work. Lavapipe, M = 2048, a = b = 256, tiles then straddling segments: E = 8, TM
 * 32/64/128 → 78/81/95 ms (matmul 72 ms); E = 32 → 138/159/206 ms; aligned, avg 128: TM 32 ≈ 64.
 * Shape-only; the sums do not depend on it.
 */
export function groupedThreads(M: number, b: number, E: number): { wgX: number; wgY: number } {
  const t = chooseThreads(M, b, 1);
  const avg = M / Math.max(E, 1);
  const cap = avg >= 512 ? 16 : avg >= 256 ? 8 : 4;
  return { wgX: coverThreads([b], t.wgX, MAX_THREADS), wgY: Math.min(t.wgY, cap) };
}

/** Row tiles of a forward-direction product: at most ceil(M / TM) + E (alignedTile); extra ones exit. */
function rowTiles(M: number, E: number, wgY: number): number {
  return Math.ceil(M / (8 * wgY)) + E;
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
  const path = vec4Path(be, [a, b], [x, w, y, ...(u ? [u] : [])]);
  be.rt.record({
    kernel: u ? GEMM_FWD_SWIGLU[path] : gather ? GEMM_FWD[path].gathered : GEMM_FWD[path].direct,
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
    const path = vec4Path(be, [a, wa.shape[1], wb.shape[1]], [x, wa, wb, ya, yb]);
    const total = ba[5] + bb[5];
    const x0 = Math.min(total, be.rt.limits.maxComputeWorkgroupsPerDimension);
    be.rt.record({
      kernel: gather ? GEMM_FWD_PAIR[path].gathered : GEMM_FWD_PAIR[path].direct,
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

/**
 * The weight gradient dW [E, b, a] over M rows: its chunks per segment, from chooseThreads's tiles
 * (the shape alone), and the thread grid it runs on (those threads, covered: coverThreads).
 */
function weightGradPlan(M: number, b: number, a: number, E: number) {
  const t = chooseThreads(b, a, E);
  const splits = weightGradSplits(Math.ceil(a / (8 * t.wgX)) * Math.ceil(b / (8 * t.wgY)) * E, M, E);
  return { splits, wgX: coverThreads([a], t.wgX, MAX_THREADS), wgY: coverThreads([b], t.wgY, MAX_THREADS) };
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
  const { splits, wgX, wgY } = weightGradPlan(M, b, a, E);
  const tk = chooseTk(be, wgX, wgY);
  const tilesX = Math.ceil(a / (8 * wgX));
  const tilesY = Math.ceil(b / (8 * wgY));
  const total = E * b * a;
  const target = splits > 1 ? be.empty([splits * total]) : out;
  const path = vec4Path(be, [a, b], [x, target, dy]);
  be.rt.record({
    kernel: gather ? GEMM_WGRAD[path].gathered : GEMM_WGRAD[path].direct,
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
  const buffers = (acc ? 7 : 6) + (gather ? 1 : 0) + (u ? 4 : 0);
  if (weightGradPlan(M, b, a, E).splits > 1 || buffers > be.rt.limits.maxStorageBuffersPerShaderStage) return unfused();
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
  const gate = u && du ? [x, u, du] : [];
  const path = vec4Path(be, [a, b], [dy, w, dx, ...(acc ? [acc] : []), ...gate, x, dw, ...(u ? [u] : [])]);
  const kernels = GEMM_BWD[path][acc ? 'acc' : 'plain'];
  be.rt.record({
    kernel: u ? GEMM_BWD_SWIGLU[path] : gather ? kernels.gathered : kernels.direct,
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
