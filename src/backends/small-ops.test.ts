// The small op families — elementwise, reduce, embedding, cross-entropy, AdamW — beyond their op
// checks (src/check/ops.test.ts): the AdamW check's clip modes, bit-exact determinism of the
// reductions, heavy id repetition in the embedding backward, huge logits in the cross-entropy, and
// the fused mean cross-entropy against the composition it replaces (bits and dispatches).
import { describe, expect, it } from 'vitest';
import { adamwChecks } from '../check/adamw';
import { relErr, runCheck } from '../check/harness';
import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import { Tensor } from '../engine/tensor';
import type { WebGPUBackend } from './webgpu/backend';
import { withKernelPaths } from './webgpu/device';
import { setCrossEntropyWideRows } from './webgpu/xent';
import { cpu, gpuBackend, traced } from '../test/gpu';

describe('adamw op check', () => {
  it('its cases (seeds 1..3, as ops.test.ts runs them) include a clip that binds, and none at all', async () => {
    // The cases depend on the seed alone, so the CPU against itself reproduces them cheaply.
    const descs: string[] = [];
    for (const seed of [1, 2, 3]) for (const r of await runCheck(adamwChecks[0], seed, cpu, cpu)) descs.push(r.desc);
    expect(
      descs.some((d) => d.includes('clip=binding')),
      descs.join('\n'),
    ).toBe(true);
    expect(
      descs.some((d) => d.includes('clip=none')),
      descs.join('\n'),
    ).toBe(true);
  });
});

describe('reductions', () => {
  it('sum and sumSquares of 100k elements are bit-identical run to run', async () => {
    const gpu = await gpuBackend();
    const x = gpu.fromArray(new Rng(11).normalArray(100_000), [100_000]);
    const y = gpu.fromArray(new Rng(12).normalArray(3001), [3001]);
    const runs: number[][] = [];
    for (let k = 0; k < 2; k++) {
      const s = gpu.sum(x);
      const q = gpu.sumSquares([x, y]);
      runs.push([(await s.read())[0], (await q.read())[0]]);
      s.dispose();
      q.dispose();
    }
    // Compare the f32 bit patterns, not just the values.
    const bits = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
    expect(runs[1].map(bits)).toEqual(runs[0].map(bits));
    x.dispose();
    y.dispose();
  });

  it('sum over three levels (4M elements) matches the reference', async () => {
    const gpu = await gpuBackend();
    const n = 2048 * 2048 + 3; // > one level of 2048² partials: slices, partials, partials of those
    const data = new Rng(5).normalArray(n);
    for (let i = 0; i < n; i++) data[i] += 0.5;
    const x = gpu.fromArray(data, [n]);
    const s = gpu.sum(x);
    const got = (await s.read())[0];
    const ref = (await cpu.sum(cpu.fromArray(data, [n])).read())[0];
    expect(relErr([got], [ref])).toBeLessThan(1e-5);
    x.dispose();
    s.dispose();
  });

  it('empty tensors reduce to 0', async () => {
    const gpu = await gpuBackend();
    const e = gpu.zeros([0, 3]);
    const x = gpu.fromArray([3, 4], [2]);
    expect(Array.from(await gpu.sum(e).read())).toEqual([0]);
    expect(Array.from(await gpu.sumSquares([e, x, e]).read())).toEqual([25]);
  });
});

/**
 * A GPU tensor on a buffer of exactly 4·n bytes (the pool only hands those out near the binding
 * size limit): its byte size is not a multiple of 16 when n is odd, which selects the f32
 * builds of the vec4 kernels.
 */
