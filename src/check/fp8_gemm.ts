// Op check for the block-scaled GEMM (forward only: quantization is not differentiable).
// Each case quantizes random f32-representable A [M, K] (1×B tiles, 'rows') and B [N, K]
// ('rows' or B×B 'blocks') INSIDE forward, so each backend quantizes its own copy — the
// quantizers are bit-exact between backends, so both GEMMs see identical codes and scales —
// then compares C = blockScaledMatmul(A, B, accum). Random element formats (A and B may differ,
// as with E5M2 gradients), scale rules, block sizes, and in one case of four the
// limited-accumulator emulation (14 mantissa bits, promotion every 0 or 128 elements, rounding
// to nearest even or truncating).
//
// The CPU reference computes in f32 in the kernel's order (see cpu/fp8_gemm.ts), so only f32
// rounding differences can remain, from a GPU compiler fusing a·b + c into one FMA (one rounding
// instead of two). Measured on lavapipe over seeds 1..40 (120 cases): every output bit-identical.
// Simulating full FMA contraction on the CPU (900 cases): ≤ 2.0e-7 on the f32 path; ≤ 8.2e-5 on
// the 14-bit path, where a one-ulp f32 difference before the rounding to 14 bits can flip it
// (2⁻¹⁵ relative to the running sum) and the sums then drift apart. Hence 3e-4 (a GPU that fuses
// must still pass); the f32-path cases, with no 14-bit rounding to flip, are held to 1e-5 on
// their own (F32_PATH_TOL), and a wrong scale, block or code shows as errors of order 1.

import type { AccumRounding, AccumSpec, Backend, LowFormat, QuantSpec, ScaleRule } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { CheckCase, OpCheck } from './types';

/** Random N(0, std) values rounded to f32, so both backends quantize the same numbers. */
function f32Normal(rng: Rng, n: number, std = 1): Float64Array {
  const a = rng.normalArray(n, std);
  for (let i = 0; i < n; i++) a[i] = Math.fround(a[i]);
  return a;
}

function dims(rng: Rng, regime: number): [number, number, number] {
  if (regime === 0) return [rng.int(1, 3), rng.int(1, 3), rng.int(1, 4)];
  if (regime === 1) {
    const odd = [1, 7, 33, 130, 300];
    return [rng.pick(odd), rng.pick(odd), rng.pick(odd)];
  }
  const d: [number, number, number] = [rng.int(64, 300), rng.int(64, 300), rng.int(64, 300)];
  // Keep the CPU's f32-emulated reference (a few Math.fround per MAC) near a tenth of a second.
  while (d[0] * d[1] * d[2] > 8e6) {
    const i = rng.int(0, 2);
    d[i] = Math.max(40, Math.floor((d[i] * 2) / 3));
  }
  return d;
}

/** Forward tolerance of the f32-accumulation cases: f32 rounding only. */
const F32_PATH_TOL = 1e-5;

export const fp8GemmCheck: OpCheck = {
  name: 'fp8_gemm',
  about:
    'C = A·Bᵀ from block-quantized A (1×B tiles) and B (1×B or B×B); f32 block accumulation or an emulated limited accumulator',
  tolForward: 3e-4,
  tolBackward: 0,
  makeCase(rng: Rng, index: number): CheckCase {
    const [M, N, K] = dims(rng, index % 3);
    const block = rng.pick([32, 64, 128]);
    const scale = rng.pick(['f32', 'ue8m0', 'mx'] as const satisfies readonly ScaleRule[]);
    const fmtA: LowFormat = rng.pick(['e4m3', 'e5m2', 'e2m1'] as const);
    // B usually shares A's format; sometimes E4M3 weights against E5M2/E2M1 A (mixed formats).
    const fmtB: LowFormat = rng.next() < 0.75 ? fmtA : rng.pick(['e4m3', 'e5m2', 'e2m1'] as const);
    const bTiling = rng.pick(['rows', 'blocks'] as const);
    // The emulated accumulator rounds to nearest even, or truncates (AccumSpec.rounding).
    const rounding: AccumRounding = rng.pick(['rne', 'trunc'] as const);
    const accum: AccumSpec =
      rng.next() < 0.25
        ? { mantissaBits: 14, promoteEvery: rng.pick([0, 128]), rounding }
        : { mantissaBits: 0, promoteEvery: 0 };
    const specA: QuantSpec = { format: fmtA, block, scale };
    const specB: QuantSpec = { format: fmtB, block, scale };
    const acc = accum.mantissaBits ? ` acc=${accum.mantissaBits}b-${rounding} promote=${accum.promoteEvery}` : '';
    return {
      desc: `M=${M} N=${N} K=${K} B=${block} ${fmtA}×${fmtB} scale=${scale} b=${bTiling}${acc}`,
      inputs: [
        { name: 'a', shape: [M, K], dtype: 'f32', data: f32Normal(rng, M * K), grad: false },
        { name: 'b', shape: [N, K], dtype: 'f32', data: f32Normal(rng, N * K, 0.5), grad: false },
      ],
      nDiff: 0,
      tolForward: accum.mantissaBits ? undefined : F32_PATH_TOL,
      forward: (be: Backend, [a, b]) => {
        const qa = be.quantizeRows(a, specA);
        const qb = bTiling === 'rows' ? be.quantizeRows(b, specB) : be.quantizeBlocks(b, specB);
        const c = be.blockScaledMatmul(qa, qb, accum);
        for (const t of [qa.codes, qa.scales, qb.codes, qb.scales]) t.dispose();
        return [c];
      },
    };
  },
};

