// The block-scaled GEMM (E4M3 codes, block 128: A in 1×128 tiles, B in 128×128 blocks) against
// the f32 matmul on the same product C = A·Bᵀ, in one process on one adapter: median GFLOP/s of
// each, their ratio, and the bytes of input each must read (codes + scales vs f32 values).
// Quantization itself is not timed (weights are quantized once per step, activations once per
// layer; this compares the GEMMs). Software adapters: read the ratio, not the absolute numbers.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/fp8-vs-f32-gemm.ts [sizes…]
import { createNodeBackend } from '../src/backends/webgpu/node';
import type { QuantSpec } from '../src/engine/backend';
import { Rng } from '../src/engine/rng';
import type { Tensor } from '../src/engine/tensor';

const be = await createNodeBackend();
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const spec: QuantSpec = { format: 'e4m3', block: 128, scale: 'f32' };
const F32 = { mantissaBits: 0, promoteEvery: 0 };

/** Median wall time (ms) of `reps` timed runs of `fn`, each waited for on the device, after one warm-up. */
async function time(fn: () => Tensor, reps: number): Promise<number> {
  const run = async () => {
    const t0 = performance.now();
    const out = fn();
    await be.flush();
    await be.rt.device.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    out.dispose();
    return ms;
  };
  await run();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await run());
  return xs.sort((a, b) => a - b)[Math.floor(reps / 2)];
}

const fmtBytes = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

console.log(`adapter: ${be.deviceLabel}`);
console.log(
  'C[n, n] = A[n, n] · B[n, n]ᵀ; fp8 = E4M3 codes, block 128, f32 scales (A 1×128, B 128×128); f32 = be.matmul(transB)\n',
);
for (const n of sizes.length ? sizes : [512, 1024]) {
  const [M, N, K] = [n, n, n];
  const rng = new Rng(n);
  const a = be.fromArray(rng.normalArray(M * K), [M, K]);
  const b = be.fromArray(rng.normalArray(N * K), [N, K]);
  const qa = be.quantizeRows(a, spec);
  const qb = be.quantizeBlocks(b, spec);
  await be.flush();
  const reps = n >= 1024 ? 5 : 9;
  const msF32 = await time(() => be.matmul(a, b, { transB: true }), reps);
  const msFp8 = await time(() => be.blockScaledMatmul(qa, qb, F32), reps);
  const gflop = (2 * M * N * K) / 1e9;
  // Input bytes each kernel must read at least once (the output, M·N f32, is the same for both).
  const f32Bytes = (M * K + N * K) * 4;
  const fp8Bytes = qa.codes.size * 4 + qb.codes.size * 4 + (qa.scales.size + qb.scales.size) * 4;
  console.log(`${M}×${N}×${K}:`);
  console.log(
    `  f32 matmul:          ${msF32.toFixed(2)} ms, ${(gflop / (msF32 / 1e3)).toFixed(2)} GFLOP/s, reads ${fmtBytes(f32Bytes)}`,
  );
  console.log(
    `  block-scaled E4M3:   ${msFp8.toFixed(2)} ms, ${(gflop / (msFp8 / 1e3)).toFixed(2)} GFLOP/s, reads ${fmtBytes(fp8Bytes)} (codes ${fmtBytes((qa.codes.size + qb.codes.size) * 4)} + scales ${fmtBytes((qa.scales.size + qb.scales.size) * 4)})`,
  );
  console.log(
    `  ratio fp8/f32: speed ${(msF32 / msFp8).toFixed(2)}×, input bytes ${(fp8Bytes / f32Bytes).toFixed(3)}×\n`,
  );
  for (const t of [a, b, qa.codes, qa.scales, qb.codes, qb.scales]) t.dispose();
}
process.exit(0);
