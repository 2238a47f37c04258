// Fine-grained quantization on the GPU (shaders/fp8_quant.wgsl with shaders/fp8_codec.wgsl
// prepended). Layouts: engine/backend.ts QTensor. Formats, rules and shapes go in uniforms, so
// each entry point is one pipeline.
//
//  quantizeRows:   1×B tiles, one thread per tile (amax, scale, encode; no barriers), WG = 64
//                  threads per workgroup; 1-D grid over rows × tiles, folded into 2-D past the
//                  per-dimension limit.
//  quantizeBlocks: one workgroup (WGB = 256 threads) per B×B block: strided amax, tree, encode.
//  dequantize:     one thread per element.
// The quantize path is integer-only (see the shader), so it matches the CPU bit for bit.

import codecSrc from '../../../shaders/fp8_codec.wgsl?raw';
import quantSrc from '../../../shaders/fp8_quant.wgsl?raw';
import type { QTensor, QuantSpec } from '../../engine/backend';
import { SLICE_ALIGN } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { formatId, qLayout, ruleId } from '../../lowp/codec';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel, Overrides } from './pipelines';
import { BufferRange, grid1d, packUniforms } from './runtime';

/** The shared codec, for kernels that prepend it (the GEMM does too). */
export const FP8_CODEC_WGSL: string = codecSrc;

const CODE = `${codecSrc}\n${quantSrc}`;
const QROWS: Kernel = { name: 'fp8_quant', code: CODE, entry: 'quantize_rows' };
const QBLOCKS: Kernel = { name: 'fp8_quant', code: CODE, entry: 'quantize_blocks' };
const DEQUANT: Kernel = { name: 'fp8_quant', code: CODE, entry: 'dequantize' };
const QPAIR: Kernel = { name: 'fp8_quant', code: CODE, entry: 'quantize_blocks_pair' };
const QPAIRS: Kernel = { name: 'fp8_quant', code: CODE, entry: 'quantize_blocks_pairs' };
const QROWS_MULTI: Kernel = { name: 'fp8_quant', code: CODE, entry: 'quantize_rows_multi' };

const WG = 64;
const WGB = 256;
const WGD = 256;

function matrixDims(t: Tensor): [number, number] {
  if (t.shape.length === 0) throw new Error('quantize: expected a tensor of rank ≥ 1');
  const cols = t.shape[t.shape.length - 1];
  return [cols === 0 ? 0 : t.size / cols, cols];
}

/** A QTensor of its parts (the spec copied). */
const qtensor = (
  codes: Tensor,
  scales: Tensor,
  rows: number,
  cols: number,
  spec: QuantSpec,
  tiling: 'rows' | 'blocks',
): QTensor => ({
  codes,
  scales,
  rows,
  cols,
  spec: { ...spec },
  tiling,
});

function quantize(
  be: WebGPUBackend,
  x: Tensor,
  spec: QuantSpec,
  tiling: 'rows' | 'blocks',
  transpose = false,
): QTensor {
  if (x.dtype !== 'f32') throw new Error(`quantize: expected f32 input, got ${x.dtype}`);
  const [xr, xc] = matrixDims(x);
  const [rows, cols] = transpose ? [xc, xr] : [xr, xc];
  const L = qLayout(rows, cols, spec.block, tiling);
  const codes = be.empty([rows, L.wordsPerRow], 'i32');
  const scales = be.empty([L.scaleRows, L.nTiles]);
  if (rows > 0 && cols > 0) {
    const maxDim = be.rt.limits.maxComputeWorkgroupsPerDimension;
    const uniform = packUniforms('uuuuuuu', [
      rows,
      cols,
      L.wordsPerRow,
      L.nTiles,
      spec.block,
      formatId(spec.format),
      ruleId(spec.scale),
    ]);
    const buffers = [be.buf(x), be.buf(codes), be.buf(scales)];
    if (tiling === 'rows') {
      const overrides: Overrides = transpose ? { WG, TRANS: 1 } : { WG };
      be.rt.record({ kernel: QROWS, overrides, buffers, uniform, workgroups: grid1d(rows * L.nTiles, WG, maxDim) });
    } else {
      if (L.nTiles > maxDim || L.scaleRows > maxDim)
        throw new Error(`quantizeBlocks: ${L.scaleRows}×${L.nTiles} blocks exceed the workgroup grid`);
      be.rt.record({ kernel: QBLOCKS, overrides: { WGB }, buffers, uniform, workgroups: [L.nTiles, L.scaleRows, 1] });
    }
  }
  return qtensor(codes, scales, rows, cols, spec, tiling);
}

export function quantizeRows(be: WebGPUBackend, x: Tensor, spec: QuantSpec): QTensor {
  return quantize(be, x, spec, 'rows');
}

export function quantizeBlocks(be: WebGPUBackend, w: Tensor, spec: QuantSpec): QTensor {
  return quantize(be, w, spec, 'blocks');
}

/** Q_rows(xᵀ) for x [rows, cols]: quantize_rows reading x transposed (TRANS = 1). */
export function quantizeRowsT(be: WebGPUBackend, x: Tensor, spec: QuantSpec): QTensor {
  return quantize(be, x, spec, 'rows', true);
}

