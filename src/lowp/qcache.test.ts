// linearLowpFused (quantize-on-load GEMMs, per-tape weight and activation quantization) against
// linearLowp (quantize, then GEMM, every time): the same bits forward and backward, on the CPU
// reference and on the GPU; each weight and each shared input quantized once per tape; and a
// weight written between two tapes (as the optimizer does) is quantized afresh, never served stale.
import { describe, expect, it, vi } from 'vitest';
import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';
import * as lowp from './linear';
import { prequantizeWeights } from './qcache';

const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.read()).buffer));

const RECIPES: Array<[string, lowp.LowpLinearSpec]> = [
  [
    'V3 FP8 (E4M3, 1x128 tiles, 128x128 weight blocks)',
    {
      forward: { format: 'e4m3', block: 128, scale: 'f32' },
      grad: { format: 'e4m3', block: 128, scale: 'f32' },
      weightTiling: 'blocks',
      accum: { mantissaBits: 0, promoteEvery: 128 },
    },
  ],
  [
    'MXFP4 (E2M1 1x32, MX scales, E5M2 gradients, row-tiled weights)',
    {
      forward: { format: 'e2m1', block: 32, scale: 'mx' },
      grad: { format: 'e5m2', block: 32, scale: 'mx' },
      weightTiling: 'rows',
      accum: { mantissaBits: 0, promoteEvery: 128 },
    },
  ],
];

/** q/k/v-like: three linears read the same x; w1 is used twice (a cache hit inside the tape). */
async function run(be: Backend, spec: lowp.LowpLinearSpec, fused: boolean | 'grouped' | 'prequantized', seed: number) {
  const rng = new Rng(seed);
  const input = (shape: number[], std = 1) => {
    const t = be.fromArray(
      rng
        .normalArray(
          shape.reduce((a, b) => a * b, 1),
          std,
        )
        .map(Math.fround),
      shape,
    );
    t.requiresGrad = true;
    return t;
  };
  const x = input([3, 11, 130]);
  const w1 = input([67, 130], 0.3);
  const w2 = input([7, 130], 0.3);
  const r = [67, 7, 67].map((n) => be.fromArray(rng.normalArray(33 * n).map(Math.fround), [3, 11, n]));
  const lin = fused ? lowp.linearLowpFused : lowp.linearLowp;
  const tape = new Tape();
  const ys = tape.run(() => {
    if (fused === 'prequantized') prequantizeWeights(be, [w1, w2, w1], spec.forward, spec.weightTiling);
    return fused === 'grouped'
      ? lowp.linearsLowpFused(x, [w1, w2, w1], spec) // x quantized once for the three Fprop GEMMs
      : [lin(x, w1, spec), lin(x, w2, spec), lin(x, w1, spec)];
  });
  const loss = tape.run(() =>
    op.add(op.add(op.sum(op.mul(ys[0], r[0])), op.sum(op.mul(ys[1], r[1]))), op.sum(op.mul(ys[2], r[2]))),
  );
  const g = tape.backward(loss);
  return Promise.all([...ys, g.get(x.id)!, g.get(w1.id)!, g.get(w2.id)!].map(bits));
}

describe('linearLowpFused = linearLowp, bit for bit', () => {
  for (const [name, spec] of RECIPES) {
    it(`${name}: CPU reference`, async () => {
      expect(await run(cpu, spec, true, 3)).toEqual(await run(cpu, spec, false, 3));
    });
    it(`${name}: GPU`, async () => {
      const gpu = await gpuBackend();
      expect(await run(gpu, spec, true, 4)).toEqual(await run(gpu, spec, false, 4));
    });
    it(`${name}: linearsLowpFused (one Q_rows(x) for three linears), CPU and GPU`, async () => {
      expect(await run(cpu, spec, 'grouped', 7)).toEqual(await run(cpu, spec, false, 7));
      const gpu = await gpuBackend();
      expect(await run(gpu, spec, 'grouped', 8)).toEqual(await run(gpu, spec, false, 8));
    });
  }
});

