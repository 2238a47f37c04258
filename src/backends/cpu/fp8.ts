// Fine-grained quantization on the CPU reference (spec §3), built on the TS codec twin
// (src/lowp/codec.ts). Layouts: engine/backend.ts QTensor.
//
// The reference works in f32 on purpose: each input is first rounded to f32 (what the GPU holds),
// the tile amax is a max of f32 magnitudes, the scale rule and x / s are correctly rounded f32
// operations, and the codes are integer RNE of those f32 values. That makes the codes and scales
// identical, bit for bit, to the WGSL kernels' (shaders/fp8_quant.wgsl).

import type { QTensor, QuantSpec } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { f32Bits, lowpDecode, pack4, qLayout, quantizeValue, tileScaleBits, bitsToF32, unpack } from '../../lowp/codec';
import type { CpuBackend, CpuFamily } from './backend';

/** [rows, cols] of a tensor taken as a matrix over its last dimension. */
export function matrixDims(t: Tensor): [number, number] {
  if (t.shape.length === 0) throw new Error('quantize: expected a tensor of rank ≥ 1');
  const cols = t.shape[t.shape.length - 1];
  return [cols === 0 ? 0 : t.size / cols, cols];
}

/**
 * Codes and scales of the tile rows [r0, r1) × columns [c0, c0 + B): amax over the real entries
 * (columns < cols), scale by the rule, codes of fround(x / s); padding columns get code 0.
 */
function quantizeTile(
  x: Float64Array,
  cols: number,
  r0: number,
  r1: number,
  c0: number,
  spec: QuantSpec,
  codes: Uint8Array,
  colsPadded: number,
): number {
  const c1 = Math.min(c0 + spec.block, cols);
  let amax = 0;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) amax = Math.max(amax, f32Bits(x[r * cols + c]) & 0x7fffffff);
  const s = bitsToF32(tileScaleBits(amax, spec.format, spec.scale));
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) codes[r * colsPadded + c] = quantizeValue(x[r * cols + c], s, spec.format);
  return s;
}

function packRows(be: CpuBackend, codes: Uint8Array, rows: number, wordsPerRow: number): Tensor {
  const words = new Int32Array(rows * wordsPerRow);
  for (let i = 0; i < words.length; i++)
    words[i] = pack4(codes[4 * i], codes[4 * i + 1], codes[4 * i + 2], codes[4 * i + 3]);
  return be.make([rows, wordsPerRow], words, 'i32');
}

export function quantizeRows(be: CpuBackend, x: Tensor, spec: QuantSpec): QTensor {
  const [rows, cols] = matrixDims(x);
  const L = qLayout(rows, cols, spec.block, 'rows');
  const xd = be.data(x);
  const codes = new Uint8Array(rows * L.colsPadded);
  const scales = new Float64Array(rows * L.nTiles);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < L.nTiles; t++)
      scales[r * L.nTiles + t] = quantizeTile(xd, cols, r, r + 1, t * spec.block, spec, codes, L.colsPadded);
  }
  return {
    codes: packRows(be, codes, rows, L.wordsPerRow),
    scales: be.make([rows, L.nTiles], scales),
    rows,
    cols,
    spec: { ...spec },
    tiling: 'rows',
  };
}

export function quantizeBlocks(be: CpuBackend, w: Tensor, spec: QuantSpec): QTensor {
  const [rows, cols] = matrixDims(w);
  const L = qLayout(rows, cols, spec.block, 'blocks');
  const wd = be.data(w);
  const codes = new Uint8Array(rows * L.colsPadded);
  const scales = new Float64Array(L.scaleRows * L.nTiles);
  for (let br = 0; br < L.scaleRows; br++) {
    const r0 = br * spec.block;
    const r1 = Math.min(r0 + spec.block, rows);
    for (let t = 0; t < L.nTiles; t++)
      scales[br * L.nTiles + t] = quantizeTile(wd, cols, r0, r1, t * spec.block, spec, codes, L.colsPadded);
  }
  return {
    codes: packRows(be, codes, rows, L.wordsPerRow),
    scales: be.make([L.scaleRows, L.nTiles], scales),
    rows,
    cols,
    spec: { ...spec },
    tiling: 'blocks',
  };
}

/** decode(code) · scale, rounded to f32 like the kernel's product. */
export function dequantize(be: CpuBackend, q: QTensor): Tensor {
  const { rows, cols, spec } = q;
  const L = qLayout(rows, cols, spec.block, q.tiling);
  const words = be.ints(q.codes);
  const sc = be.data(q.scales);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const sr = q.tiling === 'rows' ? r : Math.floor(r / spec.block);
    for (let c = 0; c < cols; c++) {
      const code = unpack(words[r * L.wordsPerRow + (c >> 2)], c & 3);
      out[r * cols + c] = Math.fround(lowpDecode(code, spec.format) * sc[sr * L.nTiles + Math.floor(c / spec.block)]);
    }
  }
  return be.make([rows, cols], out);
}

/** x [rows, cols] (as a matrix over its last dimension) transposed: a new [cols, rows] tensor. */
function transposed(be: CpuBackend, x: Tensor): Tensor {
  const [rows, cols] = matrixDims(x);
  const xd = be.data(x);
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = xd[r * cols + c];
  return be.make([cols, rows], t);
}

/** Q_rows(xᵀ): x [rows, cols] quantized as its transpose [cols, rows] in 1×B tiles (along rows of x). */
export function quantizeRowsT(be: CpuBackend, x: Tensor, spec: QuantSpec): QTensor {
  return quantizeRows(be, transposed(be, x), spec);
}

/** [Q_blocks(w), Q_blocks(wᵀ)]: the weight and its transpose in B×B blocks. */
export function quantizeBlocksPair(be: CpuBackend, w: Tensor, spec: QuantSpec): [QTensor, QTensor] {
  return [quantizeBlocks(be, w, spec), quantizeBlocks(be, transposed(be, w), spec)];
}

/** quantizeBlocksPair of each weight. */
export function quantizeBlocksPairs(be: CpuBackend, ws: readonly Tensor[], spec: QuantSpec): Array<[QTensor, QTensor]> {
  return ws.map((w) => quantizeBlocksPair(be, w, spec));
}

/** [Q_rows(w), Q_rows(wᵀ)] of each weight. */
export function quantizeRowsPairs(be: CpuBackend, ws: readonly Tensor[], spec: QuantSpec): Array<[QTensor, QTensor]> {
  return ws.map((w) => [quantizeRows(be, w, spec), quantizeRowsT(be, w, spec)]);
}

export const ops = {
  quantizeRows,
  quantizeRowsT,
  quantizeBlocks,
  quantizeBlocksPair,
  quantizeBlocksPairs,
  quantizeRowsPairs,
  dequantize,
} satisfies CpuFamily;