/**
 * quantizedMatmul: A given in f32 ([M, K], or Aᵀ stored [K, M] with transA) and quantized in 1×B
 * tiles inside the GEMM, against B quantized outside. The CPU reference quantizes A with
 * quantizeRows and runs its f32-ordered GEMM; the kernel must match it as the code-reading GEMM
 * does (bit-identical on lavapipe; same tolerance reasoning as above). The tests in
 * src/backends/fp8-fused.test.ts hold it to the GPU's own two-step path bit for bit.
 */
export const quantizedMatmulCheck: OpCheck = {
  name: 'quantizedMatmul',
  about: 'C = Q_rows(A)·Bᵀ with A f32 (or stored transposed) quantized on load inside the GEMM; B block-quantized',
  tolForward: 3e-4,
  tolBackward: 0,
  makeCase(rng: Rng, index: number): CheckCase {
    const [M, N, K] = dims(rng, index % 3);
    const block = rng.pick([32, 64, 128]);
    const scale = rng.pick(['f32', 'ue8m0', 'mx'] as const satisfies readonly ScaleRule[]);
    const fmtA: LowFormat = rng.pick(['e4m3', 'e5m2', 'e2m1'] as const);
    const fmtB: LowFormat = rng.next() < 0.75 ? fmtA : rng.pick(['e4m3', 'e5m2', 'e2m1'] as const);
    const bTiling = rng.pick(['rows', 'blocks'] as const);
    const transA = rng.next() < 0.5;
    const accum: AccumSpec =
      rng.next() < 0.15 ? { mantissaBits: 14, promoteEvery: 128 } : { mantissaBits: 0, promoteEvery: 0 };
    const specA: QuantSpec = { format: fmtA, block, scale };
    const specB: QuantSpec = { format: fmtB, block, scale };
    const acc = accum.mantissaBits ? ` acc=${accum.mantissaBits}b` : '';
    return {
      desc: `M=${M} N=${N} K=${K} B=${block} ${fmtA}×${fmtB} scale=${scale} b=${bTiling}${transA ? ' Aᵀ' : ''}${acc}`,
      inputs: [
        { name: 'a', shape: transA ? [K, M] : [M, K], dtype: 'f32', data: f32Normal(rng, M * K), grad: false },
        { name: 'b', shape: [N, K], dtype: 'f32', data: f32Normal(rng, N * K, 0.5), grad: false },
      ],
      nDiff: 0,
      tolForward: accum.mantissaBits ? undefined : F32_PATH_TOL,
      forward: (be: Backend, [a, b]) => {
        const qb = bTiling === 'rows' ? be.quantizeRows(b, specB) : be.quantizeBlocks(b, specB);
        const c = be.quantizedMatmul(a, specA, qb, accum, transA);
        for (const t of [qb.codes, qb.scales]) t.dispose();
        return [c];
      },
    };
  },
};

export const fp8GemmChecks: OpCheck[] = [fp8GemmCheck, quantizedMatmulCheck];
