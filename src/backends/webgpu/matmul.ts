// Matmul on the GPU: the tiled, register-blocked kernel in shaders/matmul.wgsl.
// C[...b, M, N] = op(A)[...b, M, K] · op(B)[...b, K, N]; B of rank 2 is broadcast over A's batch.
//
// Pipelines are specialized by override constants: the transpose flags, the thread-grid shape
// and the K-tile depth. Shapes go in the uniform, so one pipeline serves every shape. Two entry
// points: 'main' (scalar loads, any shape) and 'main_vec4' (vec4 loads and stores, for M, N, K
// multiples of 4 — every model dim in the presets); both add the products in the same order, so
// they give the same bits. Tile sizes and the vec4 switch come from a per-adapter table (tuning.ts).
// Products with few output tiles and a long K (weight gradients over many tokens) would leave
// most of a GPU idle, so they split K into chunks computed in parallel into a scratch buffer,
// then summed in a fixed order by shaders/matmul_splitk.wgsl (a second dispatch).
// Tile precision: f32 by default; where the device has shader-f16 and the backend's matmul path
// is 'f16' (device.ts KernelPaths), the same kernel with its workgroup tiles in f16
// (shaders/matmul_f16.wgsl): inputs rounded to f16 as they are staged, exact products, f32 sums.
// `matmuls` runs independent 2-D products two per dispatch (shaders/matmul_multi.wgsl; a linear's
// dX and dW in the backward), each optionally added to an earlier result in its store. The
// shader is composed here from its parts: see "Files" in matmul.wgsl.

import core from '../../../shaders/matmul.wgsl?raw';
import f16Tiles from '../../../shaders/matmul_f16.wgsl?raw';
import multiSrc from '../../../shaders/matmul_multi.wgsl?raw';
import operandsSrc from '../../../shaders/matmul_operands.wgsl?raw';
import singleSrc from '../../../shaders/matmul_single.wgsl?raw';
import splitkSrc from '../../../shaders/matmul_splitk.wgsl?raw';
import swigluMath from '../../../shaders/swiglu_math.wgsl?raw';
import type { MatmulOpts, MatmulProduct, SwigluLinearGrads } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { matmulDims, swigluLinearComposed } from '../cpu/matmul';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { kernelPaths } from './device';
import type { Kernel } from './pipelines';
import { type Bindable, grid1d, packUniforms, type GpuRuntime } from './runtime';
import { dropTagged, instantiate } from './template';
import { DEFAULT_TUNING, matmulTuning, type MatmulTuning } from './tuning';

/**
 * How one product of a multi dispatch reads its operands and writes its output
 * (matmul_operands.wgsl's variants): added to an earlier result (`acc`); op(A) or op(B) computed
 * as silu(G)·U while staged (`a` / `b`); the store writing a SwiGLU gate's backward (`c`).
 */
export interface OperandForm {
  acc: boolean;
  a?: 'swiglu';
  b?: 'swiglu';
  c?: 'swiglu';
}

/** Storage bindings of a product of this form, in binding order: A|G, B|G, C, [D], [U_a], [U_b], [G, U, E]. */
export function formBindings(f: OperandForm): number {
  return 3 + (f.acc ? 1 : 0) + (f.a ? 1 : 0) + (f.b ? 1 : 0) + (f.c ? 3 : 0);
}

/**
 * One product's I/O (shaders/matmul_operands.wgsl) for a kernel: names suffixed with `suffix`,
 * the uniform block read as `params`, bindings from `base` (formBindings's order).
 */
export function operandCode(suffix: string, params: string, base: number, f: OperandForm): string {
  const drop = [
    f.acc ? 'plain' : 'acc',
    f.a ? 'a-mem' : 'a-swiglu',
    f.b ? 'b-mem' : 'b-swiglu',
    f.c ? 'c-mem' : 'c-swiglu',
  ];
  return instantiate(operandsSrc, { suffix, params, base, drop });
}

const PRELUDE = { f32: 'alias TILE = f32;', f16: f16Tiles };
const singleCode = (tiles: 'f32' | 'f16') =>
  `${PRELUDE[tiles]}\n${core}\n${operandCode('', 'p', 0, { acc: false })}\n${singleSrc}`;
