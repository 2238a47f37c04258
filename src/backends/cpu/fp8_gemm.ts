// Block-scaled low-precision GEMM, CPU reference: C[M, N] = A · Bᵀ from codes and scales.
//
// Unlike the other CPU families this one computes in f32, not float64: its job is to say what
// the GPU kernel must produce on the same quantized inputs, including the accumulator-precision
// experiment, so every operation is rounded with Math.fround in the kernel's order:
//   mantissaBits = 0 (DeepSeek's fp8_gemm): per K-block kb,
//       blk = Σ_{k in kb} decode(a)·decode(b)             (f32, k in order)
//       acc = acc + (blk · sA[m, kb]) · sB[n or n/B, kb]
//   mantissaBits > 0 (a tensor core's limited accumulator):
//       accL = round_m(accL + ((decode(a)·decode(b))·sA)·sB)   after every product
//       (round_m: to nearest even on the f32 bit pattern; optionally toward zero, see AccumRounding);
//       every promoteEvery K elements (if > 0): acc += accL; accL = 0;   at the end acc += accL.
// Decoded codes have at most 4 significant bits, so decode(a)·decode(b) is exact in f32.

import type { AccumRounding, AccumSpec, QTensor, QuantSpec } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { checkBlock, lowpDecode } from '../../lowp/codec';
import type { CpuBackend, CpuFamily } from './backend';
import { quantizeRows, quantizeRowsT } from './fp8';

const f = Math.fround;

/** Shapes of a block-scaled product, validated: a [M, K] tiled 'rows', b [N, K], one block size. */
export function blockGemmDims(
  a: QTensor,
  b: QTensor,
): { M: number; N: number; K: number; Kp: number; blk: number; nkb: number } {
  if (a.tiling !== 'rows')
    throw new Error(`blockScaledMatmul: A must be tiled 'rows' (1×B along K), got '${a.tiling}'`);
  if (a.spec.block !== b.spec.block)
    throw new Error(`blockScaledMatmul: block sizes differ (A ${a.spec.block}, B ${b.spec.block})`);
  if (a.cols !== b.cols)
    throw new Error(`blockScaledMatmul: inner dims differ (A [${a.rows}, ${a.cols}], B [${b.rows}, ${b.cols}])`);
  const blk = a.spec.block;
  if (!(blk > 0 && blk % 4 === 0))
    throw new Error(`blockScaledMatmul: block size ${blk} must be a positive multiple of 4`);
  const K = a.cols;
  const nkb = Math.ceil(K / blk);
  return { M: a.rows, N: b.rows, K, Kp: nkb * blk, blk, nkb };
}

/**
 * Shapes of quantizedMatmul: A f32 [M, K] (transA: Aᵀ stored [K, M]) to be quantized by `spec`
 * in 1×B row tiles, against b [N, K]; validated like blockGemmDims.
 */
export function quantizedGemmDims(
  a: Tensor,
  spec: QuantSpec,
  b: QTensor,
  transA: boolean,
): { M: number; N: number; K: number; Kp: number; blk: number; nkb: number } {
  if (a.dtype !== 'f32') throw new Error(`quantizedMatmul: expected f32 A, got ${a.dtype}`);
  if (a.shape.length !== 2) throw new Error(`quantizedMatmul: A must be a matrix, got rank ${a.shape.length}`);
  checkBlock(spec.block);
  if (spec.block !== b.spec.block)
    throw new Error(`quantizedMatmul: block sizes differ (A ${spec.block}, B ${b.spec.block})`);
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  if (K !== b.cols) throw new Error(`quantizedMatmul: inner dims differ (A [${M}, ${K}], B [${b.rows}, ${b.cols}])`);
  const blk = spec.block;
  const nkb = Math.ceil(K / blk);
  return { M, N: b.rows, K, Kp: nkb * blk, blk, nkb };
}

export function accumRounding(accum: AccumSpec): AccumRounding {
  const r: AccumRounding = accum.rounding ?? 'rne';
  if (r !== 'rne' && r !== 'trunc') throw new Error(`blockScaledMatmul: unknown accumulator rounding '${String(r)}'`);
  return r;
}

