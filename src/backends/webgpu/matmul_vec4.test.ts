// The matmul's vec4 path (shaders/matmul.wgsl main_vec4) and the per-adapter tuning table
// (tuning.ts): the vec4 path gives the same bits as the scalar path for every transpose,
// batching mode and split-K, and matches the float64 reference; the table picks entries by
// adapter label and respects the device's limits. And 96-wide dims get 12-thread tiles
// (coverThreads) with the bits of the 64-wide ones.
import { afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { cpu, gpuBackend } from '../../test/gpu';
import {
  chooseThreads,
  coverThreads,
  gridThreads,
  matmul,
  matmuls,
  splitKPlan,
  tuningOf,
  vec4Eligible,
} from './matmul';
import { DEFAULT_TUNING, matmulTuning, TUNING_TABLE } from './tuning';

const BIG = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256 };

function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-6;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(a[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return num / den;
}

describe('matmul vec4 path', () => {
  it('covers 3·2^k dims with 12-thread (96-wide) tiles where they pad less, and nowhere else', () => {
    expect(coverThreads([96], 8, 16)).toBe(12);
    expect(coverThreads([96], 16, 16)).toBe(12);
    expect(coverThreads([480], 8, 16)).toBe(12); // 5 × 96 against 8 × 64
    expect(coverThreads([96], 8, 8)).toBe(8); // not above the tuning's limit (mobile)
    expect(coverThreads([128], 8, 16)).toBe(8);
    expect(coverThreads([704], 8, 16)).toBe(8); // 11 × 64: no padding to save
    expect(coverThreads([96], 4, 16)).toBe(4);
    expect(coverThreads([96, 128], 16, 16)).toBe(16); // a pair: the padding of both dims counts
    expect(gridThreads(512, 96, 1)).toEqual({ wgX: 12, wgY: 8 });
    expect(gridThreads(96, 256, 1)).toEqual({ wgX: 8, wgY: 12 });
    expect(gridThreads(97, 90, 1)).toEqual({ wgX: 12, wgY: 8 });
    expect(gridThreads(40, 96, 1).wgX).toBe(12);
  });

  it('12-thread tiles give the bits of 64-wide tiles, and the reference, on both load paths', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(7);
    // [M, K, N]: a forward [512, 256]·[96, 256]ᵀ shape scaled down, a weight gradient with 96
    // rows, and an odd shape on the scalar path (90 columns: one 96-wide tile, not two 64-wide).
    for (const [M, K, N, transA, transB] of [
      [40, 36, 96, false, true],
      [96, 52, 64, true, false],
      [97, 33, 90, false, false],
    ] as const) {
      const aShape = transA ? [K, M] : [M, K];
      const bShape = transB ? [N, K] : [K, N];
      const ah = rng.normalArray(M * K);
      const bh = rng.normalArray(K * N);
      const opts = { transA, transB };
      const [a, b] = [gpu.fromArray(ah, aShape), gpu.fromArray(bh, bShape)];
      const what = `${M}x${K}x${N}`;
      const ref = await cpu.matmul(cpu.fromArray(ah, aShape), cpu.fromArray(bh, bShape), opts).read();
      const base = await matmul(gpu, a, b, opts, { wgX: 8, wgY: 8, tk: 16 }).read();
      for (const t of [
        { wgX: 12, wgY: 12, tk: 16 },
        { wgX: 12, wgY: 4, tk: 32 },
      ]) {
        const got = await matmul(gpu, a, b, opts, t).read();
        expect(
          got.every((v, i) => Object.is(v, base[i])),
          `${what} ${JSON.stringify(t)}`,
        ).toBe(true);
        expect(maxRelErr(got, ref), what).toBeLessThan(1e-5);
      }
      // The automatic grid (12 threads along the 96- or 90-wide dim) and the pair kernel agree.
      const auto = await matmul(gpu, a, b, opts).read();
      expect(
        auto.every((v, i) => Object.is(v, base[i])),
        `${what} auto`,
      ).toBe(true);
      const [pair] = matmuls(gpu, [
        { a, b, opts },
        { a, b, opts },
      ]);
      expect(
        (await pair.read()).every((v, i) => Object.is(v, base[i])),
        `${what} pair`,
      ).toBe(true);
    }
  });

  it("gives the scalar path's bits, and the reference, for every transpose, batching and split-K", async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    let worst = 0;
    // Multiples of 4 that straddle the tiles; the last shape takes split-K (2 output tiles, K ≥ 1024).
    for (const [M, K, N] of [
      [68, 36, 20],
      [132, 44, 136],
      [20, 1204, 36],
    ]) {
      const splitK = K >= 1024;
      if (splitK) expect(splitKPlan(2, K).splits).toBeGreaterThan(1);
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const mode of splitK ? (['batched'] as const) : (['plain', 'batched', 'broadcast'] as const)) {
            const bd = mode === 'plain' ? [] : [3];
            const aShape = [...bd, ...(transA ? [K, M] : [M, K])];
            const bShape = [...(mode === 'batched' ? bd : []), ...(transB ? [N, K] : [K, N])];
            const ah = rng.normalArray(aShape.reduce((x, y) => x * y, 1));
            const bh = rng.normalArray(bShape.reduce((x, y) => x * y, 1));
            const opts = { transA, transB };
            const a = gpu.fromArray(ah, aShape);
            const b = gpu.fromArray(bh, bShape);
            // One tile shape throughout (each pipeline costs seconds to compile on a software
            // adapter); tile shapes do not change the sums (matmul.test.ts shows it).
            const t = { wgX: 8, wgY: 8, tk: 16 };
            const scalar = await matmul(gpu, a, b, opts, { ...t, vec4: false }).read();
            const vec4 = await matmul(gpu, a, b, opts, { ...t, vec4: true }).read();
            const what = `${M}x${K}x${N} ${mode} transA=${transA} transB=${transB}`;
            expect(vec4.length).toBe(scalar.length);
            expect(
              vec4.every((v, i) => Object.is(v, scalar[i])),
              `${what}: vec4 bits differ from scalar`,
            ).toBe(true);
            const ref = await cpu.matmul(cpu.fromArray(ah, aShape), cpu.fromArray(bh, bShape), opts).read();
            const err = maxRelErr(vec4, ref);
            worst = Math.max(worst, err);
            expect(err, what).toBeLessThan(1e-5);
          }
        }
      }
    }
    console.log(`[matmul vec4] worst rel err vs float64 ${worst.toExponential(2)}`);
  });

  it('is taken only for shapes and buffers it can serve', async () => {
    const gpu = await gpuBackend();
    const x = gpu.zeros([8, 8]);
    const buf = [gpu.buf(x)];
    expect(vec4Eligible(8, 8, 8, buf)).toBe(true);
    expect(vec4Eligible(8, 6, 8, buf)).toBe(false);
    expect(vec4Eligible(7, 8, 8, buf)).toBe(false);
    expect(vec4Eligible(8, 8, 10, buf)).toBe(false);
    expect(vec4Eligible(8, 8, 8, [{ size: 20 } as GPUBuffer])).toBe(false);
  });
});