const F32_CODE = singleCode('f32');
const F16_CODE = singleCode('f16');
const MATMUL: Kernel = { name: 'matmul', code: F32_CODE, entry: 'main' };
const MATMUL_VEC4: Kernel = { name: 'matmul', code: F32_CODE, entry: 'main_vec4' };
const MATMUL_F16: Kernel = { name: 'matmul_f16', code: F16_CODE, entry: 'main' };
const MATMUL_F16_VEC4: Kernel = { name: 'matmul_f16', code: F16_CODE, entry: 'main_vec4' };

/**
 * The kernel for one or two independent 2-D products (shaders/matmul_multi.wgsl), `forms[i]`
 * telling how product i reads and writes (OperandForm). Cached per form pattern, tile type and
 * load path; the SwiGLU math (swiglu_math.wgsl) is put in only where a form uses it.
 */
const multiKernels = new Map<string, Kernel>();
function multiKernel(forms: OperandForm[], tiles: 'f32' | 'f16', vec4: boolean): Kernel {
  const tag = (f: OperandForm) => `${f.acc ? 'acc' : 'set'}${f.a ? '_ga' : ''}${f.b ? '_gb' : ''}${f.c ? '_gc' : ''}`;
  const key = `${forms.map(tag).join('_')}:${tiles}:${vec4}`;
  let k = multiKernels.get(key);
  if (!k) {
    let base = 0;
    const parts = forms.map((form, i) => {
      const text = operandCode(`_${i + 1}`, `u.q${i + 1}`, base, form);
      base += formBindings(form);
      return text;
    });
    const entries = (forms.length === 1 ? dropTagged(multiSrc, ['product 2']) : multiSrc).replace('#U', String(base));
    const math = forms.some((f) => f.a || f.b || f.c) ? `${swigluMath}\n` : '';
    k = {
      name: `matmul_multi${tiles === 'f16' ? '_f16' : ''}_${forms.map(tag).join('_')}`,
      code: `${PRELUDE[tiles]}\n${math}${core}\n${parts.join('\n')}\n${entries}`,
      entry: vec4 ? 'main_vec4' : 'main',
    };
    multiKernels.set(key, k);
  }
  return k;
}

/** Tile precision of a matmul: 'f16' where the backend asks for it and the device has shader-f16. */
export function tilePrecision(be: WebGPUBackend): 'f32' | 'f16' {
  return kernelPaths(be).matmul === 'f16' && be.rt.features.shaderF16 ? 'f16' : 'f32';
}
const SPLITK_SUM: Kernel = { name: 'matmul_splitk', code: splitkSrc, entry: 'main' };

/** Below this many workgroups a big GPU idles: split K (shape-only; tile halving is per adapter, tuning.ts). */
const MIN_GROUPS = 64;
/** K chunks are multiples of this (≥ every TK used), so the split depends on the shape alone. */
const K_CHUNK_ALIGN = 32;
/** Shortest K worth splitting, and the shortest chunk. */
const SPLIT_MIN_K = 1024;
const SPLIT_MIN_CHUNK = 256;

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/**
 * How to cut K: `splits` chunks of `kChunk` (the last one shorter). A function of the shape
 * only — never of the device — so a given product sums in the same order on every adapter.
 */
export function splitKPlan(tiles: number, K: number): { splits: number; kChunk: number } {
  const whole = { splits: 1, kChunk: roundUp(Math.max(K, 1), K_CHUNK_ALIGN) };
  if (K < SPLIT_MIN_K || tiles >= MIN_GROUPS) return whole;
  // Aim for about 2 · MIN_GROUPS workgroups in all.
  const want = Math.min(Math.ceil((2 * MIN_GROUPS) / tiles), Math.floor(K / SPLIT_MIN_CHUNK));
  if (want < 2) return whole;
  const kChunk = roundUp(Math.ceil(K / want), K_CHUNK_ALIGN);
  return { splits: Math.ceil(K / kChunk), kChunk };
}

/**
 * Workgroup memory the kernel needs: As and Bs, TK rows of (tile/4 + 1) vec4s each (tile = 8 ·
 * threads); a vec4 is 16 bytes with f32 tiles, 8 with f16.
 */
function sharedBytes(wgX: number, wgY: number, tk: number, vec4Bytes = 16): number {
  return tk * (2 * wgY + 1) * vec4Bytes + tk * (2 * wgX + 1) * vec4Bytes;
}

