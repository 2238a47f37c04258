// Matmul beyond its op check (src/check/ops.test.ts): every transpose × batching combination on
// ragged shapes, the largest tile, split-K, determinism (run to run and across tile shapes), batch
// counts past the 65535 workgroups-per-dimension limit, K = 0, and shape validation.
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng';
import { chooseThreads, matmul as matmulWith, splitKPlan } from './webgpu/matmul';
import type { Shape } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';

const size = (s: Shape) => s.reduce((x, y) => x * y, 1);

function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-6;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(a[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return a.length === ref.length ? num / den : Infinity;
}

describe('matmul', () => {
  it('all transpose and batching combinations on ragged shapes match the CPU', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(11);
    // M, K, N straddle the 64-wide tile and the 32-wide skinny tile; K straddles every K tile.
    const [M, K, N] = [67, 35, 18];
    const batch = [2, 3];
    let worst = 0;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const mode of ['plain', 'batched', 'broadcast'] as const) {
          const bd = mode === 'plain' ? [] : batch;
          const aShape = [...bd, ...(transA ? [K, M] : [M, K])];
          const bShape = [...(mode === 'batched' ? bd : []), ...(transB ? [N, K] : [K, N])];
          const ah = rng.normalArray(size(aShape));
          const bh = rng.normalArray(size(bShape));
          const opts = { transA, transB };
          const ref = await cpu.matmul(cpu.fromArray(ah, aShape), cpu.fromArray(bh, bShape), opts).read();
          const out = gpu.matmul(gpu.fromArray(ah, aShape), gpu.fromArray(bh, bShape), opts);
          expect(out.shape).toEqual([...bd, M, N]);
          const err = maxRelErr(await out.read(), ref);
          worst = Math.max(worst, err);
          expect(err, `${mode} transA=${transA} transB=${transB}`).toBeLessThan(1e-5);
        }
      }
    }
    console.log(`[matmul] combinations: worst rel err ${worst.toExponential(2)}`);
  });

  it('128 × 128 tiles (many tiles: large batch) match the CPU for every transpose', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(17);
    const [batch, M, K, N] = [16, 130, 21, 129];
    expect(chooseThreads(M, N, batch)).toEqual({ wgX: 16, wgY: 16 }); // the tile under test
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const aShape = [batch, ...(transA ? [K, M] : [M, K])];
        const bShape = [batch, ...(transB ? [N, K] : [K, N])];
        const ah = rng.normalArray(size(aShape));
        const bh = rng.normalArray(size(bShape));
        const opts = { transA, transB };
        const ref = await cpu.matmul(cpu.fromArray(ah, aShape), cpu.fromArray(bh, bShape), opts).read();
        const out = await gpu.matmul(gpu.fromArray(ah, aShape), gpu.fromArray(bh, bShape), opts).read();
        expect(maxRelErr(out, ref), `transA=${transA} transB=${transB}`).toBeLessThan(1e-5);
      }
    }
  });

  it('split-K (long K, few output tiles) matches the CPU for every transpose and batching', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(21);
    const [M, K, N] = [19, 3001, 37];
    expect(splitKPlan(2, K).splits).toBeGreaterThan(1); // the path under test is taken
    let worst = 0;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const mode of ['plain', 'batched', 'broadcast'] as const) {
          const bd = mode === 'plain' ? [] : [2];
          const aShape = [...bd, ...(transA ? [K, M] : [M, K])];
          const bShape = [...(mode === 'batched' ? bd : []), ...(transB ? [N, K] : [K, N])];
          const ah = rng.normalArray(size(aShape));
          const bh = rng.normalArray(size(bShape));
          const opts = { transA, transB };
          const ref = await cpu.matmul(cpu.fromArray(ah, aShape), cpu.fromArray(bh, bShape), opts).read();
          const out = await gpu.matmul(gpu.fromArray(ah, aShape), gpu.fromArray(bh, bShape), opts).read();
          const err = maxRelErr(out, ref);
          worst = Math.max(worst, err);
          expect(err, `${mode} transA=${transA} transB=${transB}`).toBeLessThan(1e-5);
        }
      }
    }
    console.log(`[matmul] split-K K=${K}: worst rel err ${worst.toExponential(2)}`);
  });

  it('every tile shape and K-tile depth gives bit-identical sums (each thread adds k in order)', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(3);
    const a = gpu.fromArray(rng.normalArray(2 * 70 * 75), [2, 75, 70]);
    const b = gpu.fromArray(rng.normalArray(75 * 90), [90, 75]);
    const opts = { transA: true, transB: true };
    const auto = await gpu.matmul(a, b, opts).read();
    // A few shapes covering every thread count and K depth (each new pipeline costs 1–4 s to
    // compile on lavapipe without its shader cache, so not the full cross product).
    const shapes = [
      { wgX: 4, wgY: 4, tk: 8 },
      { wgX: 16, wgY: 4, tk: 32 },
      { wgX: 8, wgY: 16, tk: 16 },
      { wgX: 16, wgY: 16, tk: 8 },
    ];
    for (const t of shapes) {
      const out = await matmulWith(gpu, a, b, opts, t).read();
      expect(out, JSON.stringify(t)).toEqual(auto);
    }
  });

  it('is deterministic: the same inputs give bit-identical outputs', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    const a = gpu.fromArray(rng.normalArray(130 * 97), [130, 97]);
    const b = gpu.fromArray(rng.normalArray(97 * 71), [97, 71]);
    const first = await gpu.matmul(a, b, {}).read();
    // A split-K product too: its chunk sums must also come out in the same order every time.
    const c = gpu.fromArray(rng.normalArray(2000 * 20), [2000, 20]);
    const firstSplit = await gpu.matmul(c, c, { transA: true }).read();
    for (let i = 0; i < 3; i++) {
      expect(await gpu.matmul(a, b, {}).read()).toEqual(first);
      expect(await gpu.matmul(c, c, { transA: true }).read()).toEqual(firstSplit);
    }
  });

  it('folds batch counts beyond 65535 workgroups into the z loop', async () => {
    const gpu = await gpuBackend();
    const batch = 65536 + 37;
    const rng = new Rng(9);
    const ah = rng.normalArray(batch * 2 * 3);
    const bh = rng.normalArray(batch * 3 * 1);
    const ref = await cpu.matmul(cpu.fromArray(ah, [batch, 2, 3]), cpu.fromArray(bh, [batch, 3, 1]), {}).read();
    const out = await gpu.matmul(gpu.fromArray(ah, [batch, 2, 3]), gpu.fromArray(bh, [batch, 3, 1]), {}).read();
    expect(maxRelErr(out, ref)).toBeLessThan(1e-5);
  });

  it('K = 0 gives zeros', async () => {
    const gpu = await gpuBackend();
    const filler = gpu.fromArray(new Float64Array(20).fill(7), [4, 5]); // dirty a pooled buffer
    filler.dispose();
    await gpu.flush();
    const out = await gpu.matmul(gpu.zeros([4, 0]), gpu.zeros([0, 5]), {}).read();
    expect(Array.from(out)).toEqual(new Array(20).fill(0));
  });

  it('rejects mismatched shapes with a message naming them', async () => {
    const gpu = await gpuBackend();
    for (const be of [cpu, gpu]) {
      expect(() => be.matmul(be.zeros([2, 3]), be.zeros([4, 5]), {})).toThrow(/A \[2,3\].*B \[4,5\].*inner dims/);
      expect(() => be.matmul(be.zeros([2, 3, 4]), be.zeros([3, 4, 5]), {})).toThrow(/batch dims differ/);
      expect(() => be.matmul(be.zeros([3, 4]), be.zeros([2, 4, 5]), {})).toThrow(/batch dims differ/);
      expect(() => be.matmul(be.zeros([4]), be.zeros([4, 5]), {})).toThrow(/rank >= 2/);
      expect(() => be.matmul(be.zeros([3, 2]), be.zeros([5, 2]), { transA: true, transB: true })).toThrow(/inner dims/);
    }
  });
});
