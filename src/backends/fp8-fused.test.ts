// Quantize-on-load and the paired / transposing quantizers (issue 21): each is bit-identical to
// the two-step path it replaces, on the GPU, at odd shapes; and the GPU equals the CPU reference.
//   quantizedMatmul(A, spec, B)           = blockScaledMatmul(quantizeRows(A, spec), B)
//   quantizedMatmul(Aᵀ stored, …, true)   = blockScaledMatmul(quantizeRows(transpose(A)), B)
//   quantizeRowsT(x)                      = quantizeRows(transpose(x))
//   quantizeBlocksPair(w)                 = [quantizeBlocks(w), quantizeBlocks(transpose(w))]
//   quantizeBlocksPairs(ws)               = ws.map(quantizeBlocksPair), in one dispatch for arena slices
//   quantizeRowsPairs(ws)                 = ws.map(w => [quantizeRows(w), quantizeRowsT(w)]), likewise
import { describe, expect, it } from 'vitest';
import { inOneArena, quantInput } from '../check/fp8';
import type { AccumSpec, Backend, QTensor, QuantSpec } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';
import { blockScaledMatmul as gpuBlockScaledMatmul, quantizedMatmul as gpuQuantizedMatmul } from './webgpu/fp8_gemm';

const F32: AccumSpec = { mantissaBits: 0, promoteEvery: 0 };

/** [rows, cols] → [cols, rows] through swap01 (the transpose the fused paths avoid). */
function transpose(be: Backend, x: Tensor): Tensor {
  const [r, c] = x.shape;
  return be.view(be.swap01(be.view(x, [r, c, 1])), [c, r]);
}

async function bits(t: Tensor): Promise<number[]> {
  const d = await t.read();
  const f = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) f[i] = d[i];
  return Array.from(new Int32Array(f.buffer));
}

async function sameQ(x: QTensor, y: QTensor, what: string): Promise<void> {
  expect([x.rows, x.cols, x.tiling], what).toEqual([y.rows, y.cols, y.tiling]);
  expect(Array.from(await x.codes.read()), `${what}: codes`).toEqual(Array.from(await y.codes.read()));
  expect(await bits(x.scales), `${what}: scales`).toEqual(await bits(y.scales));
}

const M_ODD = [1, 7, 33, 130];
const K_ODD = [128, 384, 130];
const N_ODD = [1, 9, 67];