/**
 * Threads along N and M (each thread covers 8 outputs per dim). Start from the tile the dim
 * needs — 32 wide for dims ≤ 32 (decode steps, few experts), 64 for ≤ 64, else 128 (at most
 * 8·maxThreads) — then halve the larger 128-wide tile while the grid has too few workgroups to
 * fill a GPU. The sums do not depend on the choice (see matmul.wgsl).
 */
export function chooseThreads(
  M: number,
  N: number,
  batch: number,
  tuning: Pick<MatmulTuning, 'maxThreads' | 'minGroups'> = DEFAULT_TUNING,
): { wgX: number; wgY: number } {
  const need = (d: number) => Math.min(d <= 32 ? 4 : d <= 64 ? 8 : 16, tuning.maxThreads);
  let wgX = need(N);
  let wgY = need(M);
  const groups = () => Math.ceil(N / (8 * wgX)) * Math.ceil(M / (8 * wgY)) * batch;
  while (groups() < tuning.minGroups && (wgX > 8 || wgY > 8)) {
    if (wgX >= wgY) wgX /= 2;
    else wgY /= 2;
  }
  return { wgX, wgY };
}

/**
 * Threads along a dim of the product(s) `dims`, given the count `w` chooseThreads picked: 12 (a
 * 96-wide tile) in place of 8 or 16 where it pads the dims less, else `w`. Each thread computes 8
 * outputs per dim whatever the count, so a workgroup's latency stays; what goes is the padded
 * work (dims of 3·2^k: 96 = one 96-wide tile instead of two 64-wide ones, a third of them
 * padding). Never more than `max` (the tuning's limit). The sums do not depend on the choice.
 */
export function coverThreads(dims: number[], w: number, max: number): number {
  if ((w !== 8 && w !== 16) || max < 12) return w;
  const padded = (t: number) => dims.reduce((n, d) => n + Math.ceil(d / (8 * t)) * 8 * t, 0);
  return padded(12) < padded(w) ? 12 : w;
}

/** The thread grid of a matmul's dispatch: chooseThreads, each dim then covered by coverThreads. */
export function gridThreads(
  M: number,
  N: number,
  batch: number,
  tuning: Pick<MatmulTuning, 'maxThreads' | 'minGroups'> = DEFAULT_TUNING,
): { wgX: number; wgY: number } {
  const t = chooseThreads(M, N, batch, tuning);
  return { wgX: coverThreads([N], t.wgX, tuning.maxThreads), wgY: coverThreads([M], t.wgY, tuning.maxThreads) };
}

/**
 * Split-K for a product: splitKPlan over the tiles of the default tuning's chooseThreads grid — a
 * function of the shape alone, so a product sums in the same order on every adapter and with
 * every thread grid (tuning.ts). `tiles` (tests) counts the override's tiles instead.
 */
function splitOf(M: number, N: number, K: number, batch: number, tiles?: MatmulTiles) {
  const t = tiles ?? chooseThreads(M, N, batch);
  return splitKPlan(Math.ceil(N / (8 * t.wgX)) * Math.ceil(M / (8 * t.wgY)) * batch, K);
}

/** Kernel shape: threads along N and M (4, 8 or 16 each), the K-tile depth (8, 16 or 32), and
 * whether to take the vec4 path when the shape allows (default: the adapter's tuning). */
export interface MatmulTiles {
  wgX: number;
  wgY: number;
  tk: number;
  vec4?: boolean;
}

const tuningCache = new WeakMap<GpuRuntime, MatmulTuning>();

/** This runtime's adapter tuning (tuning.ts), looked up once. */
export function tuningOf(rt: GpuRuntime): MatmulTuning {
  let t = tuningCache.get(rt);
  if (!t) {
    t = matmulTuning(rt.adapterLabel, rt.limits);
    tuningCache.set(rt, t);
  }
  return t;
}

/** The vec4 path needs 16-byte aligned rows (M, N, K multiples of 4) and whole vec4 buffers. */
export function vec4Eligible(M: number, N: number, K: number, buffers: Bindable[]): boolean {
  return M % 4 === 0 && N % 4 === 0 && K % 4 === 0 && buffers.every((b) => b.size % 16 === 0);
}

/**
 * `tiles` overrides the automatic choice (tests use it to show that every tile shape gives
 * bit-identical sums); the backend never passes it.
 */
