// The segmented RMSNorm (one or two norms over the leading columns of their rows, the rest
// carried) against what it replaces: a split and an rmsnorm per segment forward, rmsnormBackward
// and a concat backward — the same bits, on the subgroup and the tree path, in one dispatch each
// way; through the tape the same gradients as the unfused ops; the CPU's values; bad input named.
import { describe, expect, it } from 'vitest';
import type { NormSegment } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';
import { withKernelPaths } from './webgpu/device';

const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.read()).buffer));
const EPS = 1e-6;

/**
 * [N, [D, S] per segment]: odd rows and widths; the two segments on different row-thread widths.
 * The plain kernels run R threads per row by the row count (rmsnorm.ts rowShape), the segmented
 * one a whole tree width: 517 rows of 64 take R = 8, 8 rows per workgroup, 3 dead rows at the end.
 */
const CASES: Array<[number, Array<[number, number]>]> = [
  [1, [[7, 7]]],
  [517, [[64, 64]]],
  [7, [[33, 40]]],
  [
    33,
    [
      [96, 96],
      [64, 96],
    ],
  ],
  [
    130,
    [
      [7, 9],
      [130, 257],
    ],
  ],
  [
    67,
    [
      [257, 257],
      [1, 2],
    ],
  ],
];

describe('rmsnormSegments', () => {
  for (const [N, dims] of CASES) {
    for (const tree of [false, true]) {
      it(`N=${N} segments ${JSON.stringify(dims)}${tree ? ' (tree path)' : ''}: the bits of split + rmsnorm, one dispatch each way`, async () => {
        const gpu = await gpuBackend();
        const rng = new Rng(N * 31 + dims.length);
        const segs: NormSegment[] = dims.map(([D, S]) => ({
          x: gpu.fromArray(rng.normalArray(N * S), [N, S]),
          w: gpu.fromArray(rng.normalArray(D), [D]),
        }));
        const dy = dims.map(([D]) => gpu.fromArray(rng.normalArray(N * D), [N, D]));
        const dRest = dims.map(([D, S]) => (S > D ? gpu.fromArray(rng.normalArray(N * (S - D)), [N, S - D]) : null));
        await gpu.rt.flush();
        // Recorded under the path (withKernelPaths restores the backend's own when fn returns).
        const rec = withKernelPaths(gpu, tree ? { subgroups: false } : {}, () => {
          const p0 = gpu.rt.pendingDispatches;
          const r = gpu.rmsnormSegments(segs, EPS);
          const p1 = gpu.rt.pendingDispatches;
          const g = gpu.rmsnormSegmentsBackward(segs, r.rstd, dy, dRest);
          const counts = [p1 - p0, gpu.rt.pendingDispatches - p1];
          const refs = dims.map(([D, S], i) => {
            const { x, w } = segs[i];
            const lead = S > D ? gpu.sliceLast(x, 0, D) : x;
            const ref = gpu.rmsnorm(lead, w, EPS);
            const refG = gpu.rmsnormBackward(lead, w, ref.rstd, dy[i]);
            const dx = S > D ? gpu.concatLast(refG.dx, dRest[i] as Tensor) : refG.dx;
            return { y: ref.y, dx, dw: refG.dw, rest: S > D ? gpu.sliceLast(x, D, S - D) : null };
          });
          return { r, g, counts, refs };
        });
        expect(rec.counts).toEqual([1, 1]);
        for (const [i, [D, S]] of dims.entries()) {
          const ref = rec.refs[i];
          expect(await bits(rec.r.y[i])).toEqual(await bits(ref.y));
          expect(await bits(rec.g.dx[i])).toEqual(await bits(ref.dx));
          expect(await bits(rec.g.dw[i])).toEqual(await bits(ref.dw));
          if (ref.rest) expect(await bits(rec.r.rest[i] as Tensor)).toEqual(await bits(ref.rest));
          else expect(rec.r.rest[i]).toBeNull();
          // …and the CPU reference's values.
          const { x, w } = segs[i];
          const c = cpu.rmsnormSegments(
            [{ x: cpu.fromArray(await x.read(), [N, S]), w: cpu.fromArray(await w.read(), [D]) }],
            EPS,
          );
          const y = await rec.r.y[i].read();
          const cy = await c.y[0].read();
          for (let k = 0; k < y.length; k++) expect(Math.abs(y[k] - cy[k])).toBeLessThan(1e-5 * (1 + Math.abs(cy[k])));
        }
      });
    }
  }

  it('a carried part that got no gradient reads as zeros; past the dw partials, the plain kernels give the same bits', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    // 12 800 rows of a 256-thread row: more dw chunks than the one-dispatch kernel's partials hold.
    for (const N of [9, 12_800]) {
      const [D, S] = [129, 131];
      const seg = { x: gpu.fromArray(rng.normalArray(N * S), [N, S]), w: gpu.fromArray(rng.normalArray(D), [D]) };
      const dy = gpu.fromArray(rng.normalArray(N * D), [N, D]);
      const r = gpu.rmsnormSegments([seg], EPS);
      const g = gpu.rmsnormSegmentsBackward([seg], r.rstd, [dy], [null]);
      const lead = gpu.sliceLast(seg.x, 0, D);
      const ref = gpu.rmsnorm(lead, seg.w, EPS);
      const refG = gpu.rmsnormBackward(lead, seg.w, ref.rstd, dy);
      expect(await bits(r.y[0])).toEqual(await bits(ref.y));
      expect(await bits(g.dx[0])).toEqual(await bits(gpu.concatLast(refG.dx, gpu.zeros([N, S - D]))));
      expect(await bits(g.dw[0])).toEqual(await bits(refG.dw));
    }
  });

  it('through the tape: the gradients of splitLast + rmsnorm per segment, bit for bit', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(11);
    const [B, T] = [2, 9];
    const input = (shape: number[]) => {
      const t = gpu.fromArray(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);
      t.requiresGrad = true;
      return t;
    };
    const [q, wq, kva, wkv] = [input([B, T, 24]), input([24]), input([B, T, 40]), input([32])];
    const [dq, dl, dk] = [
      [B, T, 24],
      [B, T, 32],
      [B, T, 8],
    ].map((s) => gpu.fromArray(rng.normalArray(B * T * s[2]), s));
    const run = async (fused: boolean) => {
      const tape = new Tape();
      const outs = tape.run(() => {
        if (fused) {
          const [a, b] = op.rmsnormSegments(
            [
              { x: q, w: wq },
              { x: kva, w: wkv },
            ],
            EPS,
          );
          return [a.y, b.y, b.rest as Tensor];
        }
        const [c, kpe] = op.splitLast(kva, 32);
        return [op.rmsnorm(q, wq, EPS), op.rmsnorm(c, wkv, EPS), kpe];
      });
      const loss = tape.run(() =>
        op.add(op.add(op.sum(op.mul(outs[0], dq)), op.sum(op.mul(outs[1], dl))), op.sum(op.mul(outs[2], dk))),
      );
      const g = tape.backward(loss);
      return Promise.all([...outs, ...[q, wq, kva, wkv].map((t) => g.get(t.id) as Tensor)].map(bits));
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('names bad input', async () => {
    const gpu = await gpuBackend();
    const x = gpu.zeros([4, 8]);
    const w = gpu.zeros([8]);
    expect(() => op.rmsnormSegments([], EPS)).toThrow('rmsnormSegments: takes 1 or 2 segments, got 0');
    expect(() =>
      op.rmsnormSegments(
        [
          { x, w },
          { x, w },
          { x, w },
        ],
        EPS,
      ),
    ).toThrow('takes 1 or 2 segments, got 3');
    expect(() => op.rmsnormSegments([{ x, w: gpu.zeros([9]) }], EPS)).toThrow(
      'rmsnormSegments: weight [9] does not fit the last dim 8 of [4,8]',
    );
    expect(() =>
      op.rmsnormSegments(
        [
          { x, w },
          { x: gpu.zeros([5, 8]), w },
        ],
        EPS,
      ),
    ).toThrow('differ in rows');
  });
});
