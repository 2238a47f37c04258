// Diagnostics: single-kernel times on the micro models' shapes (512 tokens × 64 wide): the
// low-precision quantizers and GEMMs beside the f32 matmul, the RMSNorm row kernels and the
// attention kernels (B 8, T 64, 4 heads of 16) and the embedding backward. Each figure: ten dispatches in one submit,
// median of 20 such runs, per dispatch. Software adapters: compare the lines with each other, not
// with other machines.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/kernel-times.ts
import { createNodeBackend } from '../src/backends/webgpu/node';
import { timeMedian } from './timing';
import type { QuantSpec } from '../src/engine/backend';
import { withKernelPaths } from '../src/backends/webgpu/device';
import { Rng } from '../src/engine/rng';
import type { Tensor } from '../src/engine/tensor';
const be = await createNodeBackend();
const spec: QuantSpec = { format: 'e4m3', block: 128, scale: 'f32' };
const F32 = { mantissaBits: 0, promoteEvery: 0 };
const time = (name: string, fn: () => Tensor[]) => timeMedian(be, name, fn);
const rng = new Rng(1);
const x = be.fromArray(rng.normalArray(512 * 64), [512, 64]);
const w64 = be.fromArray(rng.normalArray(64 * 64), [64, 64]);
const w128 = be.fromArray(rng.normalArray(128 * 64), [128, 64]);
const [qw] = be.quantizeBlocksPair(w64, spec);
const [qw2] = be.quantizeBlocksPair(w128, spec);
const xt = be.quantizeRowsT(x, spec);
await be.flush();
await time('quantizeBlocksPair 64x64', () => be.quantizeBlocksPair(w64, spec).flatMap((q) => [q.codes, q.scales]));
await time('quantizeBlocksPair 128x64', () => be.quantizeBlocksPair(w128, spec).flatMap((q) => [q.codes, q.scales]));
await time('quantizeRowsT 512x64', () => {
  const q = be.quantizeRowsT(x, spec);
  return [q.codes, q.scales];
});
// The micro model's 14 block-linear weights (2 layers: q, k, v, o 64×64; gate, up 128×64; down
// 64×128) as slices of one arena, quantized by one pairs dispatch or one pair dispatch each.
const micro = [64, 64, 64, 64, 128, 128, 64, 64, 64, 64, 64, 128, 128, 64].map((r, i) => [
  r,
  i === 6 || i === 13 ? 128 : 64,
]);
const arenaW = be.fromArray(rng.normalArray(micro.length * 8192), [micro.length * 8192]);
const microW = micro.map(([r, c], i) => be.slice(arenaW, i * 8192, [r, c]));
await time('quantizeBlocksPair x14 (micro weights)', () =>
  microW.flatMap((w) => be.quantizeBlocksPair(w, spec).flatMap((q) => [q.codes, q.scales])),
);
await time('quantizeBlocksPairs 14 (micro weights)', () =>
  be.quantizeBlocksPairs(microW, spec).flatMap((p) => p.flatMap((q) => [q.codes, q.scales])),
);
const xtT = be.fromArray(rng.normalArray(512 * 64), [64, 512]);
await time('quantizeRows 64x512', () => {
  const q = be.quantizeRows(xtT, spec);
  return [q.codes, q.scales];
});
await time('quantizeRows 512x64', () => {
  const q = be.quantizeRows(x, spec);
  return [q.codes, q.scales];
});
const xq = be.quantizeRows(x, spec);
await time('bsm fwd codes 512x64 . 64x64', () => [be.blockScaledMatmul(xq, qw, F32)]);
await time('qmm fwd 512x64 . 64x64', () => [be.quantizedMatmul(x, spec, qw, F32)]);
await time('qmm fwd 512x64 . 128x64', () => [be.quantizedMatmul(x, spec, qw2, F32)]);
await time('qmm wgrad dyT(64x512) . xT', () => [be.quantizedMatmul(x, spec, xt, F32, true)]);
await time('f32 matmul 512x64 . 64x64T', () => [be.matmul(x, w64, { transB: true })]);
await time('f32 matmul 512x64 . 128x64T', () => [be.matmul(x, w128, { transB: true })]);
await time('f32 wgrad xT x', () => [be.matmul(x, x, { transA: true })]);
const xr = be.fromArray(rng.normalArray(512 * 64), [512, 64]);
const y = be.fromArray(rng.normalArray(512 * 64), [512, 64]);
const wn = be.fromArray(rng.normalArray(64), [64]);
await time('rmsnorm 512x64', () => {
  const r = be.rmsnorm(xr, wn, 1e-6);
  return [r.y, r.rstd];
});
await time('addRmsnorm 512x64', () => {
  const r = be.addRmsnorm(xr, y, wn, 1e-6);
  return [r.sum, r.y, r.rstd];
});
const rstd = be.rmsnorm(xr, wn, 1e-6).rstd;
await time('rmsnorm bwd 512x64', () => {
  const r = be.rmsnormBackward(xr, wn, rstd, y);
  return [r.dx, r.dw];
});
await time('rmsnorm bwd 512x64 +res +dy part', () => {
  const r = be.rmsnormBackward(xr, wn, rstd, y, xr, [y]);
  return [r.dx, r.dw];
});
await time('rmsnorm tree 512x64', () =>
  withKernelPaths(be, { subgroups: false }, () => {
    const r = be.rmsnorm(xr, wn, 1e-6);
    return [r.y, r.rstd];
  }),
);
await time('sum 32K', () => [be.sum(xr)]);
await time('add 512x64', () => [be.add(xr, y)]);
const [B, T, H, d] = [8, 64, 4, 16];
const heads = () => be.fromArray(rng.normalArray(B * T * H * d), [B, T, H, d]);
const [q, k, v] = [heads(), heads(), heads()];
const shape = { batch: B, seq: T, heads: H, kvHeads: H, dQK: d, dV: d, scale: 0.25 };
const fwd = be.attention(q, k, v, shape);
await time('attention fwd B8 T64 H4 d16', () => {
  const r = be.attention(q, k, v, shape);
  return [r.o, r.lse];
});
await time('attention bwd B8 T64 H4 d16', () => {
  const r = be.attentionBackward(q, k, v, fwd.o, fwd.lse, fwd.o, shape);
  return [r.dq, r.dk, r.dv];
});
const ids = be.fromArray(
  Array.from({ length: 512 }, (_, i) => (i * 7) % 64),
  [512],
  'i32',
);
const dOut = be.fromArray(rng.normalArray(512 * 64), [512, 64]);
await time('embedding bwd V64 x 64 over 512 ids', () => [be.embeddingBackward(ids, dOut, 64)]);
process.exit(0);
