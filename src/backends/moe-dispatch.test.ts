// MoE dispatch/combine beyond their op checks (src/check/ops.test.ts): bit-identical reruns, every
// tile shape giving the same bits, all tokens routed to one expert (the others idle: their weight
// gradients exactly zero), a single expert (E = 1: the grouped GEMM is a plain matmul), and the
// split-K path of the weight gradient, the gather backward that adds an earlier gradient, both
// expert gradients in one dispatch, gate and up in one dispatch, and the combine backward's two
// gradients in one dispatch (bit for bit an f32 emulation of the former two kernels). Last, the
// gathered rows: the grouped GEMMs reading x's token rows through slotAssign give the bits of
// moeGather + the direct kernels, in one dispatch each, and through the tape the op
// moeExpertsGathered gives the gradients of moeGather + moeExpertsMany, bit for bit. And the
// grouped GEMMs' vec4 load path gives the bits of the scalar one.
import { describe, expect, it } from 'vitest';
import { hostPlan, randomIdx } from '../check/moe_dispatch';
import type { Backend, MoePlan } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';
import {
  groupedThreads,
  moeGroupedMatmul as groupedWith,
  setGroupedScalarOnly,
  weightGradSplits,
} from './webgpu/moe_dispatch';

function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-6;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(a[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return a.length === ref.length ? num / den : Infinity;
}

const bits = (v: ArrayLike<number>) => Array.from(new Uint32Array(new Float32Array(v).buffer));

/**
 * moeCombineBackward in f32 arithmetic (Math.fround after every operation), in the kernel's
 * order: dy[m] = weight[a] · dOut[a / K] with a = slotAssign[m]; dWeight[a] per the dot-product
 * workgroup of shaders/moe_dispatch.wgsl: DWG = 64 threads, thread t summing the V-elements t,
 * t + 64, … (V = 4 lanes, each lane its own running sum, when d % 4 == 0; else 1), the lanes
 * added x + y + z + w, then the halving tree over the 64 partials. These are the bits of the
 * former two-kernel combine backward (combine_bwd_dy, combine_bwd_dw).
 */
function combineBackwardF32(
  h: { y: Float64Array; g: Float64Array; dOut: Float64Array },
  plan: { slotAssign: Int32Array; assignSlot: Int32Array },
  N: number,
  K: number,
  d: number,
) {
  const f = Math.fround;
  const [y, g, dOut] = [Float32Array.from(h.y), Float32Array.from(h.g), Float32Array.from(h.dOut)];
  const M = N * K;
  const dy = new Float32Array(M * d);
  for (let m = 0; m < M; m++) {
    const a = plan.slotAssign[m];
    for (let c = 0; c < d; c++) dy[m * d + c] = f(g[a] * dOut[Math.floor(a / K) * d + c]);
  }
  const DWG = 64;
  const lanes = d % 4 === 0 ? 4 : 1;
  const dv = d / lanes;
  const dw = new Float32Array(M);
  const partial = new Float32Array(DWG);
  for (let a = 0; a < M; a++) {
    const dRow = Math.floor(a / K) * d;
    const yRow = plan.assignSlot[a] * d;
    for (let t = 0; t < DWG; t++) {
      const acc = [0, 0, 0, 0];
      for (let c = t; c < dv; c += DWG)
        for (let e = 0; e < lanes; e++) acc[e] = f(acc[e] + f(dOut[dRow + c * lanes + e] * y[yRow + c * lanes + e]));
      partial[t] = lanes === 4 ? f(f(f(acc[0] + acc[1]) + acc[2]) + acc[3]) : acc[0];
    }
    for (let s = DWG / 2; s > 0; s >>= 1) for (let t = 0; t < s; t++) partial[t] = f(partial[t] + partial[t + s]);
    dw[a] = partial[0];
  }
  return { dy, dw };
}

function uploadPlan(be: Backend, idx: Int32Array, E: number): MoePlan {
  const p = hostPlan(idx, E);
  return {
    offsets: be.fromArray(p.offsets, [E + 1], 'i32'),
    slotAssign: be.fromArray(p.slotAssign, [idx.length], 'i32'),
    assignSlot: be.fromArray(p.assignSlot, [idx.length], 'i32'),
  };
}

/** Every op of the family on one routing, on one backend; host copies of all outputs. */
async function runAll(
  be: Backend,
  h: { x: Float64Array; w: Float64Array; wt: Float64Array; g: Float64Array; dOut: Float64Array },
  idx: Int32Array,
  N: number,
  K: number,
  E: number,
  a: number,
  b: number,
): Promise<Record<string, Float64Array>> {
  const plan = uploadPlan(be, idx, E);
  const M = N * K;
  const xTok = be.fromArray(h.x, [N, a]);
  const xs = be.moeGather(xTok, plan, K); // [M, a]
  const w = be.fromArray(h.w, [E, b, a]);
  const wt = be.fromArray(h.wt, [E, a, b]);
  const y = be.moeGroupedMatmul(xs, w, plan, true); // [M, b]
  const y2 = be.moeGroupedMatmul(xs, wt, plan, false); // [M, b]
  const gate = be.fromArray(h.g, [N, K]);
  const out = be.moeCombine(y, gate, plan); // [N, b]
  const dOut = be.fromArray(h.dOut, [N, b]);
  const { dy, dWeight } = be.moeCombineBackward(y, gate, plan, dOut);
  const dxs = be.moeGroupedMatmul(dy, w, plan, false); // [M, a]
  const dw = be.moeGroupedWeightGrad(dy, xs, plan, E); // [E, b, a]
  const dwt = be.moeGroupedWeightGrad(xs, dy, plan, E); // [E, a, b]
  const dx = be.moeGatherBackward(dxs, plan, K); // [N, a]
  const named: Record<string, Tensor> = { xs, y, y2, out, dy, dWeight, dxs, dw, dwt, dx };
  const res: Record<string, Float64Array> = {};
  for (const [k, t] of Object.entries(named)) res[k] = (await t.read()) as Float64Array;
  expect(res.xs.length).toBe(M * a);
  return res;
}

function hostInputs(rng: Rng, N: number, K: number, E: number, a: number, b: number) {
  return {
    x: rng.normalArray(N * a),
    w: rng.normalArray(E * b * a),
    wt: rng.normalArray(E * a * b),
    g: Float64Array.from({ length: N * K }, () => rng.next()),
    dOut: rng.normalArray(N * b),
  };
}

/** GPU vs CPU for every output of runAll; returns the worst error and the GPU results. */
async function compareAll(idx: Int32Array, N: number, K: number, E: number, a: number, b: number, seed: number) {
  const gpu = await gpuBackend();
  const h = hostInputs(new Rng(seed), N, K, E, a, b);
  const ref = await runAll(cpu, h, idx, N, K, E, a, b);
  const got = await runAll(gpu, h, idx, N, K, E, a, b);
  let worst = 0;
  for (const k of Object.keys(ref)) {
    const err = maxRelErr(got[k], ref[k]);
    worst = Math.max(worst, err);
    expect(err, k).toBeLessThan(1e-5);
  }
  return { worst, got };
}

describe('moe dispatch / combine', () => {
  it('is bit-identical run to run', async () => {
    const gpu = await gpuBackend();
    const [N, K, E, a, b] = [301, 2, 8, 37, 70];
    const rng = new Rng(5);
    const idx = randomIdx(rng, N, K, [0, 2, 3, 6, 7]);
    const h = hostInputs(rng, N, K, E, a, b);
    const r1 = await runAll(gpu, h, idx, N, K, E, a, b);
    const r2 = await runAll(gpu, h, idx, N, K, E, a, b);
    for (const k of Object.keys(r1)) expect(Array.from(r2[k]), k).toEqual(Array.from(r1[k]));
  });

  it('gives the same bits for every tile shape of the grouped GEMM, on both load paths', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(9);
    // Odd widths (the scalar path), then widths that are multiples of 4 (the vec4 path), with
    // segments of about 90 rows: partial row tiles at every tile height, the 128-row ones ending
    // in their lower half for some experts and in their upper half for others.
    for (const [N, K, E, a, b] of [
      [150, 3, 6, 45, 77],
      [150, 3, 6, 44, 76],
    ]) {
      const idx = randomIdx(rng, N, K, [0, 1, 3, 4, 5]);
      const plan = uploadPlan(gpu, idx, E);
      const x = gpu.fromArray(rng.normalArray(N * K * a), [N * K, a]);
      for (const transW of [true, false]) {
        const w = gpu.fromArray(rng.normalArray(E * a * b), transW ? [E, b, a] : [E, a, b]);
        let first: Float64Array | null = null;
        for (const tiles of [
          { wgX: 4, wgY: 4 },
          { wgX: 8, wgY: 4 },
          { wgX: 8, wgY: 8 },
          { wgX: 12, wgY: 4 },
          { wgX: 12, wgY: 16 },
          { wgX: 16, wgY: 16 },
        ]) {
          const y = (await groupedWith(gpu, x, w, plan, transW, tiles).read()) as Float64Array;
          const what = `a=${a} b=${b} ${tiles.wgX}x${tiles.wgY} transW=${transW}`;
          if (first) expect(Array.from(y), what).toEqual(Array.from(first));
          else first = y;
        }
      }
    }
  });

  it('covers the expert width with the least padded column tile', () => {
    expect(groupedThreads(2048, 96, 16).wgX).toBe(12); // one 96-wide tile, not 64 + 32 of padding
    expect(groupedThreads(2048, 128, 16).wgX).toBe(8);
    expect(groupedThreads(2048, 64, 16).wgX).toBe(8);
  });

  it('routes every token to one expert (the others idle) and matches the CPU', async () => {
    const [N, K, E, a, b] = [97, 1, 5, 33, 19];
    const idx = new Int32Array(N * K).fill(3);
    const { worst, got } = await compareAll(idx, N, K, E, a, b, 21);
    // Idle experts' weight gradients are exactly zero.
    for (const e of [0, 1, 2, 4]) {
      expect(
        got.dw.subarray(e * a * b, (e + 1) * a * b).every((v) => v === 0),
        `dw expert ${e}`,
      ).toBe(true);
      expect(
        got.dwt.subarray(e * a * b, (e + 1) * a * b).every((v) => v === 0),
        `dwt expert ${e}`,
      ).toBe(true);
    }
    console.log(`[moe] one busy expert: worst rel err ${worst.toExponential(2)}`);
  });

  it('handles a single expert (E = 1)', async () => {
    const [N, K, E, a, b] = [130, 1, 1, 66, 7];
    const idx = new Int32Array(N * K);
    const { worst } = await compareAll(idx, N, K, E, a, b, 22);
    console.log(`[moe] E = 1: worst rel err ${worst.toExponential(2)}`);
  });

  it('splits long segments of the weight gradient and matches the CPU', async () => {
    const gpu = await gpuBackend();
    const [N, K, E, a, b] = [2100, 1, 2, 9, 6];
    expect(weightGradSplits(E, N * K, E)).toBeGreaterThan(1); // the path under test
    const rng = new Rng(23);
    const idx = randomIdx(rng, N, K, [0, 1]);
    const dyH = rng.normalArray(N * K * b);
    const xH = rng.normalArray(N * K * a);
    const results: Float64Array[] = [];
    for (const be of [cpu, gpu] as Backend[]) {
      const plan = uploadPlan(be, idx, E);
      const dw = be.moeGroupedWeightGrad(be.fromArray(dyH, [N * K, b]), be.fromArray(xH, [N * K, a]), plan, E);
      expect(dw.shape).toEqual([E, b, a]);
      results.push((await dw.read()) as Float64Array);
    }
    const err = maxRelErr(results[1], results[0]);
    console.log(`[moe] split weight grad: rel err ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-5);
  });
  it('gather backward with an earlier gradient: acc + the sum, bit for bit add(acc, sum), vec4 and scalar rows', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(21);
    for (const d of [8, 7]) {
      const [N, K, E] = [33, 3, 5];
      const idx = randomIdx(rng, N, K, [0, 1, 2, 3, 4]);
      const dy = rng.normalArray(N * K * d);
      const acc = rng.normalArray(N * d);
      const run = async (be: Backend) => {
        const plan = uploadPlan(be, idx, E);
        const dyT = be.fromArray(dy, [N * K, d]);
        const accT = be.fromArray(acc, [N, d]);
        const fused = await be.moeGatherBackward(dyT, plan, K, accT).read();
        const sep = await be.add(accT, be.moeGatherBackward(dyT, plan, K)).read();
        return { fused, sep };
      };
      const g = await run(gpu);
      const c = await run(cpu);
      expect(bits(g.fused), `d=${d}`).toEqual(bits(g.sep));
      expect(maxRelErr(g.fused, c.fused), `d=${d}`).toBeLessThan(1e-6);
      expect(maxRelErr(c.fused, c.sep)).toBe(0);
    }
  });
  it('both expert gradients in one dispatch: the bits of the two kernels (and the add), and the CPU', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(23);
    // [N, K, E, a, b]: ragged widths, idle experts, a segment shorter than a tile.
    for (const [N, K, E, a, b] of [
      [33, 2, 5, 7, 13],
      [64, 4, 8, 32, 96],
    ]) {
      const used = Array.from({ length: E - 1 }, (_, i) => i); // the last expert idle
      const idx = randomIdx(rng, N, K, used);
      const M = N * K;
      const h = {
        dy: rng.normalArray(M * b),
        x: rng.normalArray(M * a),
        w: rng.normalArray(E * b * a),
        acc: rng.normalArray(M * a),
      };
      const run = async (be: Backend) => {
        const plan = uploadPlan(be, idx, E);
        const dy = be.fromArray(h.dy, [M, b]);
        const x = be.fromArray(h.x, [M, a]);
        const w = be.fromArray(h.w, [E, b, a]);
        const acc = be.fromArray(h.acc, [M, a]);
        const fused = be.moeGroupedGrads(dy, x, w, plan, acc, { dx: true, dw: true });
        const plain = be.moeGroupedGrads(dy, x, w, plan, null, { dx: true, dw: true });
        const sepDx = be.add(acc, be.moeGroupedMatmul(dy, w, plan, false));
        const sepDw = be.moeGroupedWeightGrad(dy, x, plan, E);
        return {
          dx: await fused.dx!.read(),
          dw: await fused.dw!.read(),
          plainDx: await plain.dx!.read(),
          sepDx: await sepDx.read(),
          sepDw: await sepDw.read(),
          sepPlain: await be.moeGroupedMatmul(dy, w, plan, false).read(),
        };
      };
      const g = await run(gpu);
      const c = await run(cpu);
      const what = `N=${N} K=${K} E=${E} a=${a} b=${b}`;
      expect(bits(g.dx), what).toEqual(bits(g.sepDx));
      expect(bits(g.dw), what).toEqual(bits(g.sepDw));
      expect(bits(g.plainDx), what).toEqual(bits(g.sepPlain));
      expect(maxRelErr(g.dx, c.dx), what).toBeLessThan(1e-5);
      expect(maxRelErr(g.dw, c.dw), what).toBeLessThan(1e-5);
      // …and it is one dispatch.
      const plan = uploadPlan(gpu, idx, E);
      const args = [gpu.fromArray(h.dy, [M, b]), gpu.fromArray(h.x, [M, a]), gpu.fromArray(h.w, [E, b, a])] as const;
      await gpu.rt.flush();
      const before = gpu.rt.dispatches;
      gpu.moeGroupedGrads(...args, plan, gpu.fromArray(h.acc, [M, a]), { dx: true, dw: true });
      await gpu.rt.flush();
      expect(gpu.rt.dispatches - before, what).toBe(1);
    }
  });
  it('combine backward in one dispatch: dy and dWeight bit for bit the f32 emulation of the old kernels, and the CPU', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(31);
    const E = 8;
    // Odd shapes, vec4 (d % 4 == 0) and scalar rows, and M + M·d/64 > 65535 workgroups (the grid folded into y).
    const shapes = [1, 7, 33, 130].flatMap((N) =>
      [1, 2, 6].flatMap((K) => [1, 3, 4, 7, 64, 130].map((d) => [N, K, d])),
    );
    const folded = [35000, 2, 3]; // 70000 + ceil(210000 / 64) workgroups
    expect(70000 + Math.ceil(210000 / 64)).toBeGreaterThan(gpu.rt.limits.maxComputeWorkgroupsPerDimension);
    for (const [N, K, d] of [...shapes, folded]) {
      const what = `N=${N} K=${K} d=${d}`;
      const M = N * K;
      const idx = randomIdx(
        rng,
        N,
        K,
        Array.from({ length: E }, (_, i) => i),
      );
      const h = {
        y: rng.normalArray(M * d),
        g: Float64Array.from({ length: M }, () => rng.next()),
        dOut: rng.normalArray(N * d),
      };
      const run = async (be: Backend) => {
        const plan = uploadPlan(be, idx, E);
        const args = [
          be.fromArray(h.y, [M, d]),
          be.fromArray(h.g, [N, K]),
          plan,
          be.fromArray(h.dOut, [N, d]),
        ] as const;
        const r = be.moeCombineBackward(...args);
        return { dy: (await r.dy.read()) as Float64Array, dw: (await r.dWeight.read()) as Float64Array };
      };
      const g = await run(gpu);
      const c = await run(cpu);
      const ref = combineBackwardF32(h, hostPlan(idx, E), N, K, d);
      expect(bits(g.dy), `dy ${what}`).toEqual(bits(ref.dy));
      expect(bits(g.dw), `dWeight ${what}`).toEqual(bits(ref.dw));
      expect(maxRelErr(g.dy, c.dy), what).toBeLessThan(1e-6);
      expect(maxRelErr(g.dw, c.dw), what).toBeLessThan(1e-5);
    }
    // …and it is one dispatch (vec4 and scalar rows).
    for (const d of [64, 7]) {
      const [N, K] = [33, 2];
      const plan = uploadPlan(gpu, randomIdx(rng, N, K, [0, 1, 2]), 3);
      const y = gpu.fromArray(rng.normalArray(N * K * d), [N * K, d]);
      const w = gpu.fromArray(rng.normalArray(N * K), [N, K]);
      const dOut = gpu.fromArray(rng.normalArray(N * d), [N, d]);
      await gpu.rt.flush();
      const before = gpu.rt.dispatches;
      gpu.moeCombineBackward(y, w, plan, dOut);
      await gpu.rt.flush();
      expect(gpu.rt.dispatches - before, `d=${d}`).toBe(1);
    }
  });
  it('gate and up in one dispatch: the bits of two grouped GEMMs', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(29);
    for (const [N, K, E, a, b] of [
      [33, 2, 5, 7, 13],
      [64, 4, 8, 32, 96],
    ]) {
      const idx = randomIdx(
        rng,
        N,
        K,
        Array.from({ length: E - 1 }, (_, i) => i),
      );
      const M = N * K;
      const plan = uploadPlan(gpu, idx, E);
      const x = gpu.fromArray(rng.normalArray(M * a), [M, a]);
      const wg = gpu.fromArray(rng.normalArray(E * b * a), [E, b, a]);
      const wu = gpu.fromArray(rng.normalArray(E * b * a), [E, b, a]);
      await gpu.rt.flush();
      const before = gpu.rt.dispatches;
      const [g, u] = gpu.moeGroupedMatmuls(x, [wg, wu], plan);
      await gpu.rt.flush();
      expect(gpu.rt.dispatches - before).toBe(1);
      const bits = async (t: Tensor) => Array.from(new Uint32Array(new Float32Array(await t.read()).buffer));
      expect(await bits(g)).toEqual(await bits(gpu.moeGroupedMatmul(x, wg, plan, true)));
      expect(await bits(u)).toEqual(await bits(gpu.moeGroupedMatmul(x, wu, plan, true)));
    }
  });
});

/** [N, K, E, a, b] at odd shapes: every N × K, E ≥ K cycling, a and b each through 1, 7, 33, 64, 130. */
function gatheredShapes(): number[][] {
  const ds = [1, 7, 33, 64, 130];
  const out: number[][] = [];
  for (const N of [1, 7, 33, 130])
    for (const K of [1, 2, 6]) {
      const i = out.length;
      const Es = [1, 4, 16].filter((E) => E >= K);
      out.push([N, K, Es[i % Es.length], ds[i % 5], ds[(2 * i + 1) % 5]]);
    }
  return out;
}

/** Host inputs of `products` for the shape [N, K, E, a, b]: x, the gate and up weights, their outputs' gradients. */
function productInputs(rng: Rng, s: number[]) {
  const [N, K, E, a, b] = s;
  return {
    x: rng.normalArray(N * a),
    wg: rng.normalArray(E * b * a),
    wu: rng.normalArray(E * b * a),
    dg: rng.normalArray(N * K * b),
    du: rng.normalArray(N * K * b),
  };
}

/** Gate/up forward, then both gradients up → gate (chained), gathered in the loads or by moeGather first. */
function products(be: Backend, h: Record<string, Float64Array>, idx: Int32Array, s: number[], gathered: boolean) {
  const [N, K, E, a, b] = s;
  const M = N * K;
  const plan = uploadPlan(be, idx, E);
  const x = be.fromArray(h.x, [N, a]);
  const [wg, wu] = [be.fromArray(h.wg, [E, b, a]), be.fromArray(h.wu, [E, b, a])];
  const [dg, du] = [be.fromArray(h.dg, [M, b]), be.fromArray(h.du, [M, b])];
  const both = { dx: true, dw: true };
  const rows = gathered ? x : be.moeGather(x, plan, K);
  const g = gathered ? { K } : undefined;
  const [yg, yu] = be.moeGroupedMatmuls(rows, [wg, wu], plan, g);
  const [single] = be.moeGroupedMatmuls(rows, [wu], plan, g);
  const up = be.moeGroupedGrads(du, rows, wu, plan, null, both, g);
  const gate = be.moeGroupedGrads(dg, rows, wg, plan, up.dx, both, g);
  return { yg, yu, single, dxUp: up.dx!, dwUp: up.dw!, dx: gate.dx!, dwGate: gate.dw! };
}

describe('moe grouped GEMMs on gathered rows', () => {
  it('forward pair and grads: the bits of moeGather + the direct kernels, one dispatch each, and the CPU', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(41);
    for (const s of gatheredShapes()) {
      const [N, K, E, a, b] = s;
      const what = `N=${N} K=${K} E=${E} a=${a} b=${b}`;
      const M = N * K;
      const idx = randomIdx(
        rng,
        N,
        K,
        Array.from({ length: E }, (_, e) => e),
      );
      const h = productInputs(rng, s);
      const read = async (r: Record<string, Tensor>) => {
        const out: Record<string, Float64Array> = {};
        for (const [k, t] of Object.entries(r)) out[k] = (await t.read()) as Float64Array;
        return out;
      };
      const got = await read(products(gpu, h, idx, s, true));
      const ref = await read(products(gpu, h, idx, s, false));
      const cpuGot = await read(products(cpu, h, idx, s, true));
      const cpuRef = await read(products(cpu, h, idx, s, false));
      for (const k of Object.keys(ref)) {
        expect(bits(got[k]), `${k} ${what}`).toEqual(bits(ref[k]));
        expect(maxRelErr(got[k], cpuGot[k]), `${k} ${what}`).toBeLessThan(1e-5);
        expect(maxRelErr(cpuGot[k], cpuRef[k]), `${k} ${what}`).toBe(0);
      }
      // One dispatch for the pair, one for each product's two gradients (the gather folded in).
      const plan = uploadPlan(gpu, idx, E);
      const x = gpu.fromArray(h.x, [N, a]);
      const [wg, wu] = [gpu.fromArray(h.wg, [E, b, a]), gpu.fromArray(h.wu, [E, b, a])];
      const dg = gpu.fromArray(h.dg, [M, b]);
      const acc = gpu.fromArray(rng.normalArray(M * a), [M, a]);
      const count = async (f: () => void) => {
        await gpu.rt.flush();
        const before = gpu.rt.dispatches;
        f();
        await gpu.rt.flush();
        return gpu.rt.dispatches - before;
      };
      expect(await count(() => gpu.moeGroupedMatmuls(x, [wg, wu], plan, { K })), `pair ${what}`).toBe(1);
      const both = { dx: true, dw: true };
      expect(await count(() => gpu.moeGroupedGrads(dg, x, wg, plan, acc, both, { K })), `grads ${what}`).toBe(1);
      expect(await count(() => gpu.moeGroupedGrads(dg, x, wg, plan, null, both, { K })), `grads ${what}`).toBe(1);
    }
  });

  it('a split weight gradient reads the rows gathered too: the bits of moeGather + the direct kernels', async () => {
    const gpu = await gpuBackend();
    const [N, K, E, a, b] = [1100, 2, 2, 9, 6];
    expect(weightGradSplits(E, N * K, E)).toBeGreaterThan(1); // the split path
    const rng = new Rng(43);
    const idx = randomIdx(rng, N, K, [0, 1]);
    const s = [N, K, E, a, b];
    const h = productInputs(rng, s);
    const got: Record<string, Tensor> = products(gpu, h, idx, s, true);
    const ref: Record<string, Tensor> = products(gpu, h, idx, s, false);
    for (const k of Object.keys(ref)) expect(bits(await got[k].read()), k).toEqual(bits(await ref[k].read()));
  });

  it('through the tape: moeExpertsGathered gives the outputs and gradients of moeGather + moeExpertsMany', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(47);
    for (const [N, K, E, a, b] of [
      [33, 2, 4, 7, 13],
      [130, 6, 16, 64, 33],
    ]) {
      const M = N * K;
      const plan = uploadPlan(
        gpu,
        randomIdx(
          rng,
          N,
          K,
          Array.from({ length: E }, (_, e) => e),
        ),
        E,
      );
      const input = (shape: number[]) => {
        const t = gpu.fromArray(rng.normalArray(shape.reduce((p, q) => p * q, 1)), shape);
        t.requiresGrad = true;
        return t;
      };
      const [x, wg, wu] = [input([N, a]), input([E, b, a]), input([E, b, a])];
      const [cg, cu] = [gpu.fromArray(rng.normalArray(M * b), [M, b]), gpu.fromArray(rng.normalArray(M * b), [M, b])];
      const cx = gpu.fromArray(rng.normalArray(N * a), [N, a]);
      // x is also read before (its gradient gathered last) and after (gathered first: the `prev` folded in).
      const run = async (fused: boolean, upToo: boolean) => {
        const tape = new Tape();
        const loss = tape.run(() => {
          const before = op.sum(op.mul(x, cx));
          const [g, u] = fused
            ? op.moeExpertsGathered(x, [wg, wu], plan, K)
            : op.moeExpertsMany(op.moeGather(x, plan, K), [wg, wu], plan);
          let l = op.add(before, op.sum(op.mul(g, cg)));
          if (upToo) l = op.add(l, op.sum(op.mul(u, cu)));
          return op.add(l, op.sum(op.mul(op.mul(x, x), cx)));
        });
        const grads = tape.backward(loss);
        return Promise.all(
          [loss, ...[x, wg, wu].map((t) => grads.get(t.id) ?? gpu.zeros([1]))].map(async (t) => bits(await t.read())),
        );
      };
      for (const upToo of [true, false])
        expect(await run(true, upToo), `N=${N} K=${K} E=${E} upToo=${upToo}`).toEqual(await run(false, upToo));
    }
  });
});

describe('moe grouped GEMMs: vec4 and scalar load paths', () => {
  it('give the same bits for every grouped kernel (widths multiples of 4), and the vec4 path runs', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(53);
    // [N, K, E, a, b]: idle experts, a single expert, tiles wider than the matrix, a split weight gradient.
    for (const s of [
      [67, 3, 5, 36, 20],
      [7, 2, 4, 8, 12],
      [33, 1, 1, 4, 96],
      [1100, 2, 2, 12, 8],
    ]) {
      const [N, K, E, a, b] = s;
      const M = N * K;
      const what = `N=${N} K=${K} E=${E} a=${a} b=${b}`;
      const idx = randomIdx(rng, N, K, E > 3 ? [0, 2, 3] : [0]);
      const h = {
        ...productInputs(rng, s),
        wt: rng.normalArray(E * a * b),
        g: rng.normalArray(M * b),
        u: rng.normalArray(M * b),
        dy: rng.normalArray(M * a),
      };
      const run = async (scalar: boolean) => {
        setGroupedScalarOnly(scalar);
        const kernels = new Set<string>();
        const record = gpu.rt.record.bind(gpu.rt);
        gpu.rt.record = (d) => {
          kernels.add(d.kernel.name);
          record(d);
        };
        try {
          const out: Record<string, Tensor> = {};
          for (const gathered of [true, false])
            for (const [k, t] of Object.entries(products(gpu, h, idx, s, gathered))) out[`${k}${gathered}`] = t;
          const plan = uploadPlan(gpu, idx, E);
          const xs = gpu.moeGather(gpu.fromArray(h.x, [N, a]), plan, K);
          out.y2 = gpu.moeGroupedMatmul(xs, gpu.fromArray(h.wt, [E, a, b]), plan, false);
          const [g, u] = [gpu.fromArray(h.g, [M, b]), gpu.fromArray(h.u, [M, b])];
          const w = gpu.fromArray(h.wt, [E, a, b]);
          out.swiglu = gpu.moeExpertsSwiglu(g, u, w, plan);
          const r = gpu.moeExpertsSwigluBackward(gpu.fromArray(h.dy, [M, a]), g, u, w, plan, true);
          Object.assign(out, { dgS: r.dg, duS: r.du, dwS: r.dw as Tensor });
          const res: Record<string, number[]> = {};
          for (const [k, t] of Object.entries(out)) res[k] = bits(await t.read());
          return { res, kernels: [...kernels].filter((n) => n.startsWith('moe_grouped')) };
        } finally {
          gpu.rt.record = record;
          setGroupedScalarOnly(false);
        }
      };
      const v1 = await run(true);
      const v4 = await run(false);
      expect(
        v1.kernels.some((n) => n.endsWith('_v4')),
        what,
      ).toBe(false);
      expect(v4.kernels.length, what).toBeGreaterThan(0);
      expect(
        v4.kernels.filter((n) => !n.endsWith('_v4')),
        what,
      ).toEqual([]);
      for (const k of Object.keys(v1.res)) expect(v4.res[k], `${k} ${what}`).toEqual(v1.res[k]);
    }
  });
});
