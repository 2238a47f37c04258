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

const WG = 64;
const WGB = 256;
const WGD = 256;

function matrixDims(t: Tensor): [number, number] {
  if (t.shape.length === 0) throw new Error('quantize: expected a tensor of rank ≥ 1');
  const cols = t.shape[t.shape.length - 1];
  return [cols === 0 ? 0 : t.size / cols, cols];
}

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
  return { codes, scales, rows, cols, spec: { ...spec }, tiling };
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
  const q = (c: Tensor, s: Tensor, r: number, k: number): QTensor => ({
    codes: c,
    scales: s,
    rows: r,
    cols: k,
    spec: { ...spec },
    tiling: 'blocks',
  });
  return [q(codes, scales, rows, cols), q(codesT, scalesT, cols, rows)];
}

/** Words per PSeg record of shaders/fp8_quant.wgsl's quantize_blocks_pairs. */
const PSEG_WORDS = 12;

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
  for (const w of ws) if (w.dtype !== 'f32') throw new Error(`quantize: expected f32 input, got ${w.dtype}`);
  const bufs = ws.map((w) => be.buf(w));
  const base = (b: (typeof bufs)[number]) => (b instanceof BufferRange ? b.buffer : b);
  const src = ws.length > 0 ? base(bufs[0]) : null;
  const oneBuffer =
    src !== null &&
    src.size <= be.rt.limits.maxStorageBufferBindingSize &&
    bufs.every((b) => base(b) === src) &&
    ws.every((w) => w.size > 0);
  if (!oneBuffer || ws.length < 2) return ws.map((w) => quantizeBlocksPair(be, w, spec));

  const align = (n: number) => Math.ceil(n / SLICE_ALIGN) * SLICE_ALIGN;
  const ends = [0, 0, 0, 0]; // next free element of codes, scales, codesT, scalesT
  const table = new Int32Array(PSEG_WORDS * ws.length);
  let blocks = 0;
  const geo = ws.map((w, i) => {
    const [rows, cols] = matrixDims(w);
    const L = qLayout(rows, cols, spec.block, 'blocks');
    const T = qLayout(cols, rows, spec.block, 'blocks');
    const sizes = [rows * L.wordsPerRow, L.scaleRows * L.nTiles, cols * T.wordsPerRow, T.scaleRows * T.nTiles];
    const at = ends.map((e) => e);
    sizes.forEach((n, k) => {
      ends[k] = align(at[k] + n);
    });
    const b = bufs[i];
    const x0 = (b instanceof BufferRange ? b.offset : 0) / 4;
    table.set([blocks, rows, cols, L.wordsPerRow, L.nTiles, T.wordsPerRow, T.nTiles, x0, ...at], PSEG_WORDS * i);
    blocks += L.nTiles * L.scaleRows;
    return { rows, cols, L, T, at };
  });
  const carve = (k: number, shape: (g: (typeof geo)[number]) => number[], dtype: 'i32' | 'f32') =>
    be.carve(
      ends[k],
      geo.map((g) => ({ offset: g.at[k], shape: shape(g), dtype })),
    );
  const codes = carve(0, (g) => [g.rows, g.L.wordsPerRow], 'i32');
  const scales = carve(1, (g) => [g.L.scaleRows, g.L.nTiles], 'f32');
  const codesT = carve(2, (g) => [g.cols, g.T.wordsPerRow], 'i32');
  const scalesT = carve(3, (g) => [g.T.scaleRows, g.T.nTiles], 'f32');
  const segs = be.fromArray(table, [ws.length, PSEG_WORDS], 'i32');
  const whole = (ts: Tensor[]) => (be.buf(ts[0]) as BufferRange).buffer;
  be.rt.record({
    kernel: QPAIRS,
    overrides: { WGB },
    buffers: [src, whole(codes), whole(scales), whole(codesT), whole(scalesT), be.buf(segs)],
    uniform: packUniforms('uuuuu', [spec.block, formatId(spec.format), ruleId(spec.scale), ws.length, blocks]),
    workgroups: grid1d(blocks, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  segs.dispose();
  const q = (c: Tensor, sc: Tensor, r: number, k: number): QTensor => ({
    codes: c,
    scales: sc,
    rows: r,
    cols: k,
    spec: { ...spec },
    tiling: 'blocks',
  });
  return geo.map((g, i) => [q(codes[i], scales[i], g.rows, g.cols), q(codesT[i], scalesT[i], g.cols, g.rows)]);
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
  dequantize,
} satisfies WebGPUFamily;