describe('quantizedMatmul (A quantized inside the GEMM)', () => {
  // Each (format, rule, B tiling, tile shape) is a pipeline to compile (seconds each on a software
  // adapter), so the shapes vary under two fixed recipes — V3's (E4M3, f32 scales, B = 128, B×B
  // weight blocks) and MXFP4's (E2M1, MX scales, B = 32, row tiles) — at one tile shape, plus the
  // backend's own tile choice and two other tile shapes on a few cases.
  const RECIPES: Array<{ spec: QuantSpec; b: 'blocks' | 'rows' }> = [
    { spec: { format: 'e4m3', block: 128, scale: 'f32' }, b: 'blocks' },
    { spec: { format: 'e2m1', block: 32, scale: 'mx' }, b: 'rows' },
  ];
  const TILES = { wgX: 8, wgY: 8, tk: 32 };
  it('equals quantizeRows + blockScaledMatmul bit for bit (M 1/7/33/130, K 128/384/130, N odd; A and Aᵀ)', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(21);
    let cases = 0;
    for (const M of M_ODD)
      for (const K of K_ODD) {
        const N = N_ODD[cases % N_ODD.length];
        const { spec, b } = RECIPES[cases % RECIPES.length];
        cases++;
        const w = gpu.fromArray(quantInput(rng, N, K), [N, K]);
        const qb = b === 'blocks' ? gpu.quantizeBlocks(w, spec) : gpu.quantizeRows(w, spec);
        const what = `M=${M} K=${K} N=${N} ${spec.format} ${spec.scale} B=${spec.block} b=${b}`;
        const a = gpu.fromArray(quantInput(rng, M, K), [M, K]);
        const want = await bits(gpuBlockScaledMatmul(gpu, gpu.quantizeRows(a, spec), qb, F32, TILES));
        expect(await bits(gpuQuantizedMatmul(gpu, a, spec, qb, F32, false, TILES)), what).toEqual(want);
        // The same A stored transposed, read as Aᵀ.
        const at = transpose(gpu, a);
        expect(await bits(gpuQuantizedMatmul(gpu, at, spec, qb, F32, true, TILES)), `${what} transA`).toEqual(want);
        if (cases % 4 !== 1) continue;
        // The backend's own tile choice, and two other tile shapes: the same bits.
        expect(await bits(gpu.quantizedMatmul(a, spec, qb, F32)), `${what} auto tiles`).toEqual(want);
        for (const tiles of [
          { wgX: 4, wgY: 4, tk: 4 },
          { wgX: 16, wgY: 8, tk: 16 },
        ]) {
          const other = await bits(gpuQuantizedMatmul(gpu, a, spec, qb, F32, false, tiles));
          expect(other, `${what} ${JSON.stringify(tiles)}`).toEqual(want);
        }
      }
  });

  it('the limited-accumulator experiment takes the two-step path and gives its bits', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    const [M, N, K] = [7, 9, 200];
    const spec: QuantSpec = { format: 'e4m3', block: 64, scale: 'f32' };
    const a = gpu.fromArray(quantInput(rng, M, K), [M, K]);
    const qb = gpu.quantizeBlocks(gpu.fromArray(quantInput(rng, N, K), [N, K]), spec);
    const accum: AccumSpec = { mantissaBits: 14, promoteEvery: 128 };
    const want = await bits(gpu.blockScaledMatmul(gpu.quantizeRows(a, spec), qb, accum));
    expect(await bits(gpu.quantizedMatmul(a, spec, qb, accum))).toEqual(want);
  });

  it('rejects mismatched blocks and inner dims', async () => {
    const gpu = await gpuBackend();
    const a = gpu.zeros([3, 64]);
    const qb = gpu.quantizeRows(gpu.zeros([5, 64]), { format: 'e4m3', block: 32, scale: 'f32' });
    expect(() => gpu.quantizedMatmul(a, { format: 'e4m3', block: 64, scale: 'f32' }, qb, F32)).toThrow(/block/);
    expect(() => gpu.quantizedMatmul(a, { format: 'e4m3', block: 32, scale: 'f32' }, qb, F32, true)).toThrow(
      /inner dims/,
    );
  });
});

describe('quantizeRowsT and quantizeBlocksPair', () => {
  for (const [rows, cols] of [
    [1, 7],
    [7, 33],
    [33, 130],
    [130, 67],
    [300, 257],
  ])
    it(`GPU: equal to quantizing a transposed copy, and to the CPU, at ${rows}×${cols}`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(rows * 1000 + cols);
      const data = quantInput(rng, rows, cols);
      for (const [i, spec] of (
        [
          { format: 'e4m3', block: 128, scale: 'f32' },
          { format: 'e5m2', block: 32, scale: 'ue8m0' },
          { format: 'e2m1', block: 64, scale: 'mx' },
        ] as QuantSpec[]
      ).entries()) {
        const what = `${rows}×${cols} #${i}`;
        const x = gpu.fromArray(data, [rows, cols]);
        const xt = transpose(gpu, x);
        const t = gpu.quantizeRowsT(x, spec);
        await sameQ(t, gpu.quantizeRows(xt, spec), `${what} rowsT`);
        await sameQ(t, cpu.quantizeRowsT(cpu.fromArray(data, [rows, cols]), spec), `${what} rowsT vs cpu`);
        const [p, pt] = gpu.quantizeBlocksPair(x, spec);
        await sameQ(p, gpu.quantizeBlocks(x, spec), `${what} pair`);
        await sameQ(pt, gpu.quantizeBlocks(xt, spec), `${what} pair ᵀ`);
        const [cp, cpt] = cpu.quantizeBlocksPair(cpu.fromArray(data, [rows, cols]), spec);
        await sameQ(p, cp, `${what} pair vs cpu`);
        await sameQ(pt, cpt, `${what} pair ᵀ vs cpu`);
      }
    });
});