export function matmul(be: WebGPUBackend, a: Tensor, b: Tensor, opts: MatmulOpts, tiles?: MatmulTiles): Tensor {
  const { batch, M, K, N, bBatched, outShape } = matmulDims(a.shape, b.shape, opts);
  if (a.dtype !== 'f32' || b.dtype !== 'f32')
    throw new Error(`matmul: f32 inputs expected, got ${a.dtype} and ${b.dtype}`);
  const out = be.empty(outShape, 'f32');
  if (batch === 0 || M === 0 || N === 0) return out;

  const limits = be.rt.limits;
  const tuning = tuningOf(be.rt);
  const f16 = tilePrecision(be) === 'f16';
  const { wgX, wgY } = tiles ?? gridThreads(M, N, batch, tuning);
  // The deepest K tile whose workgroup memory the device grants (fewer barriers per K).
  const tk = kTile(be, wgX, wgY, f16, tiles?.tk);
  const tilesX = Math.ceil(N / (8 * wgX));
  const tilesY = Math.ceil(M / (8 * wgY));
  const { splits, kChunk } = splitOf(M, N, K, batch, tiles);
  const total = batch * M * N;
  // With split-K the kernel writes one partial product per chunk: scratch [splits, ...batch, M, N].
  const target = splits > 1 ? be.empty([splits * total], 'f32') : out;
  const buffers = [be.buf(a), be.buf(b), be.buf(target)];
  const vec4 = (tiles?.vec4 ?? tuning.vec4) && vec4Eligible(M, N, K, buffers);
  be.rt.record({
    kernel: f16 ? (vec4 ? MATMUL_F16_VEC4 : MATMUL_F16) : vec4 ? MATMUL_VEC4 : MATMUL,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk, TRANS_A: opts.transA ? 1 : 0, TRANS_B: opts.transB ? 1 : 0 },
    buffers,
    uniform: packUniforms('uuuuuuuu', [M, N, K, batch, M * K, bBatched ? K * N : 0, kChunk, splits]),
    workgroups: [tilesX, tilesY, Math.min(batch * splits, limits.maxComputeWorkgroupsPerDimension)],
  });
  if (splits > 1) {
    be.rt.record({
      kernel: SPLITK_SUM,
      buffers: [be.buf(target), be.buf(out)],
      uniform: packUniforms('uu', [total, splits]),
      workgroups: grid1d(total, 256, limits.maxComputeWorkgroupsPerDimension),
    });
    target.dispose(); // reusable only after this flush's work is submitted (see BufferPool)
  }
  return out;
}

/**
 * The K-tile depth for a thread grid on this backend's tile path: `tk` when given, else the
 * deepest of the adapter's candidates whose workgroup memory the device grants (fewer barriers
 * per K). Throws, naming the sizes, when it does not fit.
 */
function kTile(be: WebGPUBackend, wgX: number, wgY: number, f16: boolean, tk?: number): number {
  const limit = be.rt.limits.maxComputeWorkgroupStorageSize;
  const shared = (t: number) => sharedBytes(wgX, wgY, t, f16 ? 8 : 16);
  const t = tk ?? tuningOf(be.rt).tk.find((c) => shared(c) <= limit) ?? 8;
  if (shared(t) > limit) {
    throw new Error(
      `matmul: tiles ${wgX}x${wgY} threads with TK=${t} need ${shared(t)} bytes of workgroup memory; the device allows ${limit}`,
    );
  }
  return t;
}

/**
 * One thread grid for the products of one multi dispatch: each dim as large as the largest
 * product needs (chooseThreads's rule), halved while all the products together have too few
 * workgroups, then covered (coverThreads). The sums do not depend on the choice.
 */
export function chooseMultiThreads(
  dims: Array<{ M: number; N: number }>,
  tuning: Pick<MatmulTuning, 'maxThreads' | 'minGroups'> = DEFAULT_TUNING,
): { wgX: number; wgY: number } {
  const need = (d: number) => Math.min(d <= 32 ? 4 : d <= 64 ? 8 : 16, tuning.maxThreads);
  let wgX = Math.max(...dims.map((d) => need(d.N)));
  let wgY = Math.max(...dims.map((d) => need(d.M)));
  const groups = () => dims.reduce((n, d) => n + Math.ceil(d.N / (8 * wgX)) * Math.ceil(d.M / (8 * wgY)), 0);
  while (groups() < tuning.minGroups && (wgX > 8 || wgY > 8)) {
    if (wgX >= wgY) wgX /= 2;
    else wgY /= 2;
  }
  const max = tuning.maxThreads;
  return {
    wgX: coverThreads(
      dims.map((d) => d.N),
      wgX,
      max,
    ),
    wgY: coverThreads(
      dims.map((d) => d.M),
      wgY,
      max,
    ),
  };
}

