// Block-scaled GEMM beyond its op check (src/check/ops.test.ts): accuracy against the unquantized
// f32 product (DeepGEMM's calc_diff), tile-shape independence and determinism, and the
// limited-accumulator emulation's basic facts.
import { describe, expect, it } from 'vitest';
import { relErr } from '../check/harness';
import type { AccumSpec, Backend, QTensor, QuantSpec } from '../engine/backend';
import { Rng } from '../engine/rng';
import { accumExperiment } from '../lowp/accum';
import { cpu, gpuBackend } from '../test/gpu';
import { roundMantissa } from './cpu/fp8_gemm';
import { blockScaledMatmul as gpuBlockScaledMatmul } from './webgpu/fp8_gemm';

const F32: AccumSpec = { mantissaBits: 0, promoteEvery: 0 };
const E4M3: QuantSpec = { format: 'e4m3', block: 128, scale: 'f32' };

/** DeepGEMM's calc_diff: 1 − 2Σxy / Σ(x² + y²). */
function calcDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let xy = 0;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i] * y[i];
    ss += x[i] * x[i] + y[i] * y[i];
  }
  return 1 - (2 * xy) / ss;
}

function f32Normal(rng: Rng, n: number): Float64Array {
  return rng.normalArray(n).map(Math.fround);
}

function quantPair(
  be: Backend,
  a: Float64Array,
  b: Float64Array,
  M: number,
  N: number,
  K: number,
  spec: QuantSpec,
): [QTensor, QTensor] {
  return [be.quantizeRows(be.fromArray(a, [M, K]), spec), be.quantizeBlocks(be.fromArray(b, [N, K]), spec)];
}

describe('fp8_gemm accuracy against the unquantized product', () => {
  for (const K of [256, 512, 1024]) {
    it(`E4M3, B=128, A 1×128 tiles, B 128×128 blocks: calc_diff < 1e-3 at K=${K}`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(K);
      const M = 48;
      const N = 40;
      const a = f32Normal(rng, M * K);
      const b = f32Normal(rng, N * K);
      const ref = await cpu.matmul(cpu.fromArray(a, [M, K]), cpu.fromArray(b, [N, K]), { transB: true }).read();
      const [qa, qb] = quantPair(gpu, a, b, M, N, K, E4M3);
      const c = await gpu.blockScaledMatmul(qa, qb, F32).read();
      const d = calcDiff(c, ref);
      console.log(`calc_diff at K=${K}: ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-3);
      expect(d).toBeGreaterThan(0); // quantization did happen
    });
  }
});

describe('fp8_gemm determinism and tiling', () => {
  it('same inputs give bit-identical outputs, for every tile shape', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(7);
    const [M, N, K] = [70, 90, 300];
    const spec: QuantSpec = { format: 'e4m3', block: 64, scale: 'ue8m0' };
    const [qa, qb] = quantPair(gpu, f32Normal(rng, M * K), f32Normal(rng, N * K), M, N, K, spec);
    const first = await gpu.blockScaledMatmul(qa, qb, F32).read();
    const again = await gpu.blockScaledMatmul(qa, qb, F32).read();
    expect(Array.from(again)).toEqual(Array.from(first));
    for (const tiles of [
      { wgX: 4, wgY: 8, tk: 4 },
      { wgX: 8, wgY: 8, tk: 16 },
      { wgX: 16, wgY: 4, tk: 32 },
    ]) {
      const other = await gpuBlockScaledMatmul(gpu, qa, qb, F32, tiles).read();
      expect(Array.from(other), JSON.stringify(tiles)).toEqual(Array.from(first));
    }
  });

  it('K below or past a block (the loop stops at K, not at the padded Kp): equal to the CPU reference', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(11);
    for (const [M, N, K] of [
      [33, 7, 64],
      [7, 130, 1],
      [9, 33, 130],
    ]) {
      const a = f32Normal(rng, M * K);
      const b = f32Normal(rng, N * K);
      const [qa, qb] = quantPair(gpu, a, b, M, N, K, E4M3);
      const [ca, cb] = quantPair(cpu, a, b, M, N, K, E4M3);
      const ref = Array.from(await cpu.blockScaledMatmul(ca, cb, F32).read());
      for (const tiles of [undefined, { wgX: 4, wgY: 4, tk: 4 }, { wgX: 8, wgY: 4, tk: 32 }]) {
        const c = Array.from(await gpuBlockScaledMatmul(gpu, qa, qb, F32, tiles).read());
        expect(c, `${M}x${N}x${K} ${JSON.stringify(tiles)}`).toEqual(ref);
      }
    }
  });

  it('limited accumulator (RNE and truncating): deterministic, and equal to the CPU reference', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(9);
    const [M, N, K] = [5, 6, 200];
    const a = f32Normal(rng, M * K);
    const b = f32Normal(rng, N * K);
    const [qa, qb] = quantPair(gpu, a, b, M, N, K, E4M3);
    const [ca, cb] = quantPair(cpu, a, b, M, N, K, E4M3); // bit-identical codes and scales
    for (const accum of [
      { mantissaBits: 14, promoteEvery: 128 },
      { mantissaBits: 14, promoteEvery: 0, rounding: 'trunc' } as AccumSpec,
      { mantissaBits: 23, promoteEvery: 0 },
    ]) {
      const x = await gpu.blockScaledMatmul(qa, qb, accum).read();
      const y = await gpu.blockScaledMatmul(qa, qb, accum).read();
      expect(Array.from(y)).toEqual(Array.from(x));
      const ref = await cpu.blockScaledMatmul(ca, cb, accum).read();
      expect(relErr(x, ref), JSON.stringify(accum)).toBeLessThan(3e-4); // see the check's tolerance note
    }
  });

  it('roundMantissa rounds to nearest even (or toward zero) on the bit pattern', () => {
    // At m = 14 the ulp of [1, 2) is 2⁻¹⁴.
    expect(roundMantissa(1 + 2 ** -16, 14)).toBe(1); // below half an ulp
    expect(roundMantissa(1 + 2 ** -15, 14)).toBe(1); // tie, even lsb → stays
    expect(roundMantissa(1 + 2 ** -14 + 2 ** -15, 14)).toBe(1 + 2 ** -13); // tie, odd lsb → up to even
    expect(roundMantissa(1 + 3 * 2 ** -16, 14)).toBe(1 + 2 ** -14); // above half
    expect(roundMantissa(2 - 2 ** -16, 14)).toBe(2); // carry into the exponent
    expect(roundMantissa(-(1 + 3 * 2 ** -16), 14)).toBe(-(1 + 2 ** -14));
    expect(roundMantissa(0.1, 23)).toBe(Math.fround(0.1));
    expect(roundMantissa(1 + 3 * 2 ** -16, 14, 'trunc')).toBe(1); // toward zero
    expect(roundMantissa(-(2 - 2 ** -16), 14, 'trunc')).toBe(-(2 - 2 ** -14));
  });
});

describe('accumulation experiment', () => {
  it('without promotion the 14-bit accumulator error grows with K; promotion keeps it small', async () => {
    const rows = await accumExperiment(await gpuBackend(), [256, 2048], { M: 16, N: 16 });
    const [small, big] = rows;
    expect(big.limited).toBeGreaterThan(small.limited);
    expect(big.promoted).toBeLessThan(big.limited / 4);
    expect(big.limitedTrunc).toBeGreaterThan(4 * small.limitedTrunc); // truncation: ≈ linear in K
    expect(big.promotedTrunc).toBeLessThan(big.limitedTrunc / 4);
    expect(big.f32).toBeLessThan(1e-5);
  });
});
