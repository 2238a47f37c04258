// The matmul's f16-tile path (shaders/matmul_f16.wgsl + matmul.wgsl, opt-in through the
// backend's KernelPaths): it is taken where asked for (lavapipe has shader-f16), it is exactly
// "inputs rounded to f16, exact products, f32 sums" (within f32 summation error of the float64
// product of the rounded inputs, at odd shapes, on the scalar, vec4 and split-K kernels), and
// the bound the op check allows (f16Bound, src/check/matmul.ts) is tight enough that f16
// accumulation would break it at K = 4099 while f32 accumulation keeps well inside it.
import { describe, expect, it } from 'vitest';
import { f16Bound } from '../check/matmul';
import { relErr } from '../check/harness';
import type { MatmulOpts } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Shape } from '../engine/tensor';
import { gpuBackend, traced } from '../test/gpu';
import { matmulModel, roundF16 } from './cpu/matmul';
import type { WebGPUBackend } from './webgpu/backend';
import { withKernelPaths } from './webgpu/device';

const same = (x: number) => x;

/** One product on the GPU on a path, with the kernels it recorded. */
async function product(
  gpu: WebGPUBackend,
  path: 'f32' | 'f16',
  a: Float64Array,
  b: Float64Array,
  aShape: Shape,
  bShape: Shape,
  opts: MatmulOpts,
): Promise<{ c: Float64Array; kernels: string[]; codes: string[] }> {
  const ta = gpu.fromArray(a, aShape);
  const tb = gpu.fromArray(b, bShape);
  const {
    value: tc,
    kernels,
    codes,
  } = traced(gpu, () => withKernelPaths(gpu, { matmul: path }, () => gpu.matmul(ta, tb, opts)));
  const c = (await tc.read()) as Float64Array;
  for (const t of [ta, tb, tc]) t.dispose();
  return { c, kernels, codes };
}

describe('matmul f16 tiles', () => {
  it('roundF16 rounds to the nearest binary16 value, ties to even', () => {
    expect(roundF16(1)).toBe(1);
    expect(roundF16(1 + 2 ** -11)).toBe(1); // tie → even
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie → even (up)
    expect(roundF16(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10);
    expect(roundF16(-2049)).toBe(-2048);
    expect(roundF16(65504)).toBe(65504);
    expect(roundF16(65519)).toBe(65504);
    expect(roundF16(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundF16(2 ** -24)).toBe(2 ** -24); // smallest subnormal
    expect(roundF16(2 ** -26)).toBe(0);
    expect(roundF16(0.1)).toBe(0.0999755859375);
  });

  // [M, K, N, transA, transB]: ones; odd (scalar kernel); multiples of 4 (vec4 kernel); a long K
  // with few output tiles (split-K: two dispatches); 4099.
  const shapes: Array<[number, number, number, boolean, boolean]> = [
    [1, 1, 1, false, false],
    [7, 33, 130, false, true],
    [130, 7, 33, true, false],
    [64, 128, 96, false, false],
    [32, 96, 64, true, true],
    [7, 4099, 33, false, false],
    [16, 2048, 16, true, false],
  ];
  for (const [M, K, N, transA, transB] of shapes) {
    it(`M=${M} K=${K} N=${N}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}: f16-rounded inputs, f32 sums`, async () => {
      const gpu = await gpuBackend();
      expect(gpu.rt.features.shaderF16).toBe(true); // lavapipe; the suite's f16 checks rely on it
      const rng = new Rng(M * 31 + K * 7 + N);
      const opts = { transA, transB };
      const aShape: Shape = transA ? [K, M] : [M, K];
      const bShape: Shape = transB ? [N, K] : [K, N];
      const a = Float64Array.from(Float32Array.from(rng.normalArray(M * K)));
      const b = Float64Array.from(Float32Array.from(rng.normalArray(K * N)));
      const f16 = await product(gpu, 'f16', a, b, aShape, bShape, opts);
      const f32 = await product(gpu, 'f32', a, b, aShape, bShape, opts);
      expect(f16.kernels[0]).toMatch(/^matmul_f16:main/);
      expect(f16.codes[0]).toMatch(/^enable f16;/);
      expect(f32.kernels[0]).toMatch(/^matmul:main/);
      expect(f32.codes.some((c) => /\benable\s+f16\b/.test(c))).toBe(false);
      if (M * N <= 256 && K >= 1024) expect(f16.kernels).toHaveLength(2); // split-K, as on the f32 path
      expect(f16.kernels.length).toBe(f32.kernels.length);

      const exact = matmulModel(a, b, aShape, bShape, opts, same, same);
      const rounded = matmulModel(a, b, aShape, bShape, opts, roundF16, same);
      // Within f32 summation error of the product of the f16-rounded inputs …
      expect(relErr(f16.c, rounded)).toBeLessThan(1e-5);
      // … which is not the f32 path's result (the inputs really were rounded; one 1×1×1 product
      // of two normals may happen to round little, so only the longer sums are asked).
      if (K > 1) expect(relErr(f16.c, f32.c)).toBeGreaterThan(1e-5);
      // And inside the op check's bound against the exact product.
      const { tol } = f16Bound(a, b, aShape, bShape, opts);
      expect(relErr(f16.c, exact)).toBeLessThanOrEqual(tol);
    });
  }

  it('the bound catches f16 accumulation at K = 4099 (modelled on the CPU), and passes f32 accumulation', () => {
    const rng = new Rng(4099);
    const [M, K, N] = [7, 4099, 33];
    const a = rng.normalArray(M * K);
    const b = rng.normalArray(K * N);
    const opts = {};
    const exact = matmulModel(a, b, [M, K], [K, N], opts, same, same);
    const { rho, tol } = f16Bound(a, b, [M, K], [K, N], opts);
    const f32Sums = matmulModel(a, b, [M, K], [K, N], opts, roundF16, Math.fround);
    const f16Sums = matmulModel(a, b, [M, K], [K, N], opts, roundF16, roundF16);
    const errF32 = relErr(f32Sums, exact);
    const errF16 = relErr(f16Sums, exact);
    console.log(
      `K=${K}: rho ${rho.toExponential(2)} tol ${tol.toExponential(2)}; f32 sums ${errF32.toExponential(2)}, f16 sums ${errF16.toExponential(2)}`,
    );
    expect(errF32).toBeLessThan(tol);
    expect(errF16).toBeGreaterThan(3 * tol);
  });
});
