// Matmul: the op check (GPU vs CPU float64, finite differences) plus targeted cases — every
// transpose × batching combination on ragged shapes, determinism, batch counts past the
// 65535 workgroups-per-dimension limit, K = 0, and shape validation.
import { describe, expect, it } from 'vitest';
import { runCheck } from '../check/harness';
import { matmulChecks } from '../check/matmul';
import { Rng } from '../engine/rng';
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
  for (const check of matmulChecks) {
    it(`op check: ${check.name}`, async () => {
      const gpu = await gpuBackend();
      for (const seed of [1, 2, 3]) {
        for (const r of await runCheck(check, seed, cpu, gpu)) {
          const msg = `${r.desc}: fwd ${r.forwardErr.toExponential(2)} bwd ${r.backwardErr?.toExponential(2)} fd ${r.finiteDiffErr?.toExponential(2)}`;
          console.log(`[matmul seed ${seed}] ${msg}`);
          expect.soft(r.ok, msg).toBe(true);
        }
      }
    });
  }

  it('all transpose and batching combinations on ragged shapes match the CPU', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(11);
    // M, K, N straddle the 64-wide tile and the 16-wide skinny tile; K straddles the K tile.
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

  it('is deterministic: the same inputs give bit-identical outputs', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    const a = gpu.fromArray(rng.normalArray(130 * 97), [130, 97]);
    const b = gpu.fromArray(rng.normalArray(97 * 71), [97, 71]);
    const first = await gpu.matmul(a, b, {}).read();
    for (let i = 0; i < 3; i++) {
      const again = await gpu.matmul(a, b, {}).read();
      expect(again).toEqual(first);
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
