// RMSNorm, RoPE and SiLU/SwiGLU beyond their op checks (src/check/ops.test.ts): determinism of the
// dw column reduction, extreme row lengths, rope∘inverse = identity, a hand-computed rotation,
// angle error at long positions, and the stable sigmoid at huge |x|.
import { describe, expect, it } from 'vitest';
import { relErr } from '../check/harness';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { cpu, gpuBackend } from '../test/gpu';

const fmt = (x: number | null) => (x === null ? '-' : x.toExponential(2));

async function readF(t: { read(): Promise<Float64Array | Int32Array> }): Promise<Float64Array> {
  return (await t.read()) as Float64Array;
}

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe('rmsnorm', () => {
  async function fwdBwd(be: Backend, N: number, D: number, seed: number) {
    const rng = new Rng(seed);
    const host = { x: rng.normalArray(N * D), w: rng.normalArray(D), dy: rng.normalArray(N * D) };
    const x = be.fromArray(host.x, [N, D]);
    const w = be.fromArray(host.w, [D]);
    const dy = be.fromArray(host.dy, [N, D]);
    const { y, rstd } = be.rmsnorm(x, w, 1e-6);
    const { dx, dw } = be.rmsnormBackward(x, w, rstd, dy);
    const out = { host, y: await readF(y), rstd: await readF(rstd), dx: await readF(dx), dw: await readF(dw) };
    for (const t of [x, w, dy, y, rstd, dx, dw]) t.dispose();
    return out;
  }

  it('is bit-identical run to run (dw reduced over several row chunks)', async () => {
    const gpu = await gpuBackend();
    const a = await fwdBwd(gpu, 200, 70, 5);
    const b = await fwdBwd(gpu, 200, 70, 5);
    for (const k of ['y', 'rstd', 'dx', 'dw'] as const) expect(bitsEqual(a[k], b[k]), k).toBe(true);
  });

  // [12353, 130]: 194 row chunks of 64, more than the one-dispatch backward keeps in workgroup
  // memory at 16 columns per group (192), so dw takes the two-pass fallback.
  for (const [N, D] of [
    [3, 8192],
    [65, 2],
    [2, 4099],
    [12353, 130],
  ] as const) {
    it(`matches the reference at N=${N} D=${D}`, async () => {
      const gpu = await gpuBackend();
      const g = await fwdBwd(gpu, N, D, 11);
      const c = await fwdBwd(cpu, N, D, 11);
      const errs = (['y', 'rstd', 'dx', 'dw'] as const).map((k) => [k, relErr(g[k], c[k])] as const);
      console.log(`rmsnorm N=${N} D=${D}: ${errs.map(([k, e]) => `${k} ${fmt(e)}`).join(' ')}`);
      for (const [k, e] of errs) expect(e, k).toBeLessThan(k === 'y' || k === 'rstd' ? 1e-5 : 1e-4);
    });
  }

  for (const [N, D] of [
    [1, 7],
    [130, 33],
    [12353, 130],
  ] as const) {
    it(`N=${N} D=${D}: dx with the gathered gradient folded in has the bits of dx, then add`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(N + D);
      const t = (shape: number[]) => gpu.fromArray(rng.normalArray(shape.reduce((p, q) => p * q, 1)), shape);
      const [x, w, dy, res] = [t([N, D]), t([D]), t([N, D]), t([N, D])];
      const { rstd } = gpu.rmsnorm(x, w, 1e-6);
      const plain = gpu.rmsnormBackward(x, w, rstd, dy);
      const folded = gpu.rmsnormBackward(x, w, rstd, dy, res);
      const added = gpu.add(res, plain.dx);
      expect(bitsEqual(await readF(folded.dx), await readF(added))).toBe(true);
      expect(bitsEqual(await readF(folded.dw), await readF(plain.dw))).toBe(true);
      for (const u of [x, w, dy, res, rstd, plain.dx, plain.dw, folded.dx, folded.dw, added]) u.dispose();
    });
  }

  for (const [N, D, P] of [
    [7, 33, 2],
    [130, 257, 4],
    [65, 130, 6],
    [12353, 130, 3],
  ] as const) {
    it(`N=${N} D=${D}: dy in ${P} parts gives the bits of the parts added first, in order`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(N + D + P);
      const t = (shape: number[]) => gpu.fromArray(rng.normalArray(shape.reduce((p, q) => p * q, 1)), shape);
      const [x, w, res] = [t([N, D]), t([D]), t([N, D])];
      const parts = Array.from({ length: P }, () => t([N, D]));
      const { rstd } = gpu.rmsnorm(x, w, 1e-6);
      const summed = [parts[0]];
      for (let k = 1; k < P; k++) summed.push(gpu.add(summed[k - 1], parts[k]));
      const one = gpu.rmsnormBackward(x, w, rstd, summed[P - 1], res);
      const split = gpu.rmsnormBackward(x, w, rstd, parts[0], res, parts.slice(1));
      expect(bitsEqual(await readF(split.dx), await readF(one.dx))).toBe(true);
      expect(bitsEqual(await readF(split.dw), await readF(one.dw))).toBe(true);
      for (const u of [x, w, res, rstd, ...parts, ...summed.slice(1), one.dx, one.dw, split.dx, split.dw]) u.dispose();
    });
  }

  it('D = 1: dx is accurate to the scale of its terms (an ill-conditioned cancellation)', async () => {
    // dx = r·w·dy − x·r³·(w·dy·x) = r·w·dy·(1 − x²r²), and 1 − x²r² = r²·eps ≈ 1e-6..1e-5: the
    // result is a cancellation of two terms of size |r·w·dy|, so f32 can only promise ε·|r·w·dy|.
    const gpu = await gpuBackend();
    const N = 9;
    const g = await fwdBwd(gpu, N, 1, 13);
    const c = await fwdBwd(cpu, N, 1, 13);
    const { w, dy } = c.host;
    let worst = 0;
    for (let n = 0; n < N; n++) {
      const termScale = Math.abs(c.rstd[n] * w[0] * dy[n]);
      worst = Math.max(worst, Math.abs(g.dx[n] - c.dx[n]) / termScale);
      expect(Math.abs(g.y[n] - c.y[n])).toBeLessThan(1e-6 * Math.abs(c.y[n]) + 1e-30);
    }
    console.log(`rmsnorm N=${N} D=1: dx error / |r·w·dy| ${fmt(worst)}; dw ${fmt(relErr(g.dw, c.dw))}`);
    expect(worst).toBeLessThan(1e-6);
    expect(relErr(g.dw, c.dw)).toBeLessThan(1e-5);
  });
});