function exactTensor(gpu: WebGPUBackend, data: ArrayLike<number>): Tensor {
  const buffer = gpu.rt.device.createBuffer({
    size: data.length * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  gpu.rt.write(buffer, Float32Array.from(data));
  return new Tensor(gpu, [data.length], 'f32', { buffer, owner: false });
}

describe('elementwise', () => {
  it('f32 (non-vec4) builds for buffers whose size is not a multiple of 16', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(21);
    const n = 1001;
    const [a, b, p, g, m] = [1, 2, 3, 4, 5].map(() => Float64Array.from(rng.normalArray(n), Math.fround));
    const v = m.map((x) => Math.fround(x * x));
    const s = Float64Array.of(Math.fround(rng.normal()));
    const hp = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step: 3 };
    const run = async (be: Backend, mk: (d: Float64Array) => Tensor) => {
      const [ta, tb, tp, tg, tm, tv, ts] = [a, b, p, g, m, v, s].map(mk);
      const acc = mk(a);
      be.addInPlace(acc, tb);
      be.adamw(tp, tg, tm, tv, hp, { normSq: ts, maxNorm: 0.5 });
      const outs = [be.add(ta, tb), be.mul(ta, tb), be.scale(ta, 0.3), acc, be.broadcastScalar(ts, [n], 2), tp, tm, tv];
      const host = [];
      for (const t of outs) host.push(await t.read()); // one at a time: reads flush
      return host;
    };
    const gpuOut = await run(gpu, (d) => exactTensor(gpu, d));
    const cpuOut = await run(cpu, (d) => cpu.fromArray(d, [d.length]));
    expect(gpu.buf(gpu.add(exactTensor(gpu, a), exactTensor(gpu, b))).size % 16).toBe(0); // outputs are pooled
    for (let k = 0; k < gpuOut.length; k++) expect(relErr(gpuOut[k], cpuOut[k]), `output ${k}`).toBeLessThan(1e-6);
  });

  it('addInPlace of a tensor onto itself doubles it', async () => {
    const gpu = await gpuBackend();
    const x = gpu.fromArray([1, 2, 3, 4, 5], [5]);
    gpu.addInPlace(x, x);
    expect(Array.from(await x.read())).toEqual([2, 4, 6, 8, 10]);
  });
});

describe('ropePair', () => {
  it('names the mismatch in bad input', () => {
    const t = (shape: number[]) => cpu.zeros(shape);
    expect(() => op.ropePair(t([1, 4, 2, 8]), t([1, 5, 2, 8]), 1e4)).toThrow(
      /ropePair: q \[1,4,2,8\] and k \[1,5,2,8\] differ in B, T or D/,
    );
    expect(() => op.ropePair(t([1, 4, 2, 7]), t([1, 4, 1, 7]), 1e4)).toThrow(/ropePair: head dim must be even, got 7/);
    expect(() => op.ropePair(t([4, 2, 8]), t([1, 4, 2, 8]), 1e4)).toThrow(/ropePair: expected \[B, T, H, D\] twice/);
  });

  it('rotates q and k in one dispatch with the bits of a rope each, both ways, and through the tape', async () => {
    const gpu = await gpuBackend();
    for (const [B, T, H, Hkv, D] of [
      [1, 1, 1, 1, 2],
      [2, 7, 3, 1, 6],
      [1, 33, 4, 2, 16],
      [3, 130, 2, 2, 34],
    ]) {
      const rng = new Rng(B * 100 + T + D);
      const q = gpu.fromArray(rng.normalArray(B * T * H * D), [B, T, H, D]);
      const k = gpu.fromArray(rng.normalArray(B * T * Hkv * D), [B, T, Hkv, D]);
      for (const [pos, inverse] of [
        [0, false],
        [5, true],
      ] as const) {
        const what = `B=${B} T=${T} H=${H} Hkv=${Hkv} D=${D} pos=${pos} inverse=${inverse}`;
        const before = gpu.rt.pendingDispatches;
        const [qr, kr] = gpu.ropePair(q, k, 10000, pos, inverse);
        expect(gpu.rt.pendingDispatches - before, what).toBe(1);
        expect(await bits(qr), what).toEqual(await bits(gpu.rope(q, 10000, pos, inverse)));
        expect(await bits(kr), what).toEqual(await bits(gpu.rope(k, 10000, pos, inverse)));
      }
      // Gradients through op.ropePair equal those through two op.rope (and k's alone when q is unused).
      const grads = async (pair: boolean, useQ: boolean) => {
        const [qv, kv] = [q, k].map((t) => {
          const v = gpu.view(t, t.shape);
          v.requiresGrad = true;
          return v;
        });
        const tape = new Tape();
        const loss = tape.run(() => {
          const [qr, kr] = pair ? op.ropePair(qv, kv, 500) : [op.rope(qv, 500), op.rope(kv, 500)];
          const lk = op.sum(op.mul(kr, kr));
          return useQ ? op.add(op.sum(op.mul(qr, op.scale(qr, 0.5))), lk) : lk;
        });
        const g = tape.backward(loss);
        return Promise.all([qv, kv].map((t) => (g.get(t.id) ? bits(g.get(t.id)!) : Promise.resolve(null))));
      };
      for (const useQ of [true, false]) expect(await grads(true, useQ)).toEqual(await grads(false, useQ));
    }
  });
});