/** [Q_blocks(w), Q_blocks(wᵀ)] from one quantize_blocks_pair dispatch. */
export function quantizeBlocksPair(be: WebGPUBackend, w: Tensor, spec: QuantSpec): [QTensor, QTensor] {
  if (w.dtype !== 'f32') throw new Error(`quantize: expected f32 input, got ${w.dtype}`);
  const [rows, cols] = matrixDims(w);
  const L = qLayout(rows, cols, spec.block, 'blocks');
  const T = qLayout(cols, rows, spec.block, 'blocks');
  const codes = be.empty([rows, L.wordsPerRow], 'i32');
  const scales = be.empty([L.scaleRows, L.nTiles]);
  const codesT = be.empty([cols, T.wordsPerRow], 'i32');
  const scalesT = be.empty([T.scaleRows, T.nTiles]);
  if (rows > 0 && cols > 0) {
    const maxDim = be.rt.limits.maxComputeWorkgroupsPerDimension;
    if (L.nTiles > maxDim || L.scaleRows > maxDim)
      throw new Error(`quantizeBlocksPair: ${L.scaleRows}×${L.nTiles} blocks exceed the workgroup grid`);
    be.rt.record({
      kernel: QPAIR,
      overrides: { WGB },
      buffers: [be.buf(w), be.buf(codes), be.buf(scales), be.buf(codesT), be.buf(scalesT)],
      uniform: packUniforms('uuuuuuuuu', [
        rows,
        cols,
        L.wordsPerRow,
        L.nTiles,
        spec.block,
        formatId(spec.format),
        ruleId(spec.scale),
        T.wordsPerRow,
        T.nTiles,
      ]),
      workgroups: [L.nTiles, L.scaleRows, 1],
    });
  }
  return [qtensor(codes, scales, rows, cols, spec, 'blocks'), qtensor(codesT, scalesT, cols, rows, spec, 'blocks')];
}

/** Words per PSeg record of quantize_blocks_pairs, and per RowJob of quantize_rows_multi. */
const PSEG_WORDS = 12;
const ROWJOB_WORDS = 9;

/**
 * The buffer that holds every weight, and each weight's element offset in it — when they are
 * all non-empty f32 slices of one buffer small enough to bind whole (the parameter arena), else
 * null (the multi-weight quantizers then take one dispatch per weight).
 */
function arenaOf(be: WebGPUBackend, ws: readonly Tensor[]): { src: GPUBuffer; x0: number[] } | null {
  for (const w of ws) if (w.dtype !== 'f32') throw new Error(`quantize: expected f32 input, got ${w.dtype}`);
  if (ws.length < 2 || ws.some((w) => w.size === 0)) return null;
  const bufs = ws.map((w) => be.buf(w));
  const base = (b: (typeof bufs)[number]) => (b instanceof BufferRange ? b.buffer : b);
  const src = base(bufs[0]);
  if (src.size > be.rt.limits.maxStorageBufferBindingSize || bufs.some((b) => base(b) !== src)) return null;
  return { src, x0: bufs.map((b) => (b instanceof BufferRange ? b.offset : 0) / 4) };
}

/** Outputs packed into shared buffers: the next free (aligned) element of each. */
class Packer {
  readonly ends: number[];
  constructor(kinds: number) {
    this.ends = new Array<number>(kinds).fill(0);
  }
  /** Room for n elements of output kind k: its offset. */
  take(k: number, n: number): number {
    const at = this.ends[k];
    this.ends[k] = Math.ceil((at + n) / SLICE_ALIGN) * SLICE_ALIGN;
    return at;
  }
}

/** The buffer a carved part lies in (to bind the whole of it). */
const carvedBuffer = (be: WebGPUBackend, t: Tensor) => (be.buf(t) as BufferRange).buffer;

/**
 * quantizeBlocksPair for every weight in one dispatch (quantize_blocks_pairs), when they are
 * slices of one buffer (a parameter arena): each block's workgroup looks its weight up in a table
 * of segments; the outputs are carved from four buffers (one per output kind), each a tensor of
 * its own. The same bits as one quantizeBlocksPair per weight, which is what weights in separate
 * buffers (or empty ones) get.
 */