/** Accumulator mantissa bits m as given, validated (0 = the plain f32 path). */
export function accumBits(accum: AccumSpec): number {
  const m = accum.mantissaBits;
  if (!Number.isInteger(m) || m < 0 || m > 23)
    throw new Error(`blockScaledMatmul: mantissaBits ${m} must be an integer in 0..23`);
  if (!Number.isInteger(accum.promoteEvery) || accum.promoteEvery < 0)
    throw new Error(`blockScaledMatmul: promoteEvery ${accum.promoteEvery} must be an integer ≥ 0`);
  return m;
}

const bitsF = new Float32Array(1);
const bitsU = new Uint32Array(bitsF.buffer);

/** Round an f32 to m mantissa bits on its bit pattern, to nearest even or toward zero (as the WGSL does). */
export function roundMantissa(x: number, m: number, rounding: AccumRounding = 'rne'): number {
  if (m >= 23) return f(x);
  const drop = 23 - m;
  bitsF[0] = x;
  const b = bitsU[0];
  if (rounding === 'trunc') {
    bitsU[0] = b & ~((1 << drop) - 1);
    return bitsF[0];
  }
  const lsb = (b >>> drop) & 1;
  const half = (1 << (drop - 1)) - 1 + lsb;
  bitsU[0] = ((b + half) >>> 0) & ~((1 << drop) - 1);
  return bitsF[0];
}

/** Decoded values of a QTensor's codes, [rows, Kp] (padding decodes to 0). */
function decodeAll(be: CpuBackend, q: QTensor, Kp: number): Float32Array {
  const words = be.ints(q.codes);
  const out = new Float32Array(q.rows * Kp);
  const table = new Float32Array(256);
  for (let c = 0; c < 256; c++) table[c] = lowpDecode(c, q.spec.format);
  for (let i = 0; i < q.rows * Kp; i++) out[i] = table[(words[i >> 2] >>> ((i & 3) * 8)) & 0xff];
  return out;
}

export function blockScaledMatmul(be: CpuBackend, a: QTensor, b: QTensor, accum: AccumSpec): Tensor {
  const { M, N, K, Kp, blk, nkb } = blockGemmDims(a, b);
  const mbits = accumBits(accum);
  const rounding = accumRounding(accum);
  const A = decodeAll(be, a, Kp);
  const B = decodeAll(be, b, Kp);
  const sA = be.data(a.scales);
  const sB = be.data(b.scales);
  const bRow = (n: number) => (b.tiling === 'blocks' ? Math.floor(n / blk) : n);
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const ai = m * Kp;
      const bi = n * Kp;
      let acc = 0;
      if (mbits === 0) {
        for (let kb = 0; kb < nkb; kb++) {
          let blkSum = 0;
          for (let k = kb * blk; k < (kb + 1) * blk; k++) blkSum = f(blkSum + A[ai + k] * B[bi + k]);
          acc = f(acc + f(f(blkSum * sA[m * nkb + kb]) * sB[bRow(n) * nkb + kb]));
        }
      } else {
        let accL = 0;
        const P = accum.promoteEvery;
        for (let k = 0; k < K; k++) {
          const kb = Math.floor(k / blk);
          const prod = f(f(A[ai + k] * B[bi + k] * sA[m * nkb + kb]) * sB[bRow(n) * nkb + kb]);
          accL = roundMantissa(f(accL + prod), mbits, rounding);
          if (P > 0 && (k + 1) % P === 0) {
            acc = f(acc + accL);
            accL = 0;
          }
        }
        acc = f(acc + accL);
      }
      out[m * N + n] = acc;
    }
  }
  return be.make([M, N], out);
}

/** The reference of quantize-on-load: quantizeRows (of Aᵀ with transA), then blockScaledMatmul. */
export function quantizedMatmul(
  be: CpuBackend,
  a: Tensor,
  spec: QuantSpec,
  b: QTensor,
  accum: AccumSpec,
  transA = false,
): Tensor {
  quantizedGemmDims(a, spec, b, transA);
  const qa = transA ? quantizeRowsT(be, a, spec) : quantizeRows(be, a, spec);
  return blockScaledMatmul(be, qa, b, accum);
}

export const ops = { blockScaledMatmul, quantizedMatmul } satisfies CpuFamily;