/**
 * A product of a multi dispatch: a MatmulProduct, and its SwiGLU form where it has one. With
 * `aU` (`bU`) the product's A (B) is silu(a)·aU (silu(b)·bU): `a` (`b`) holds G. With `gate` the
 * k-sum is dy of swiglu(gate.g, gate.u) and the dispatch returns dg (the product's output) and
 * du (its `extra`); no acc.
 */
interface FusedProduct extends MatmulProduct {
  aU?: Tensor;
  bU?: Tensor;
  gate?: { g: Tensor; u: Tensor };
}

const formOf = (p: FusedProduct): OperandForm => ({
  acc: !!p.acc,
  ...(p.aU ? { a: 'swiglu' as const } : {}),
  ...(p.bU ? { b: 'swiglu' as const } : {}),
  ...(p.gate ? { c: 'swiglu' as const } : {}),
});

/** A product the multi kernel takes: 2-D, nonempty, and one that `matmul` would not split over K. */
function multiEligible(p: MatmulProduct): boolean {
  if (p.a.shape.length !== 2 || p.b.shape.length !== 2) return false;
  if (p.a.dtype !== 'f32' || p.b.dtype !== 'f32') return false;
  const { M, K, N } = matmulDims(p.a.shape, p.b.shape, p.opts);
  if (M === 0 || N === 0) return false;
  return splitOf(M, N, K, 1).splits === 1;
}

/** matmul + add: the products the multi kernel does not take. */
function separate(be: WebGPUBackend, p: MatmulProduct): Tensor {
  const c = matmul(be, p.a, p.b, p.opts);
  if (!p.acc) return c;
  const sum = be.add(p.acc, c);
  c.dispose();
  return sum;
}

/** One dispatch of the multi kernel for one or two eligible products: their outputs, and du for a `gate` product. */
function multiDispatch(
  be: WebGPUBackend,
  ps: FusedProduct[],
  tiles?: MatmulTiles,
): { outs: Tensor[]; extras: Array<Tensor | null> } {
  const tuning = tuningOf(be.rt);
  const f16 = tilePrecision(be) === 'f16';
  const dims = ps.map((p) => matmulDims(p.a.shape, p.b.shape, p.opts));
  const { wgX, wgY } = tiles ?? chooseMultiThreads(dims, tuning);
  const tk = kTile(be, wgX, wgY, f16, tiles?.tk);
  const outs = dims.map((d) => be.empty(d.outShape, 'f32'));
  const extras = ps.map((p, i) => (p.gate ? be.empty(dims[i].outShape, 'f32') : null));
  const buffers: Bindable[] = [];
  const overrides: Record<string, number> = { WG_X: wgX, WG_Y: wgY, TK: tk };
  type Block = [number, number, number, number, number, number, number, number];
  const params: [Block, Block] = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
  ];
  let total = 0;
  ps.forEach((p, i) => {
    const { M, K, N } = dims[i];
    // formBindings's order (matmul_operands.wgsl's binding slots).
    const bound = [p.a, p.b, outs[i], p.acc, p.aU, p.bU, p.gate?.g, p.gate?.u, extras[i]];
    for (const t of bound) if (t) buffers.push(be.buf(t));
    overrides[`TRANS_A_${i + 1}`] = p.opts.transA ? 1 : 0;
    overrides[`TRANS_B_${i + 1}`] = p.opts.transB ? 1 : 0;
    const tilesX = Math.ceil(N / (8 * wgX));
    const count = tilesX * Math.ceil(M / (8 * wgY));
    params[i] = [M, N, K, tilesX, count, 0, 0, 0];
    total += count;
  });
  const vec4 =
    (tiles?.vec4 ?? tuning.vec4) &&
    dims.every((d) => vec4Eligible(d.M, d.N, d.K, [])) &&
    buffers.every((b) => b.size % 16 === 0);
  const maxDim = be.rt.limits.maxComputeWorkgroupsPerDimension;
  const x = Math.min(total, maxDim);
  be.rt.record({
    kernel: multiKernel(ps.map(formOf), f16 ? 'f16' : 'f32', vec4),
    overrides,
    buffers,
    uniform: packUniforms('uuuuuuuuuuuuuuuu', [...params[0], ...params[1]]),
    workgroups: [x, Math.ceil(total / x), 1],
  });
  return { outs, extras };
}

