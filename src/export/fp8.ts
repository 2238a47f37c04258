// Block-scaled FP8 weights as DeepSeek-V3 ships them: an E4M3 weight `W` [out, in] and beside it
// `W_scale_inv` (name: `<…>.weight_scale_inv`), f32 [ceil(out/128), ceil(in/128)], one scale per
// 128×128 block (the last row/column of blocks may be partial). Dequantize as
//
//   W[r, c] ≈ decode(code[r, c]) · scale_inv[⌊r/128⌋, ⌊c/128⌋]
//
// The scale of a block is V3's rule (spec §3), computed with the lab's own codec (lowp/codec.ts)
// so the codes are the ones our FP8 kernels would produce for the same block:
//   s = fround(max(amax, 1e-4) / 448),   code = RNE_sat_E4M3(fround(x / s)).
// `scale_inv` is the name DeepSeek uses for this s (what the codes are multiplied by).

import { bitsToF32, dequantizeValue, f32Bits, quantizeValue, tileScaleBits } from '../lowp/codec';

/** Block edge of DeepSeek-V3's FP8 checkpoints (quantization_config.weight_block_size). */
export const FP8_BLOCK: readonly [number, number] = [128, 128];

export function scaleShape(rows: number, cols: number, block: readonly [number, number] = FP8_BLOCK): [number, number] {
  return [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])];
}

/**
 * Quantize w [rows, cols] (f32, row-major) to E4M3 codes with one f32 scale per block.
 * Non-finite weights cannot be represented: the error names the first one.
 */
export function quantizeBlocks(
  w: Float32Array,
  rows: number,
  cols: number,
  block: readonly [number, number] = FP8_BLOCK,
): { codes: Uint8Array; scaleInv: Float32Array } {
  const [br, bc] = block;
  const [sr, sc] = scaleShape(rows, cols, block);
  const codes = new Uint8Array(rows * cols);
  const scaleInv = new Float32Array(sr * sc);
  for (let bi = 0; bi < sr; bi++) {
    const r0 = bi * br;
    const r1 = Math.min(rows, r0 + br);
    for (let bj = 0; bj < sc; bj++) {
      const c0 = bj * bc;
      const c1 = Math.min(cols, c0 + bc);
      // amax as f32 magnitude bits (monotone in the value), like the kernels.
      let amaxBits = 0;
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          const x = w[r * cols + c];
          if (!Number.isFinite(x)) throw new Error(`non-finite weight ${x} at [${r}, ${c}]: FP8 cannot represent it`);
          amaxBits = Math.max(amaxBits, f32Bits(x) & 0x7fffffff);
        }
      }
      const s = bitsToF32(tileScaleBits(amaxBits, 'e4m3', 'f32'));
      scaleInv[bi * sc + bj] = s;
      for (let r = r0; r < r1; r++)
        for (let c = c0; c < c1; c++) codes[r * cols + c] = quantizeValue(w[r * cols + c], s, 'e4m3');
    }
  }
  return { codes, scaleInv };
}

/** Inverse of quantizeBlocks: fround(decode(code) · scale_inv of its block). */
export function dequantizeBlocks(
  codes: Uint8Array,
  scaleInv: Float32Array,
  rows: number,
  cols: number,
  block: readonly [number, number] = FP8_BLOCK,
): Float32Array {
  const [br, bc] = block;
  const sc = Math.ceil(cols / bc);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const srow = Math.floor(r / br) * sc;
    for (let c = 0; c < cols; c++)
      out[r * cols + c] = dequantizeValue(codes[r * cols + c], scaleInv[srow + Math.floor(c / bc)], 'e4m3');
  }
  return out;
}
