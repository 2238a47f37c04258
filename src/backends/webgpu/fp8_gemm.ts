// Block-scaled low-precision GEMM on the GPU: shaders/fp8_gemm.wgsl, with the shared codec
// (shaders/fp8_codec.wgsl) prepended. C[M, N] = A · Bᵀ from QTensors (codes 4 per u32 + f32
// scales), dequantized on load, each K-block's partial scaled by sA·sB into an f32 accumulator.
//
// Two entry points in one shader text:
//   'main':         the fast path (accum.mantissaBits = 0), tiled like the f32 matmul (8×8 outputs
//                   per thread, TM × TN workgroup tiles, TK-deep K-tiles in workgroup memory);
//   'main_limited': the limited-accumulator experiment (mantissaBits > 0), one thread per output.
// Pipelines are specialized by override constants (thread grid, TK, the two element formats, B's
// scale tiling); shapes go in the uniform.

//
// quantizedMatmul (shaders/fp8_gemm_qa.wgsl, entry 'main_qa'): the same fast path with A given
// in f32 and quantized in 1×B tiles inside the kernel (quantize-on-load), bit-identical to
// quantizeRows + 'main'; A may be read transposed (Aᵀ stored [K, M]), as the Wgrad GEMM reads dY.

import codecSrc from '../../../shaders/fp8_codec.wgsl?raw';
import src from '../../../shaders/fp8_gemm.wgsl?raw';
import qaSrc from '../../../shaders/fp8_gemm_qa.wgsl?raw';
import type { AccumSpec, LowFormat, QTensor, QuantSpec } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { ruleId } from '../../lowp/codec';
import { accumBits, accumRounding, blockGemmDims, quantizedGemmDims } from '../cpu/fp8_gemm';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { quantizeRows, quantizeRowsT } from './fp8';
import { chooseThreads } from './matmul';
import type { Kernel } from './pipelines';
import { packUniforms } from './runtime';

const CODE = `${codecSrc}\n${src}`;
const GEMM: Kernel = { name: 'fp8_gemm', code: CODE, entry: 'main' };
const GEMM_LIMITED: Kernel = { name: 'fp8_gemm', code: CODE, entry: 'main_limited' };
const GEMM_QA: Kernel = { name: 'fp8_gemm_qa', code: `${codecSrc}\n${qaSrc}`, entry: 'main_qa' };

/** The codec's format numbers (lowp_decode's second argument). */
const FORMAT_ID: Record<LowFormat, number> = { e4m3: 0, e5m2: 1, e2m1: 2 };

/** Workgroup memory of 'main': As, Bs (TK rows of tile/4 + 1 vec4s). */
function sharedBytes(wgX: number, wgY: number, tk: number): number {
  return tk * (2 * wgY + 1) * 16 + tk * (2 * wgX + 1) * 16;
}

/** Kernel shape of 'main': threads along N and M, K-tile depth (must divide the quant block). */
export interface BlockGemmTiles {
  wgX: number;
  wgY: number;
  tk: number;
}

/**
 * `tiles` overrides the automatic choice (tests use it to show that every tile shape gives the
 * same bits); the backend never passes it.
 */