describe('per-tape quantization cache', () => {
  it('one weight quantization per weight and one Q_rows(xᵀ) per shared input within a tape', async () => {
    const spec = RECIPES[0][1];
    const pair = vi.spyOn(cpu, 'quantizeBlocksPair');
    const rowsT = vi.spyOn(cpu, 'quantizeRowsT');
    try {
      await run(cpu, spec, true, 5);
      expect(pair).toHaveBeenCalledTimes(2); // w1 (used twice) and w2
      expect(rowsT).toHaveBeenCalledTimes(1); // x, shared by the three linears
    } finally {
      pair.mockRestore();
      rowsT.mockRestore();
    }
  });

  it('linearsLowpFused quantizes the shared input once and no Fprop GEMM quantizes it again', async () => {
    const rows = vi.spyOn(cpu, 'quantizeRows');
    const onLoad = vi.spyOn(cpu, 'quantizedMatmul');
    try {
      await run(cpu, RECIPES[0][1], 'grouped', 9);
      expect(rows).toHaveBeenCalledTimes(1); // x; the gradients go through quantizedMatmul
      // The backward only: a Dgrad and a Wgrad per linear (three), each quantizing dy on load.
      expect(onLoad).toHaveBeenCalledTimes(6);
    } finally {
      rows.mockRestore();
      onLoad.mockRestore();
    }
  });

  it('prequantizeWeights: the linears then read those codes (no weight quantized again), with the same bits', async () => {
    for (const [name, spec] of RECIPES) {
      const blocks = spec.weightTiling === 'blocks';
      const multi = vi.spyOn(cpu, blocks ? 'quantizeBlocksPairs' : 'quantizeRowsPairs');
      const perWeight = vi.spyOn(cpu, blocks ? 'quantizeBlocksPair' : 'quantizeRows');
      try {
        const pre = await run(cpu, spec, 'prequantized', 10);
        const preCalls = perWeight.mock.calls.length;
        expect(multi).toHaveBeenCalledTimes(1);
        expect(multi.mock.calls[0][0]).toHaveLength(2); // w1 once, though listed twice
        perWeight.mockClear();
        expect(pre, name).toEqual(await run(cpu, spec, true, 10));
        // The two weights' Fprop quantizations are the ones no longer made one by one (the CPU
        // reference also quantizes activations with quantizeRows: those remain).
        expect(preCalls, name).toBe(perWeight.mock.calls.length - 2);
      } finally {
        multi.mockRestore();
        perWeight.mockRestore();
      }
      const gpu = await gpuBackend();
      expect(await run(gpu, spec, 'prequantized', 11), name).toEqual(await run(gpu, spec, false, 11));
    }
    // Outside a tape nothing is cached, so nothing is quantized ahead.
    const outside = vi.spyOn(cpu, 'quantizeBlocksPairs');
    try {
      prequantizeWeights(cpu, [cpu.fromArray([1, 2, 3, 4], [2, 2])], RECIPES[0][1].forward);
      expect(outside).not.toHaveBeenCalled();
    } finally {
      outside.mockRestore();
    }
  });

  it('a weight written between two tapes (as the optimizer does) is quantized again', async () => {
    for (const [, spec] of RECIPES) {
      const rng = new Rng(6);
      const x = cpu.fromArray(rng.normalArray(9 * 64).map(Math.fround), [9, 64]);
      x.requiresGrad = true;
      const w = cpu.fromArray(rng.normalArray(5 * 64).map(Math.fround), [5, 64]);
      w.requiresGrad = true;
      const y1 = new Tape().run(() => lowp.linearLowpFused(x, w, spec));
      cpu.copyInto(w, cpu.fromArray(rng.normalArray(5 * 64).map(Math.fround), [5, 64]));
      const y2 = new Tape().run(() => lowp.linearLowpFused(x, w, spec));
      const ref = new Tape().run(() => lowp.linearLowp(x, w, spec));
      expect(await bits(y2)).toEqual(await bits(ref));
      expect(await bits(y2)).not.toEqual(await bits(y1));
    }
  });
});
