// Causal attention on WebGPU: flash-attention-style kernels that never materialize the T×T
// score matrix (shaders/attention_fwd.wgsl, attention_bwd_dq/dkdv.wgsl). The fwd, dq and dkdv
// shaders share shaders/attention_common.wgsl (shape uniform, q/k/v bindings, row loaders),
// which is prepended to each of them here.
//
// Forward: one workgroup per (BQ query rows, head, batch), online softmax over key tiles.
// Backward, two dispatches: D = rowsum(dO ∘ O) and dQ (workgroups own query rows: each computes
// and writes D for its rows), then dK/dV (workgroups own key rows of one kv head and loop over
// its query heads; they read D) — every output element has one writer, so no atomics and
// bit-reproducible results. (attention_bwd_prep.wgsl, D on its own, is kept for a test: see
// setAttentionSeparatePrep.)
//
// All three are register-tiled the same way (attention_common.wgsl): a lane owns MR rows × 4
// streamed columns of the score tile and MR rows × NA vec4 chunks of what it accumulates. The
// tiling is chosen here from the head dims and the device's workgroup-memory limit (16 KiB is the
// browser default; a Q/K/V tile costs rows · ceil(d/4) · 16 bytes, 8 with f16 tiles) and passed
// as override constants. Shapes travel in a uniform, so one pipeline serves every sequence
// length and batch for a given (head dims, tiles). Tile precision follows the matmul's
// (tilePrecision: f16 where the run asked for precision.compute = f16 and the device has
// shader-f16), with f32 scores, probabilities and accumulators either way.

import type { AttentionShape } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import dkdvSrc from '../../../shaders/attention_bwd_dkdv.wgsl?raw';
import dqSrc from '../../../shaders/attention_bwd_dq.wgsl?raw';
import prepSrc from '../../../shaders/attention_bwd_prep.wgsl?raw';
import commonSrc from '../../../shaders/attention_common.wgsl?raw';
import fwdSrc from '../../../shaders/attention_fwd.wgsl?raw';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { tilePrecision } from './matmul';
import { grid1d, packUniforms } from './runtime';

type TilePrecision = 'f32' | 'f16';
/** The line before attention_common.wgsl naming the tiles' element type AT (see its "Tile precision"). */
const PRELUDE: Record<TilePrecision, string> = { f32: 'alias AT = f32;', f16: 'enable f16;\nalias AT = f16;' };

/** A kernel whose shader builds on attention_common.wgsl, with f32 or f16 tiles. */
function tiled(name: string, src: string): Record<TilePrecision, Kernel> {
  const make = (t: TilePrecision): Kernel => ({
    name: t === 'f32' ? name : `${name}_f16`,
    code: `${PRELUDE[t]}\n${commonSrc}\n${src}`,
    entry: 'main',
  });
  return { f32: make('f32'), f16: make('f16') };
}

const FWD = tiled('attention_fwd', fwdSrc);
const PREP: Kernel = { name: 'attention_bwd_prep', code: prepSrc, entry: 'main' };
const DQ = tiled('attention_bwd_dq', dqSrc);
const DKDV = tiled('attention_bwd_dkdv', dkdvSrc);

export type AttentionKernelKind = 'fwd' | 'dq' | 'dkdv';

/** Private-array bounds of attention_common.wgsl: MR ≤ MR_MAX, MR·NA ≤ ACC (and MR·NB ≤ ACC). */
const MR_MAX = 4;
const ACC = 32;
/** Register tilings (MR rows per lane, NR row groups, NC column lanes), best first. */
const TILE_CANDIDATES: ReadonlyArray<[number, number, number]> = [
  [4, 8, 8],
  [4, 4, 8],
  [2, 8, 8],
  [4, 8, 4],
  [2, 8, 4],
  [2, 4, 4],
  [1, 8, 4],
  [1, 4, 4],
  [1, 8, 2],
  [1, 4, 2],
  [1, 2, 2],
  [1, 1, 1],
];

export interface AttentionTile {
  /** Rows a workgroup owns (MR·NR): query rows (fwd, dq) or key rows (dkdv). */
  rows: number;
  /** Rows per tile it streams through (4·NC): key rows (fwd, dq) or query rows (dkdv). */
  cols: number;
  /** Invocations per workgroup (NR·NC). */
  threads: number;
  /** Workgroup memory the kernel declares, in bytes. */
  bytes: number;
  /** The kernel's override constants (MR, NR, NC, NA, KS, DQ4, DV4; VS for dq and dkdv, NB for dkdv). */
  overrides: Record<string, number>;
}

