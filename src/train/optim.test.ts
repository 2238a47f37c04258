// The optimizer's arena path against the per-tensor path it replaces: the same bits. The grad
// norm over an arena (one segmented pass) equals sumSquares over the tensors; AdamW over the
// arena's two ranges equals one AdamW per tensor; and whole training runs (micro-dense, micro-v3)
// give the same losses and grad norms, step for step, on the GPU.
import { afterEach, describe, expect, it } from 'vitest';
import { applyOverrides, findPreset } from '../config';
import { SLICE_ALIGN } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { RunPipeline } from '../run/pipeline';
import { disposeHandles } from './stage';
import { gpuBackend } from '../test/gpu';
import { AdamW, type OptimPath } from './optim';
import { arenaLayout } from './optim_arena';

const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.read()).buffer));

afterEach(() => {
  AdamW.defaultPath = 'arena';
});

describe('optimizer arena', () => {
  it('lays out decayed matrices first, aligned slots, norm segments in parameter order', () => {
    const l = arenaLayout(
      new Map([
        ['gain', { shape: [7] }],
        ['w', { shape: [3, 33] }],
        ['b', { shape: [130] }],
        ['u', { shape: [1, 1] }],
      ]),
    );
    expect(l.slots.get('w')!.offset).toBe(0);
    expect(l.slots.get('u')!.offset).toBe(2 * SLICE_ALIGN);
    expect(l.decayEnd).toBe(3 * SLICE_ALIGN);
    expect(l.slots.get('gain')!.offset).toBe(3 * SLICE_ALIGN);
    expect(l.slots.get('b')!.offset).toBe(4 * SLICE_ALIGN);
    expect(l.total).toBe(7 * SLICE_ALIGN);
    expect(l.normOrder.map((s) => s.size)).toEqual([7, 99, 130, 1]);
  });

  it('sumSquaresSegments over an arena has the bits of sumSquares over the tensors', async () => {
    const be = await gpuBackend();
    const rng = new Rng(5);
    const sizes = [1, 7, 33, 130, 2047, 2049, 20_000, 3, 4097, 64];
    const xs = sizes.map((n) => be.fromArray(rng.normalArray(n), [n]));
    const layout = arenaLayout(new Map(sizes.map((n, i) => [`t${i}`, { shape: i % 2 ? [1, n] : [n] }])));
    const arena = be.zeros([layout.total]);
    xs.forEach((x, i) => {
      be.copyInto(be.slice(arena, layout.normOrder[i].offset, x.shape), x);
    });
    const a = await bits(be.sumSquaresSegments(arena, layout.normOrder));
    const b = await bits(be.sumSquares(xs));
    expect(a).toEqual(b);
    for (const x of [...xs, arena]) x.dispose();
  });

  it('AdamW over the arena has the bits of AdamW per tensor (clip binding, decay on matrices only)', async () => {
    const be = await gpuBackend();
    const shapes: Array<[string, number[]]> = [
      ['emb', [27, 33]],
      ['g1', [7]],
      ['w1', [130, 7]],
      ['g2', [1]],
      ['w2', [64, 130]],
      ['b', [33]],
    ];
    const run = async (path: OptimPath) => {
      const rng = new Rng(9);
      const params = new Map(shapes.map(([n, s]) => [n, be.fromArray(rng.normalArray(s[0] * (s[1] ?? 1)), s)]));
      const opt = new AdamW(be, params, path);
      const live = opt.adopt(params);
      const o = { ...findPreset('micro-dense')!.config.optim, clip_norm: 0.5, weight_decay: 0.1 };
      const norms: number[][] = [];
      for (let step = 0; step < 3; step++) {
        const grads = new Map(
          shapes.map(([n, s]) => [n, be.fromArray(rng.normalArray(s[0] * (s[1] ?? 1), 2), s)] as const),
        );
        norms.push(await bits(opt.update(live, grads, o, 1e-2)));
      }
      const st = await opt.readState();
      const out = { norms, p: [] as number[][], m: st.m, v: st.v };
      for (const t of live.values()) out.p.push(await bits(t));
      opt.dispose();
      return out;
    };
    const arena = await run('arena');
    const perTensor = await run('per-tensor');
    expect(arena.norms).toEqual(perTensor.norms);
    expect(arena.p).toEqual(perTensor.p);
    expect(arena.m).toEqual(perTensor.m);
    expect(arena.v).toEqual(perTensor.v);
  });

  for (const preset of ['micro-dense', 'micro-v3']) {
    it(`${preset}: the same losses and grad norms, bit for bit, as the per-tensor optimizer`, async () => {
      const be = await gpuBackend();
      const cfg = applyOverrides(findPreset(preset)!.config, { 'data.batch_size': 2, 'data.seq_len': 32 });
      const curve = async (path: OptimPath) => {
        AdamW.defaultPath = path;
        const p = new RunPipeline(be, cfg, 1);
        const out: number[][] = [];
        for (let i = 0; i < 4; i++) {
          const h = await p.runStep();
          out.push([...(await bits(h.loss)), ...(await bits(h.normSq))]);
          disposeHandles(h);
        }
        p.dispose();
        return out;
      };
      const arena = await curve('arena');
      expect(await curve('per-tensor')).toEqual(arena);
    });
  }
});
