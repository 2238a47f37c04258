// `matmuls` (shaders/matmul_multi.wgsl): one or two independent 2-D products per dispatch, each
// optionally added to an earlier result. The claim the tape relies on is bit-identity: every
// product equals matmul (+ add) on the same backend, for every transpose pair, ragged and
// vec4 shapes, with and without acc, whatever thread grid the pair runs on; products the
// multi kernel does not take (batched, split-K) go through matmul and still come out right.
import { describe, expect, it } from 'vitest';
import type { MatmulOpts, MatmulProduct } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Shape, Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';
import { linearAdd } from '../engine/ops';
import { chooseMultiThreads, matmuls as matmulsWith, operandCode } from './webgpu/matmul';

const size = (s: Shape) => s.reduce((x, y) => x * y, 1);

function operands(rng: Rng, M: number, K: number, N: number, opts: MatmulOpts) {
  const aShape: Shape = opts.transA ? [K, M] : [M, K];
  const bShape: Shape = opts.transB ? [N, K] : [K, N];
  return {
    aShape,
    bShape,
    a: rng.normalArray(size(aShape)),
    b: rng.normalArray(size(bShape)),
    acc: rng.normalArray(M * N),
  };
}

const bits = async (t: Tensor) => Array.from(new Uint32Array(new Float32Array(await t.read()).buffer));

