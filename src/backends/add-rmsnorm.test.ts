// The fused residual add + RMSNorm against the two ops it replaces, on the GPU: the same bits
// forward (sum, y) and, through the tape, the same gradients for a, b and w.
import { describe, expect, it } from 'vitest';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { gpuBackend } from '../test/gpu';

const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.read()).buffer));

describe('addRmsnorm', () => {
  for (const [N, D] of [
    [1, 7],
    [33, 130],
    [130, 257],
  ]) {
    it(`N=${N} D=${D}: the bits of add then rmsnorm, forward and backward`, async () => {
      const be = await gpuBackend();
      const rng = new Rng(N + D);
      const input = (shape: number[]) => {
        const t = be.fromArray(rng.normalArray(shape[0] * (shape[1] ?? 1)), shape);
        t.requiresGrad = true;
        return t;
      };
      const [a, b, w] = [input([N, D]), input([N, D]), input([D])];
      const dy = be.fromArray(rng.normalArray(N * D), [N, D]);
      const dsum = be.fromArray(rng.normalArray(N * D), [N, D]);
      const run = async (fused: boolean) => {
        const tape = new Tape();
        const { sum, y } = tape.run(() => {
          if (fused) return op.addRmsnorm(a, b, w, 1e-6);
          const s = op.add(a, b);
          return { sum: s, y: op.rmsnorm(s, w, 1e-6) };
        });
        // Gradient of Σ y·dy + Σ sum·dsum, as a block's two uses of the pair give it.
        const loss = tape.run(() => op.add(op.sum(op.mul(y, dy)), op.sum(op.mul(sum, dsum))));
        const g = tape.backward(loss);
        return Promise.all([sum, y, g.get(a.id)!, g.get(b.id)!, g.get(w.id)!].map(bits));
      };
      expect(await run(true)).toEqual(await run(false));
    });
  }
});