describe("quantizeBlocksPairs and quantizeRowsPairs (a step's weights in one dispatch)", () => {
  const SHAPES = [
    [1, 7],
    [7, 33],
    [33, 130],
    [130, 67],
    [300, 257],
    [64, 64],
  ];
  /** The per-weight ops each multi-weight op stands for. */
  const single = (be: Backend, kind: 'blocks' | 'rows', w: Tensor, spec: QuantSpec): [QTensor, QTensor] =>
    kind === 'blocks' ? be.quantizeBlocksPair(w, spec) : [be.quantizeRows(w, spec), be.quantizeRowsT(w, spec)];
  const multi = (be: Backend, kind: 'blocks' | 'rows', ws: Tensor[], spec: QuantSpec) =>
    kind === 'blocks' ? be.quantizeBlocksPairs(ws, spec) : be.quantizeRowsPairs(ws, spec);
  for (const kind of ['blocks', 'rows'] as const)
    for (const [i, spec] of (
      [
        { format: 'e4m3', block: 128, scale: 'f32' },
        { format: 'e5m2', block: 32, scale: 'ue8m0' },
        { format: 'e2m1', block: 64, scale: 'mx' },
      ] as QuantSpec[]
    ).entries())
      it(`GPU ${kind}: slices of one arena in one dispatch, each equal to the per-weight ops and to the CPU (#${i})`, async () => {
        const gpu = await gpuBackend();
        const rng = new Rng(40 + i);
        const datas = SHAPES.map(([r, c]) => quantInput(rng, r, c));
        // The weights at aligned offsets of one flat tensor, with gaps, as in the parameter arena.
        const ws = inOneArena(
          gpu,
          SHAPES.map(([r, c], k) => gpu.fromArray(datas[k], [r, c])),
          1,
        );
        await gpu.flush();
        const before = gpu.rt.pendingDispatches;
        const pairs = multi(gpu, kind, ws, spec);
        expect(gpu.rt.pendingDispatches - before, 'one dispatch').toBe(1);
        for (const [k, [r, c]] of SHAPES.entries()) {
          const what = `${r}×${c}`;
          const [p, pt] = single(gpu, kind, ws[k], spec);
          await sameQ(pairs[k][0], p, `${what} vs the per-weight op`);
          await sameQ(pairs[k][1], pt, `${what} ᵀ vs the per-weight op`);
          const [cp, cpt] = single(cpu, kind, cpu.fromArray(datas[k], [r, c]), spec);
          await sameQ(pairs[k][0], cp, `${what} vs cpu`);
          await sameQ(pairs[k][1], cpt, `${what} ᵀ vs cpu`);
        }
        // The outputs share buffers: releasing some parts leaves the others readable.
        for (const [q, qt] of pairs.slice(0, -1)) for (const t of [q.codes, q.scales, qt.codes, qt.scales]) t.dispose();
        const last = pairs[pairs.length - 1];
        const [p, pt] = single(gpu, kind, ws[ws.length - 1], spec);
        await sameQ(last[0], p, 'last part after the others were released');
        await sameQ(last[1], pt, 'last part ᵀ after the others were released');
      });

  it('GPU: weights in separate buffers fall back to the per-weight ops, with their bits', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(50);
    const spec: QuantSpec = { format: 'e4m3', block: 128, scale: 'f32' };
    const ws = [
      [5, 9],
      [130, 3],
    ].map(([r, c]) => gpu.fromArray(quantInput(rng, r, c), [r, c]));
    await gpu.flush();
    for (const kind of ['blocks', 'rows'] as const) {
      const before = gpu.rt.pendingDispatches;
      const pairs = multi(gpu, kind, ws, spec);
      expect(gpu.rt.pendingDispatches - before).toBe(kind === 'blocks' ? 2 : 4);
      for (const [k, w] of ws.entries()) {
        const [p, pt] = single(gpu, kind, w, spec);
        await sameQ(pairs[k][0], p, `${kind} #${k}`);
        await sameQ(pairs[k][1], pt, `${kind} #${k} ᵀ`);
      }
    }
  });
});