const roundUp16 = (n: number) => Math.ceil(n / 16) * 16;
const f32s = (n: number) => roundUp16(n * 4);
/** An odd row stride in vec4s: lanes reading one chunk of consecutive rows hit distinct banks. */
const oddStride = (n: number) => (n % 2 === 1 ? n : n + 1);

let budgetOverride: number | null = null;

/**
 * Cap the workgroup memory the attention kernels may use below the device's limit (null: the
 * device's limit). For tests of the small-budget tilings, e.g. the browser default 16384.
 */
export function setAttentionWorkgroupBudget(bytes: number | null): void {
  budgetOverride = bytes;
}

let narrowLanes = true;

/**
 * Tests only: run every kernel with as many lane columns as its tile has (the tiling before the
 * narrow rules: backward kernels no wider than the head's vec4 chunks, the forward two column
 * lanes per thread); both must give the same bits.
 */
export function setAttentionNarrowLanes(on: boolean): void {
  narrowLanes = on;
}

let separatePrep = false;

/**
 * Tests only: run the backward as three dispatches, D by attention_bwd_prep and read by the dQ
 * kernel (D_FROM_PREP), as before the dQ kernel computed it; the fused path must give its bits.
 */
export function setAttentionSeparatePrep(on: boolean): void {
  separatePrep = on;
}

/**
 * Workgroup memory of one kernel's declarations (each variable rounded up to 16 bytes), and its
 * accumulator chunks per lane and row (NA; NB for dkdv's dv).
 */
function kernelNeeds(
  kind: AttentionKernelKind,
  rows: number,
  cols: number,
  nc: number,
  dq4: number,
  dv4: number,
  tileBytes: number,
) {
  const vec4s = (n: number) => roundUp16(n * tileBytes);
  const ks = oddStride(dq4);
  const vs = oddStride(dv4);
  const chunks = (n: number) => Math.ceil(n / nc);
  switch (kind) {
    case 'fwd': // Qs, Ks, Vs, Ps, Mp
      return {
        bytes: vec4s(rows * dq4) + vec4s(cols * ks) + vec4s(cols * dv4) + f32s(rows * cols) + f32s(rows * nc),
        na: chunks(dv4),
        nb: 0,
      };
    case 'dq': // Qs, dOs, Ks, Vs, dSs
      return {
        bytes: vec4s(rows * dq4) + vec4s(rows * dv4) + vec4s(cols * ks) + vec4s(cols * vs) + f32s(rows * cols),
        na: chunks(dq4),
        nb: 0,
      };
    case 'dkdv': // Ks, Vs, Qs, dOs, Ps, dSs, lseS, Dsh
      return {
        bytes:
          vec4s(rows * dq4) +
          vec4s(rows * dv4) +
          vec4s(cols * ks) +
          vec4s(cols * vs) +
          2 * f32s(rows * cols) +
          2 * f32s(cols),
        na: chunks(dq4),
        nb: chunks(dv4),
      };
  }
}

/**
 * The register tiling one attention kernel uses for these head dims on this device, with f32 tiles
 * or f16 ones (a vec4 of 8 bytes: larger tiles fit the same workgroup memory).
 */
export function attentionTile(
  be: WebGPUBackend,
  kind: AttentionKernelKind,
  dQK: number,
  dV: number,
  tiles: TilePrecision = 'f32',
): AttentionTile {
  const lim = be.rt.limits;
  const budget = Math.min(lim.maxComputeWorkgroupStorageSize, budgetOverride ?? Infinity);
  const maxThreads = Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX, 256);
  const dq4 = Math.ceil(dQK / 4);
  const dv4 = Math.ceil(dV / 4);
  for (const [mr, nr, nc] of TILE_CANDIDATES) {
    const rows = mr * nr;
    const cols = 4 * nc;
    const { bytes, na, nb } = kernelNeeds(kind, rows, cols, nc, dq4, dv4, tiles === 'f16' ? 8 : 16);
    if (mr > MR_MAX || mr * Math.max(na, nb) > ACC || nr * nc > maxThreads || bytes > budget) continue;
    // In the backward kernels a lane column owns head-dim chunks tx + NC·a; with more columns than
    // chunks (NC = 8 at head dim 16) half the lanes idle through the accumulation. There NC only
    // sets the depth of the tile walked (dq: keys, dk/dv: queries), and every sum runs over it
    // one term at a time in increasing order, so a narrower NC gives the same bits.
    const narrow = Math.max(dq4, dv4, 4);
    if (narrowLanes && kind !== 'fwd' && nc > narrow) continue;
    // The forward keeps the tile's nc column lanes (they fix where the online softmax rescales,
    // and the grouping of its row sums) but may run two of them per thread (NCV = nc, NC = nc / 2):
    // the same sums in the same order, without the P·V loop's idle lanes.
    const ncRun = narrowLanes && kind === 'fwd' && nc > narrow && nc === 2 * narrow ? narrow : nc;
    const overrides: Record<string, number> = {
      MR: mr,
      NR: nr,
      NC: ncRun,
      NA: ncRun === nc ? na : Math.ceil(dv4 / ncRun),
      KS: oddStride(dq4),
      DQ4: dq4,
      DV4: dv4,
    };
    if (kind === 'fwd') overrides.NCV = nc;
    if (kind !== 'fwd') overrides.VS = oddStride(dv4);
    if (kind === 'dkdv') overrides.NB = nb;
    return { rows, cols, threads: nr * ncRun, bytes, overrides };
  }
  throw new Error(
    `attention: head dims dQK=${dQK}, dV=${dV} need more workgroup memory or invocations than this device allows ` +
      `(${budget} bytes, ${maxThreads} invocations)`,
  );
}