/**
 * Eligible products in as few multi dispatches as the device's storage-binding limit allows,
 * two at a time in order; `out[i]` / `extra[i]` filled for each.
 */
function runMulti(
  be: WebGPUBackend,
  products: FusedProduct[],
  queue: number[],
  out: Tensor[],
  extra: Array<Tensor | null>,
  tiles?: MatmulTiles,
): void {
  const maxBuffers = be.rt.limits.maxStorageBuffersPerShaderStage;
  const bindings = (i: number) => formBindings(formOf(products[i]));
  const rest = [...queue];
  while (rest.length > 0) {
    const first = rest.shift() as number;
    const group = [first];
    if (rest.length > 0 && bindings(first) + bindings(rest[0]) <= maxBuffers) group.push(rest.shift() as number);
    const res = multiDispatch(
      be,
      group.map((i) => products[i]),
      tiles,
    );
    group.forEach((i, k) => {
      out[i] = res.outs[k];
      extra[i] = res.extras[k];
    });
  }
}

/**
 * Independent products in as few dispatches as the device allows: eligible products two at a
 * time in the multi kernel (its storage bindings within the device's limit), the rest through
 * matmul (+ add). Same bits as matmul + add for every product (see matmul_multi.wgsl).
 * `tiles` overrides the thread grid, as for matmul (tests).
 */
export function matmuls(be: WebGPUBackend, products: MatmulProduct[], tiles?: MatmulTiles): Tensor[] {
  const out: Tensor[] = new Array(products.length);
  const queue: number[] = [];
  products.forEach((p, i) => {
    if (multiEligible(p)) queue.push(i);
    else out[i] = separate(be, p);
  });
  runMulti(be, products, queue, out, [], tiles);
  return out;
}

/**
 * swiglu(g, u) · wᵀ [+ base] (g, u [rows, F]; w [out, F]): the SwiGLU gate computed as the GEMM
 * stages its A tiles — no [rows, F] activation written or read back; one dispatch. The same bits
 * as swiglu then matmuls (the same values into the same k-sums). A product matmul would split
 * over K takes that unfused path.
 */
export function swigluLinear(be: WebGPUBackend, g: Tensor, u: Tensor, w: Tensor, base: Tensor | null): Tensor {
  const p: FusedProduct = { a: g, b: w, opts: { transB: true }, acc: base, aU: u };
  if (!multiEligible(p)) return swigluLinearComposed(be, g, u, w, base);
  const out: Tensor[] = [];
  runMulti(be, [p], [0], out, []);
  return out[0];
}

/**
 * The backward of swigluLinear for dy [rows, out], in one dispatch where the device's bindings
 * allow: dh = dy·w with the gate's backward in its store (dg, du: no dh written), and, when
 * `needW`, dW = [accW +] dyᵀ·swiglu(g, u) with the gate recomputed as the GEMM stages its B
 * tiles. The same bits as matmuls then swigluBackward; a product matmul would split over K takes
 * the unfused path (for dW: the gate written once, then matmul).
 */
export function swigluLinearBackward(
  be: WebGPUBackend,
  g: Tensor,
  u: Tensor,
  w: Tensor,
  dy: Tensor,
  accW: Tensor | null,
  needW: boolean,
): SwigluLinearGrads {
  const dh: FusedProduct = { a: dy, b: w, opts: {}, gate: { g, u } };
  const dw: FusedProduct = { a: dy, b: g, opts: { transA: true }, acc: accW, bU: u };
  const products = needW ? [dh, dw] : [dh];
  const queue = products.map((_, i) => i).filter((i) => multiEligible(products[i]));
  const out: Tensor[] = new Array(products.length);
  const extra: Array<Tensor | null> = [];
  runMulti(be, products, queue, out, extra);
  let dg = out[0];
  let du = extra[0];
  if (!dg || !du) {
    const dhs = matmul(be, dy, w, {});
    ({ dg, du } = be.swigluBackward(g, u, dhs));
    dhs.dispose();
  }
  if (needW && !out[1]) {
    const h = be.swiglu(g, u);
    out[1] = separate(be, { a: dy, b: h, opts: { transA: true }, acc: accW });
    h.dispose();
  }
  return { dg, du, dw: needW ? out[1] : null };
}

export const ops = { matmul, matmuls, swigluLinear, swigluLinearBackward } satisfies WebGPUFamily;