describe('matmul tuning table', () => {
  afterEach(() => {
    delete (globalThis as { V3LAB_MATMUL_TUNING?: unknown }).V3LAB_MATMUL_TUNING;
  });

  it('uses the default on desktop and software adapters, the mobile entry on mobile GPUs', () => {
    expect(matmulTuning('nvidia / ada / NVIDIA GeForce RTX 4090', BIG)).toEqual(DEFAULT_TUNING);
    expect(matmulTuning('mesa / software / llvmpipe', BIG)).toEqual(DEFAULT_TUNING);
    const mali = matmulTuning('arm / valhall / Mali-G78', BIG);
    expect(mali.entry).toBe('mobile');
    expect(mali.maxThreads).toBe(8);
    expect(matmulTuning('qualcomm / adreno-7xx', BIG).entry).toBe('mobile');
    for (const e of TUNING_TABLE) expect(e.why.length).toBeGreaterThan(10);
  });

  it('never asks for more threads than the device allows', () => {
    const small = { ...BIG, maxComputeInvocationsPerWorkgroup: 128 };
    const t = matmulTuning('nvidia', small);
    expect(t.maxThreads).toBe(8);
    for (const [M, N] of [
      [4096, 4096],
      [130, 129],
      [16, 4096],
    ]) {
      const { wgX, wgY } = chooseThreads(M, N, 1, t);
      expect(wgX * wgY).toBeLessThanOrEqual(128);
      expect(Math.max(wgX, wgY)).toBeLessThanOrEqual(8);
    }
    // The default keeps the old choice (the 128 × 128 tile for many tiles).
    expect(chooseThreads(130, 129, 16)).toEqual({ wgX: 16, wgY: 16 });
  });

  it('takes an override for experiments', () => {
    (globalThis as { V3LAB_MATMUL_TUNING?: unknown }).V3LAB_MATMUL_TUNING = { vec4: false, tk: [8] };
    const t = matmulTuning('nvidia', BIG);
    expect(t).toMatchObject({ entry: 'override', vec4: false, tk: [8], maxThreads: 16 });
    (globalThis as { V3LAB_MATMUL_TUNING?: unknown }).V3LAB_MATMUL_TUNING = '{"maxThreads": 12}';
    expect(() => matmulTuning('nvidia', BIG)).toThrow(/maxThreads/);
  });

  it('is looked up once per runtime from its adapter', async () => {
    const gpu = await gpuBackend();
    const t = tuningOf(gpu.rt);
    expect(tuningOf(gpu.rt)).toBe(t);
    expect(t.tk.length).toBeGreaterThan(0);
  });
});