export function blockScaledMatmul(
  be: WebGPUBackend,
  a: QTensor,
  b: QTensor,
  accum: AccumSpec,
  tiles?: BlockGemmTiles,
): Tensor {
  const { M, N, K, blk, nkb } = blockGemmDims(a, b);
  const mbits = accumBits(accum);
  if (M === 0 || N === 0) return be.empty([M, N], 'f32');
  if (K === 0) return be.zeros([M, N], 'f32');
  const limits = be.rt.limits;
  const trunc = accumRounding(accum) === 'trunc' ? 1 : 0;
  const uniform = packUniforms('uuuuuuuuu', [M, N, K, (nkb * blk) / 4, nkb, blk, mbits, accum.promoteEvery, trunc]);
  const common = {
    FORMAT_A: FORMAT_ID[a.spec.format],
    FORMAT_B: FORMAT_ID[b.spec.format],
    B_BLOCKS: b.tiling === 'blocks' ? 1 : 0,
  };
  const buffers = [be.buf(a.codes), be.buf(a.scales), be.buf(b.codes), be.buf(b.scales)];
  const out = be.empty([M, N], 'f32');

  if (mbits > 0) {
    // The experiment: a plain 16×16 grid of threads, one output each.
    be.rt.record({
      kernel: GEMM_LIMITED,
      overrides: { ...common, WG_X: 16, WG_Y: 16 },
      buffers: [...buffers, be.buf(out)],
      uniform,
      workgroups: [Math.ceil(N / 16), Math.ceil(M / 16), 1],
    });
    return out;
  }

  const { wgX, wgY } = tiles ?? chooseThreads(M, N, 1);
  // The deepest K-tile that divides the block and fits the device's workgroup memory.
  const tk =
    tiles?.tk ??
    [32, 16, 8, 4].find((t) => blk % t === 0 && sharedBytes(wgX, wgY, t) <= limits.maxComputeWorkgroupStorageSize) ??
    4;
  if (blk % tk !== 0 || tk % 4 !== 0)
    throw new Error(`blockScaledMatmul: K-tile ${tk} must be a multiple of 4 dividing the block ${blk}`);
  if (sharedBytes(wgX, wgY, tk) > limits.maxComputeWorkgroupStorageSize) {
    throw new Error(
      `blockScaledMatmul: tiles ${wgX}x${wgY} threads with TK=${tk} need ${sharedBytes(wgX, wgY, tk)} bytes of workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  be.rt.record({
    kernel: GEMM,
    overrides: { ...common, WG_X: wgX, WG_Y: wgY, TK: tk },
    buffers: [...buffers, be.buf(out)],
    uniform,
    workgroups: [Math.ceil(N / (8 * wgX)), Math.ceil(M / (8 * wgY)), 1],
  });
  return out;
}

/** Workgroup memory of 'main_qa': 'main's plus each row's tile scale (TM u32). */
function sharedBytesQA(wgX: number, wgY: number, tk: number): number {
  return sharedBytes(wgX, wgY, tk) + 8 * wgY * 4;
}

/**
 * C [M, N] = Q_rows(A) · Bᵀ with A f32 [M, K] (or, transA, Aᵀ stored [K, M]) quantized by `spec`
 * in 1×B tiles along K inside the GEMM: bit-identical to
 * blockScaledMatmul(quantizeRows(A, spec), b, accum), without A's quantize dispatch and codes.
 * The limited-accumulator experiment (accum.mantissaBits > 0) takes that two-dispatch path.
 */
export function quantizedMatmul(
  be: WebGPUBackend,
  a: Tensor,
  spec: QuantSpec,
  b: QTensor,
  accum: AccumSpec,
  transA = false,
  tiles?: BlockGemmTiles,
): Tensor {
  const { M, N, K, blk, nkb } = quantizedGemmDims(a, spec, b, transA);
  if (accumBits(accum) > 0) {
    const qa = transA ? quantizeRowsT(be, a, spec) : quantizeRows(be, a, spec);
    const c = blockScaledMatmul(be, qa, b, accum, tiles);
    qa.codes.dispose();
    qa.scales.dispose();
    return c;
  }
  if (M === 0 || N === 0) return be.empty([M, N], 'f32');
  if (K === 0) return be.zeros([M, N], 'f32');
  const limits = be.rt.limits;
  const { wgX, wgY } = tiles ?? chooseThreads(M, N, 1);
  const tk =
    tiles?.tk ??
    [32, 16, 8, 4].find((t) => blk % t === 0 && sharedBytesQA(wgX, wgY, t) <= limits.maxComputeWorkgroupStorageSize) ??
    4;
  if (blk % tk !== 0 || tk % 4 !== 0)
    throw new Error(`quantizedMatmul: K-tile ${tk} must be a multiple of 4 dividing the block ${blk}`);
  if (sharedBytesQA(wgX, wgY, tk) > limits.maxComputeWorkgroupStorageSize) {
    throw new Error(
      `quantizedMatmul: tiles ${wgX}x${wgY} threads with TK=${tk} need ${sharedBytesQA(wgX, wgY, tk)} bytes of workgroup memory; the device allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const words = (nkb * blk) / 4;
  const [sm, sk] = transA ? [1, M] : [K, 1];
  const out = be.empty([M, N], 'f32');
  be.rt.record({
    kernel: GEMM_QA,
    overrides: {
      FORMAT_A: FORMAT_ID[spec.format],
      RULE_A: ruleId(spec.scale),
      FORMAT_B: FORMAT_ID[b.spec.format],
      B_BLOCKS: b.tiling === 'blocks' ? 1 : 0,
      WG_X: wgX,
      WG_Y: wgY,
      TK: tk,
    },
    buffers: [be.buf(a), be.buf(b.codes), be.buf(b.scales), be.buf(out)],
    uniform: packUniforms('uuuuuuuuu', [M, N, K, words, nkb, blk, sm, sk, transA ? 1 : 0]),
    workgroups: [Math.ceil(N / (8 * wgX)), Math.ceil(M / (8 * wgY)), 1],
  });
  return out;
}

export const ops = { blockScaledMatmul, quantizedMatmul } satisfies WebGPUFamily;