export function quantizeBlocksPairs(
  be: WebGPUBackend,
  ws: readonly Tensor[],
  spec: QuantSpec,
): Array<[QTensor, QTensor]> {
  const arena = arenaOf(be, ws);
  if (!arena) return ws.map((w) => quantizeBlocksPair(be, w, spec));
  const pack = new Packer(4); // codes, scales, codesT, scalesT
  const table = new Int32Array(PSEG_WORDS * ws.length);
  let blocks = 0;
  const geo = ws.map((w, i) => {
    const [rows, cols] = matrixDims(w);
    const L = qLayout(rows, cols, spec.block, 'blocks');
    const T = qLayout(cols, rows, spec.block, 'blocks');
    const shapes = [
      [rows, L.wordsPerRow],
      [L.scaleRows, L.nTiles],
      [cols, T.wordsPerRow],
      [T.scaleRows, T.nTiles],
    ];
    const at = shapes.map(([a, b], k) => pack.take(k, a * b));
    table.set(
      [blocks, rows, cols, L.wordsPerRow, L.nTiles, T.wordsPerRow, T.nTiles, arena.x0[i], ...at],
      PSEG_WORDS * i,
    );
    blocks += L.nTiles * L.scaleRows;
    return { rows, cols, shapes, at };
  });
  const out = [0, 1, 2, 3].map((k) =>
    be.carve(
      pack.ends[k],
      geo.map((g) => ({
        offset: g.at[k],
        shape: g.shapes[k],
        dtype: k % 2 === 0 ? ('i32' as const) : ('f32' as const),
      })),
    ),
  );
  const segs = be.fromArray(table, [ws.length, PSEG_WORDS], 'i32');
  be.rt.record({
    kernel: QPAIRS,
    overrides: { WGB },
    buffers: [arena.src, ...out.map((parts) => carvedBuffer(be, parts[0])), be.buf(segs)],
    uniform: packUniforms('uuuuu', [spec.block, formatId(spec.format), ruleId(spec.scale), ws.length, blocks]),
    workgroups: grid1d(blocks, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  segs.dispose();
  return geo.map((g, i) => [
    qtensor(out[0][i], out[1][i], g.rows, g.cols, spec, 'blocks'),
    qtensor(out[2][i], out[3][i], g.cols, g.rows, spec, 'blocks'),
  ]);
}

/**
 * [Q_rows(w), Q_rows(wᵀ)] of every weight (wᵀ read in place, as quantizeRowsT), in one dispatch
 * (quantize_rows_multi) when they are slices of one buffer: thread t takes tile t of the
 * concatenated jobs (two per weight). The same bits as quantizeRows and quantizeRowsT per weight,
 * which is what weights in separate buffers (or empty ones) get.
 */
export function quantizeRowsPairs(
  be: WebGPUBackend,
  ws: readonly Tensor[],
  spec: QuantSpec,
): Array<[QTensor, QTensor]> {
  const arena = arenaOf(be, ws);
  if (!arena) return ws.map((w) => [quantizeRows(be, w, spec), quantizeRowsT(be, w, spec)]);
  const pack = new Packer(2); // codes, scales (of w and wᵀ alike)
  const table = new Int32Array(ROWJOB_WORDS * 2 * ws.length);
  let tiles = 0;
  const jobs = ws.flatMap((w, i) => {
    const [wr, wc] = matrixDims(w);
    return [0, 1].map((trans) => {
      const [rows, cols] = trans ? [wc, wr] : [wr, wc];
      const L = qLayout(rows, cols, spec.block, 'rows');
      const shapes = [
        [rows, L.wordsPerRow],
        [rows, L.nTiles],
      ];
      const at = shapes.map(([a, b], k) => pack.take(k, a * b));
      const j = 2 * i + trans;
      table.set([tiles, rows, cols, L.wordsPerRow, L.nTiles, trans, arena.x0[i], ...at], ROWJOB_WORDS * j);
      tiles += rows * L.nTiles;
      return { rows, cols, shapes, at };
    });
  });
  const out = [0, 1].map((k) =>
    be.carve(
      pack.ends[k],
      jobs.map((g) => ({ offset: g.at[k], shape: g.shapes[k], dtype: k === 0 ? ('i32' as const) : ('f32' as const) })),
    ),
  );
  const jobsT = be.fromArray(table, [jobs.length, ROWJOB_WORDS], 'i32');
  be.rt.record({
    kernel: QROWS_MULTI,
    overrides: { WG },
    buffers: [arena.src, carvedBuffer(be, out[0][0]), carvedBuffer(be, out[1][0]), be.buf(jobsT)],
    uniform: packUniforms('uuuuu', [spec.block, formatId(spec.format), ruleId(spec.scale), jobs.length, tiles]),
    workgroups: grid1d(tiles, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  jobsT.dispose();
  const q = (j: number) => qtensor(out[0][j], out[1][j], jobs[j].rows, jobs[j].cols, spec, 'rows');
  return ws.map((_, i) => [q(2 * i), q(2 * i + 1)]);
}

export function dequantize(be: WebGPUBackend, q: QTensor): Tensor {
  const { rows, cols, spec } = q;
  const L = qLayout(rows, cols, spec.block, q.tiling);
  const out = be.empty([rows, cols]);
  const n = rows * cols;
  if (n > 0) {
    be.rt.record({
      kernel: DEQUANT,
      overrides: { WGD },
      buffers: [be.buf(q.codes), be.buf(q.scales), be.buf(out)],
      uniform: packUniforms('uuuuuuu', [
        rows,
        cols,
        L.wordsPerRow,
        L.nTiles,
        spec.block,
        formatId(spec.format),
        q.tiling === 'blocks' ? 1 : 0,
      ]),
      workgroups: grid1d(n, WGD, be.rt.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  return out;
}

export const ops = {
  quantizeRows,
  quantizeRowsT,
  quantizeBlocks,
  quantizeBlocksPair,
  quantizeBlocksPairs,
  quantizeRowsPairs,
  dequantize,
} satisfies WebGPUFamily;