describe('rope', () => {
  it('inverse rope undoes rope (GPU)', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(3);
    const shape = [2, 50, 3, 32];
    const data = rng.normalArray(2 * 50 * 3 * 32);
    const x = gpu.fromArray(data, shape);
    const y = gpu.rope(x, 10000, 7, false);
    const z = gpu.rope(y, 10000, 7, true);
    const err = relErr(await readF(z), Float32Array.from(data));
    console.log(`rope then inverse rope: ${fmt(err)}`);
    expect(err).toBeLessThan(1e-6);
    for (const t of [x, y, z]) t.dispose();
  });

  for (const name of ['cpu', 'webgpu'] as const) {
    it(`matches a hand-computed rotation (${name})`, async () => {
      const be: Backend = name === 'cpu' ? cpu : await gpuBackend();
      // D=2 (one pair, frequency theta^0 = 1): at t=1 the angle is exactly 1 rad for any theta.
      // D=4, theta=100: the second pair has frequency 100^(−2/4) = 0.1, so 1.0 rad at position 10.
      const x = be.fromArray([1, 0, 1, 0, 0, 1], [1, 3, 1, 2]);
      const y = await readF(be.rope(x, 1234.5, 0, false));
      const c = Math.cos(1);
      const s = Math.sin(1);
      const expected = [1, 0, c, s, -Math.sin(2), Math.cos(2)];
      expect(relErr(y, expected)).toBeLessThan(1e-6);
      const yi = await readF(be.rope(x, 1234.5, 0, true));
      expect(relErr(yi, [1, 0, c, -s, Math.sin(2), Math.cos(2)])).toBeLessThan(1e-6);
      // posOffset shifts positions: t=0 with offset 10 → pair 1 turns by 1 rad, pair 0 by 10 rad.
      const x4 = be.fromArray([1, 0, 3, 4], [1, 1, 1, 4]);
      const y4 = await readF(be.rope(x4, 100, 10, false));
      const expected4 = [Math.cos(10), Math.sin(10), 3 * c - 4 * s, 3 * s + 4 * c];
      expect(relErr(y4, expected4)).toBeLessThan(1e-6);
    });
  }

  it('keeps the f32 angle error small at positions in the thousands', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(9);
    const shape = [1, 100, 1, 64];
    const data = rng.normalArray(100 * 64);
    // Positions 4000..4099, theta 10000.
    const g = await readF(gpu.rope(gpu.fromArray(data, shape), 10000, 4000, false));
    const c = await readF(cpu.rope(cpu.fromArray(data, shape), 10000, 4000, false));
    const err = relErr(g, c);
    console.log(`rope at positions 4000..4099, D=64: normwise error ${fmt(err)}`);
    // Documented in shaders/rope.wgsl: ≲ 3e-7·angle ≈ 1.2e-3 rad at angle ≈ 4100.
    expect(err).toBeLessThan(2e-3);
  });
});

describe('silu / swiglu at huge |x| (stable sigmoid)', () => {
  const xs = [-100, -90, -30, -20, -1.2784645, 0, 20, 30, 88, 100];
  for (const n of [xs.length, 12]) {
    it(`${n % 4 === 0 ? 'vec4' : 'scalar'} path`, async () => {
      const gpu = await gpuBackend();
      const data = Array.from({ length: n }, (_, i) => xs[i % xs.length]);
      const ones = data.map(() => 1);
      const halves = data.map(() => 0.5);
      const run = async (be: Backend) => {
        const x = be.fromArray(data, [n]);
        const u = be.fromArray(halves, [n]);
        const dy = be.fromArray(ones, [n]);
        const { dg, du } = be.swigluBackward(x, u, dy);
        return [
          await readF(be.silu(x)),
          await readF(be.siluBackward(x, dy)),
          await readF(be.swiglu(x, u)),
          await readF(dg),
          await readF(du),
        ];
      };
      const g = await run(gpu);
      const c = await run(cpu);
      for (let k = 0; k < g.length; k++) {
        for (let i = 0; i < n; i++) {
          expect(Number.isFinite(g[k][i]), `output ${k} at x=${data[i]}`).toBe(true);
          expect(
            Math.abs(g[k][i] - c[k][i]),
            `output ${k} at x=${data[i]}: ${g[k][i]} vs ${c[k][i]}`,
          ).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(c[k][i])));
        }
      }
    });
  }
});