function shapeUniform(s: AttentionShape): ArrayBuffer {
  return packUniforms('uuuuuf', [s.seq, s.heads, s.kvHeads, s.dQK, s.dV, s.scale]);
}

export function attention(
  be: WebGPUBackend,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  s: AttentionShape,
): { o: Tensor; lse: Tensor } {
  const { batch: B, seq: T, heads: H, dQK, dV } = s;
  const o = be.empty([B, T, H, dV]);
  const lse = be.empty([B, H, T]);
  const tiles = tilePrecision(be);
  const t = attentionTile(be, 'fwd', dQK, dV, tiles);
  be.rt.record({
    kernel: FWD[tiles],
    buffers: [be.buf(q), be.buf(k), be.buf(v), be.buf(o), be.buf(lse)],
    uniform: shapeUniform(s),
    workgroups: [Math.ceil(T / t.rows), H, B],
    overrides: t.overrides,
  });
  return { o, lse };
}

export function attentionBackward(
  be: WebGPUBackend,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: Tensor,
  lse: Tensor,
  dO: Tensor,
  s: AttentionShape,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const { batch: B, seq: T, heads: H, kvHeads: Hkv, dQK, dV } = s;

  // D = rowsum(dO ∘ O), [B, H, T]: written by the dQ kernel (by the prep kernel in the test path).
  const D = be.empty([B, H, T]);
  if (separatePrep) {
    const prepWg = 64;
    be.rt.record({
      kernel: PREP,
      buffers: [be.buf(o), be.buf(dO), be.buf(D)],
      uniform: packUniforms('uuuu', [B, T, H, dV]),
      workgroups: grid1d(B * H * T, prepWg, be.rt.limits.maxComputeWorkgroupsPerDimension),
      overrides: { WG: prepWg },
    });
  }

  // (1) D and dQ: workgroups own query rows; the grid gives each (b, h, t) row exactly one.
  const dq = be.empty([B, T, H, dQK]);
  const tiles = tilePrecision(be);
  const tq = attentionTile(be, 'dq', dQK, dV, tiles);
  be.rt.record({
    kernel: DQ[tiles],
    buffers: [q, k, v, dO, lse, D, dq, o].map((t) => be.buf(t)),
    uniform: shapeUniform(s),
    workgroups: [Math.ceil(T / tq.rows), H, B],
    overrides: separatePrep ? { ...tq.overrides, D_FROM_PREP: 1 } : tq.overrides,
  });

  // (2) dK, dV: workgroups own key rows of one kv head.
  const dk = be.empty([B, T, Hkv, dQK]);
  const dv = be.empty([B, T, Hkv, dV]);
  const tk = attentionTile(be, 'dkdv', dQK, dV, tiles);
  be.rt.record({
    kernel: DKDV[tiles],
    buffers: [be.buf(q), be.buf(k), be.buf(v), be.buf(dO), be.buf(lse), be.buf(D), be.buf(dk), be.buf(dv)],
    uniform: shapeUniform(s),
    workgroups: [Math.ceil(T / tk.rows), Hkv, B],
    overrides: tk.overrides,
  });

  D.dispose(); // pooled: reusable only after this flush's work is submitted
  return { dq, dk, dv };
}

export const ops = { attention, attentionBackward } satisfies WebGPUFamily;