describe('matmuls', () => {
  it('pairs equal matmul + add bit for bit: every transpose pair, ragged and vec4 shapes, acc or not', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    // Paired in turn with the next shape: ragged with vec4-eligible (the pair takes the scalar
    // path), then two vec4-eligible shapes (the vec4 path), then a 1-row product.
    const shapes: Array<[number, number, number]> = [
      [7, 33, 130],
      [64, 96, 36],
      [132, 20, 8],
      [1, 5, 1],
    ];
    for (const [i, [M, K, N]] of shapes.slice(0, 3).entries()) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const o1: MatmulOpts = { transA, transB };
          const o2: MatmulOpts = { transA: !transB, transB: transA }; // a different pair of flags
          const [M2, K2, N2] = shapes[(i + 1) % shapes.length];
          const p1 = operands(rng, M, K, N, o1);
          const p2 = operands(rng, M2, K2, N2, o2);
          // One acc pattern per transpose pair (each pattern is its own kernel to compile).
          for (const accs of [
            [
              [false, false],
              [true, false],
              [false, true],
              [true, true],
            ][(transA ? 2 : 0) + (transB ? 1 : 0)],
          ]) {
            const up = (p: typeof p1) => ({ a: gpu.fromArray(p.a, p.aShape), b: gpu.fromArray(p.b, p.bShape) });
            const g1 = up(p1);
            const g2 = up(p2);
            const acc1 = accs[0] ? gpu.fromArray(p1.acc, [M, N]) : null;
            const acc2 = accs[1] ? gpu.fromArray(p2.acc, [M2, N2]) : null;
            await gpu.rt.flush();
            const before = gpu.rt.dispatches;
            const [c1, c2] = gpu.matmuls([
              { a: g1.a, b: g1.b, opts: o1, acc: acc1 },
              { a: g2.a, b: g2.b, opts: o2, acc: acc2 },
            ]);
            await gpu.rt.flush();
            expect(gpu.rt.dispatches - before, 'two products, one dispatch').toBe(1);
            const ref = (g: { a: Tensor; b: Tensor }, o: MatmulOpts, acc: Tensor | null) => {
              const c = gpu.matmul(g.a, g.b, o);
              return acc ? gpu.add(acc, c) : c;
            };
            const what = `M=${M} K=${K} N=${N} ${JSON.stringify(o1)} + M=${M2} K=${K2} N=${N2} ${JSON.stringify(o2)} acc=${accs}`;
            expect(await bits(c1), what).toEqual(await bits(ref(g1, o1, acc1)));
            expect(await bits(c2), what).toEqual(await bits(ref(g2, o2, acc2)));
          }
        }
      }
    }
  });

  it('matches the float64 reference, and any thread grid gives the same bits', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(9);
    const [M, K, N] = [67, 129, 33];
    const p1 = operands(rng, M, K, N, { transB: true });
    const p2 = operands(rng, K, M, N, { transA: true });
    const make = (be: typeof cpu | typeof gpu): MatmulProduct[] => [
      {
        a: be.fromArray(p1.a, p1.aShape),
        b: be.fromArray(p1.b, p1.bShape),
        opts: { transB: true },
        acc: be.fromArray(p1.acc, [M, N]),
      },
      { a: be.fromArray(p2.a, p2.aShape), b: be.fromArray(p2.b, p2.bShape), opts: { transA: true } },
    ];
    const refs = cpu.matmuls(make(cpu));
    const auto = gpu.matmuls(make(gpu));
    for (let i = 0; i < 2; i++) {
      const r = await refs[i].read();
      const g = await auto[i].read();
      let num = 0;
      let den = 1e-6;
      for (let j = 0; j < r.length; j++) {
        num = Math.max(num, Math.abs(g[j] - r[j]));
        den = Math.max(den, Math.abs(r[j]));
      }
      expect(num / den).toBeLessThan(1e-5);
    }
    for (const [wgX, wgY, tk] of [
      [4, 4, 8],
      [8, 16, 16],
      [16, 8, 4],
    ]) {
      const t = matmulsWith(gpu, make(gpu), { wgX, wgY, tk });
      for (let i = 0; i < 2; i++) expect(await bits(t[i]), `${wgX}x${wgY} TK=${tk}`).toEqual(await bits(auto[i]));
    }
  });

  it('products the multi kernel does not take (batched, split-K, empty) still come out right', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(3);
    const batched = { aShape: [2, 5, 7], bShape: [2, 7, 3] };
    const ah = rng.normalArray(70);
    const bh = rng.normalArray(42);
    const longK = operands(rng, 8, 2048, 8, {}); // split over K by matmul
    const acc = rng.normalArray(64);
    const make = (be: typeof cpu | typeof gpu): MatmulProduct[] => [
      { a: be.fromArray(ah, batched.aShape), b: be.fromArray(bh, batched.bShape), opts: {} },
      {
        a: be.fromArray(longK.a, longK.aShape),
        b: be.fromArray(longK.b, longK.bShape),
        opts: {},
        acc: be.fromArray(acc, [8, 8]),
      },
      { a: be.fromArray(new Float64Array(0), [0, 4]), b: be.fromArray(rng.normalArray(12), [4, 3]), opts: {} },
    ];
    const refs = cpu.matmuls(make(cpu));
    const outs = gpu.matmuls(make(gpu));
    for (let i = 0; i < 3; i++) {
      expect(outs[i].shape).toEqual(refs[i].shape);
      const r = await refs[i].read();
      const g = await outs[i].read();
      for (let j = 0; j < r.length; j++) expect(Math.abs(g[j] - r[j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(r[j])));
    }
  });

  it('one thread grid for a pair: each dim as large as the larger product needs, halved for too few workgroups', () => {
    const few = { maxThreads: 16 as const, minGroups: 8 };
    expect(
      chooseMultiThreads(
        [
          { M: 512, N: 256 },
          { M: 256, N: 256 },
        ],
        few,
      ),
    ).toEqual({ wgX: 16, wgY: 16 });
    expect(
      chooseMultiThreads([
        { M: 30, N: 20 },
        { M: 60, N: 10 },
      ]),
    ).toEqual({ wgX: 4, wgY: 8 });
    // Few tiles in all: halve the larger dim until there are enough workgroups (or both are 8).
    expect(
      chooseMultiThreads(
        [
          { M: 128, N: 128 },
          { M: 128, N: 128 },
        ],
        few,
      ),
    ).toEqual({
      wgX: 8,
      wgY: 8,
    });
  });

  it('the operand template instantiates with its suffix, uniform block and bindings, acc lines only with acc', () => {
    const plain = operandCode('_2', 'u.q2', 3, { acc: false });
    expect(plain).toContain('@binding(3) var<storage, read> A_2');
    expect(plain).toContain('@binding(5) var<storage, read_write> C_2');
    expect(plain).not.toContain('D_2');
    expect(plain).not.toMatch(/\$|@binding\(#/); // every name suffixed, every binding numbered
    expect(plain).toContain('u.q2.K');
    const acc = operandCode('_1', 'u.q1', 0, { acc: true });
    expect(acc).toContain('@binding(3) var<storage, read> D_1');
    expect(acc).toContain('return D_1[i] + v;');
    expect(acc).not.toContain('return v;');
  });
  it('linearAdd names a base of the wrong shape and records nothing', async () => {
    const x = cpu.fromArray(new Float64Array(6), [2, 3]);
    const w = cpu.fromArray(new Float64Array(12), [4, 3]);
    expect(() => linearAdd(x, w, cpu.fromArray(new Float64Array(6), [2, 3]))).toThrow(
      /linearAdd: base \[2, ?3\] is not the output's shape \[2, ?4\]/,
    );
    expect(await linearAdd(x, w, cpu.fromArray(new Float64Array(8).fill(1), [2, 4])).read()).toEqual(
      new Float64Array(8).fill(1),
    );
  });
});