describe('embeddingBackward', () => {
  it('heavy id repetition: sums match the reference, unused rows are exactly zero', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(3);
    const V = 10;
    const D = 17;
    const N = 2000;
    // 90 % of the ids are row 3, the rest row 0; rows 1, 2, 4.. are never used.
    const ids = Int32Array.from({ length: N }, () => (rng.next() < 0.9 ? 3 : 0));
    const dOut = rng.normalArray(N * D);
    const g = await gpu.embeddingBackward(gpu.fromArray(ids, [N], 'i32'), gpu.fromArray(dOut, [N, D]), V).read();
    const ref = await cpu.embeddingBackward(cpu.fromArray(ids, [N], 'i32'), cpu.fromArray(dOut, [N, D]), V).read();
    expect(relErr(g, ref)).toBeLessThan(1e-5);
    for (const v of [1, 2, 4, 5, 9]) {
      for (let d = 0; d < D; d++) expect(g[v * D + d]).toBe(0);
    }
    // Deterministic: the same call again is bit-identical.
    const g2 = await gpu.embeddingBackward(gpu.fromArray(ids, [N], 'i32'), gpu.fromArray(dOut, [N, D]), V).read();
    expect(Array.from(g2)).toEqual(Array.from(g));
  });
});

describe('embeddingBackward order', () => {
  // Each element is the f32 running sum of its rows' gradients in increasing n: exactly that, on
  // the vec4 path (D % 4 == 0) and the scalar one, with row blocks of one and several workgroups.
  for (const D of [7, 12, 300]) {
    it(`D=${D}: the f32 sum in increasing n, bit for bit`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(D);
      const [V, N] = [9, 130];
      const ids = Int32Array.from({ length: N }, () => rng.int(0, V - 2)); // row V-1 unused
      const dOut = rng.normalArray(N * D).map(Math.fround);
      const want = new Float32Array(V * D);
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) want[ids[n] * D + d] = Math.fround(want[ids[n] * D + d] + dOut[n * D + d]);
      const g = await gpu.embeddingBackward(gpu.fromArray(ids, [N], 'i32'), gpu.fromArray(dOut, [N, D]), V).read();
      expect(Array.from(Float32Array.from(g))).toEqual(Array.from(want));
    });
  }
});

describe('crossEntropy', () => {
  it('huge logits (±1e4) stay finite and match the reference', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(9);
    const N = 6;
    const V = 300;
    // Inputs rounded to f32 up front, so both backends see the same logits.
    const logits = Float64Array.from({ length: N * V }, () =>
      Math.fround((rng.next() < 0.5 ? -1e4 : 1e4) + rng.normal()),
    );
    const targets = Int32Array.from({ length: N }, (_, n) => (n === 2 ? -1 : rng.int(0, V - 1)));
    const dloss = Float64Array.from({ length: N }, () => Math.fround(rng.normal()));
    const run = async (be: Backend) => {
      const x = be.fromArray(logits, [N, V]);
      const t = be.fromArray(targets, [N], 'i32');
      const { loss, lse } = be.crossEntropy(x, t);
      const dx = be.crossEntropyBackward(x, t, lse, be.fromArray(dloss, [N]));
      return { loss: await loss.read(), lse: await lse.read(), dx: await dx.read() };
    };
    const g = await run(gpu);
    const c = await run(cpu);
    for (const arr of [g.loss, g.lse, g.dx]) expect(Array.from(arr).every(Number.isFinite)).toBe(true);
    expect(g.loss[2]).toBe(0);
    const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    // Near 1e4 one f32 ulp is 1e-3: lse (and loss = lse − logit) can only be that exact, and
    // the probabilities exp(x − lse) inherit that absolute error in their exponent.
    expect(maxAbs(g.lse, c.lse)).toBeLessThan(4e-3);
    expect(maxAbs(g.loss, c.loss)).toBeLessThan(4e-3);
    const dlMax = Math.max(...Array.from(dloss, Math.abs));
    expect(maxAbs(g.dx, c.dx)).toBeLessThan(4e-3 * dlMax);
  });

  it('rows shaped by the row count (several rows per workgroup, several lanes per thread) give the bits of a workgroup per row', async () => {
    const gpu = await gpuBackend();
    for (const [N, V] of [
      [1, 1],
      [7, 27],
      [517, 33],
      [130, 7],
      [33, 300],
      [9, 1000],
    ]) {
      const rng = new Rng(N * 7 + V);
      const x = gpu.fromArray(rng.normalArray(N * V, 4), [N, V]);
      const t = gpu.fromArray(
        Array.from({ length: N }, (_, n) => (n % 5 === 3 ? -1 : rng.int(0, V - 1))),
        [N],
        'i32',
      );
      const shaped = gpu.crossEntropy(x, t);
      setCrossEntropyWideRows(true);
      try {
        const wide = gpu.crossEntropy(x, t);
        expect(await bits(shaped.lse), `lse N=${N} V=${V}`).toEqual(await bits(wide.lse));
        expect(await bits(shaped.loss), `loss N=${N} V=${V}`).toEqual(await bits(wide.loss));
      } finally {
        setCrossEntropyWideRows(false);
      }
    }
  });

  it('a 50k vocabulary row matches the reference', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(4);
    const N = 2;
    const V = 50_000;
    const logits = rng.normalArray(N * V, 3);
    const targets = Int32Array.of(123, 49_999);
    const g = gpu.crossEntropy(gpu.fromArray(logits, [N, V]), gpu.fromArray(targets, [N], 'i32'));
    const c = cpu.crossEntropy(cpu.fromArray(logits, [N, V]), cpu.fromArray(targets, [N], 'i32'));
    expect(relErr(await g.lse.read(), await c.lse.read())).toBeLessThan(1e-5);
    expect(relErr(await g.loss.read(), await c.loss.read())).toBeLessThan(1e-5);
  });
});

const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.read()).buffer));

/** The loss's value and the gradient of dOut · loss for x, and the kernels forward and backward ran. */
async function lossAndGrad(gpu: WebGPUBackend, x: Tensor, loss: () => Tensor, dOut: number) {
  const tape = new Tape();
  const fwd = traced(gpu, () => tape.run(loss));
  const bwd = traced(gpu, () => tape.backwardFrom(fwd.value, gpu.fromArray([dOut], [1])));
  return {
    value: await bits(fwd.value),
    grad: await bits(bwd.value.get(x.id) as Tensor),
    fwd: fwd.kernels,
    bwd: bwd.kernels,
  };
}

describe('fused mean losses', () => {
  // [N, V]: one row; odd sizes; rows past one reduce slice (2048: two passes).
  for (const [N, V] of [
    [1, 7],
    [33, 27],
    [130, 257],
    [4097, 5],
  ]) {
    it(`crossEntropyMean N=${N} V=${V}: the bits of scale(sum(crossEntropyRows)), 3 dispatches fewer`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(N * 31 + V);
      const logits = gpu.fromArray(rng.normalArray(N * V, 2), [N, V]);
      logits.requiresGrad = true;
      const tg = Int32Array.from({ length: N }, (_, n) => (n % 5 === 3 ? -1 : rng.int(0, V - 1)));
      const targets = gpu.fromArray(tg, [N], 'i32');
      const count = tg.filter((t) => t >= 0).length;
      for (const paths of [{}, { subgroups: false }]) {
        // dOut 1: the LM head's seed; 0.3: an MTP head's λ/D from the scale above it.
        for (const dOut of [1, 0.3]) {
          const run = (fused: boolean) =>
            withKernelPaths(gpu, paths, () =>
              lossAndGrad(
                gpu,
                logits,
                () =>
                  fused
                    ? op.crossEntropyMean(logits, targets, count)
                    : op.scale(op.sum(op.crossEntropyRows(logits, targets)), 1 / count),
                dOut,
              ),
            );
          const fused = await run(true);
          const old = await run(false);
          const what = `paths ${JSON.stringify(paths)}, dOut ${dOut}`;
          expect(fused.value, what).toEqual(old.value);
          expect(fused.grad, what).toEqual(old.grad);
          // Forward: xent, the reduce passes (scale folded in); backward: xent alone.
          expect(old.fwd.at(-1), what).toMatch(/^elementwise.*:scale$/);
          expect(fused.fwd, what).toEqual(old.fwd.slice(0, -1));
          expect(fused.fwd[0]).toBe('xent:forward');
          expect(fused.fwd.length).toBe(N > 2048 ? 3 : 2);
          expect(
            old.bwd.map((k) => k.split(':')[1]),
            what,
          ).toEqual(['scale', 'broadcast', 'backward']);
          expect(fused.bwd, what).toEqual(['xent:backward']);
        }
      }
      logits.dispose();
      targets.dispose();
    });
  }

  for (const n of [1, 7, 130, 4097]) {
    it(`op.sumScaled of ${n}: the bits of scale(sum(x), f), value and gradient, 2 dispatches fewer`, async () => {
      const gpu = await gpuBackend();
      const x = gpu.fromArray(new Rng(n).normalArray(n, 1), [n]);
      x.requiresGrad = true;
      const f = 1 / n;
      const fused = await lossAndGrad(gpu, x, () => op.sumScaled(x, f), 0.3);
      const old = await lossAndGrad(gpu, x, () => op.scale(op.sum(x), f), 0.3);
      expect(fused.value).toEqual(old.value);
      expect(fused.grad).toEqual(old.grad);
      expect(fused.fwd).toEqual(old.fwd.slice(0, -1));
      expect(fused.bwd.map((k) => k.split(':')[1])).toEqual(['broadcast']);
      expect(old.bwd.map((k) => k.split(':')[1])).toEqual(['scale', 'broadcast']);
      x.dispose();
    });
  }
});
