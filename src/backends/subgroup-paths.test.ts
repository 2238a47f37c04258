// The subgroup paths of the row and tree reductions (shaders/lanes_subgroup.wgsl): where the
// device has `subgroups` (lavapipe does), sum / sumSquares / sumSquaresSegments / softmax / softmaxBackward / rmsnorm /
// addRmsnorm / rmsnormBackward take them, and they give the SAME BITS as the workgroup-tree path at every shuffle width from 2 up
// (widths above the adapter's subgroup size run at its size), at odd sizes. Both paths are also
// checked against the float64 reference by the op checks (`sum` and `sumTree`, `softmax` and
// `softmaxTree`, `rmsnorm` and `rmsnormTree`, … in src/check).
import { describe, expect, it } from 'vitest';
import { relErr } from '../check/harness';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend, traced } from '../test/gpu';
import type { WebGPUBackend } from './webgpu/backend';
import { type KernelPaths, withKernelPaths } from './webgpu/device';

const TREE: Partial<KernelPaths> = { subgroups: false };
const LANES = [2, 4, 8, 16, 32, 64, 128];

function bitsEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
}

/** Random normals rounded to f32. */
function f32Normals(rng: Rng, n: number, std = 1, mean = 0): Float64Array {
  return Float64Array.from(Float32Array.from(rng.normalArray(n, std).map((v) => v + mean)));
}

/** Run fn on the GPU with `paths`, returning its outputs read back and the kernels it dispatched. */
async function onPath(
  gpu: WebGPUBackend,
  paths: Partial<KernelPaths>,
  fn: (be: Backend) => Tensor[],
): Promise<{ outs: Float64Array[]; kernels: string[] }> {
  const { value: ts, kernels } = traced(gpu, () => withKernelPaths(gpu, paths, () => fn(gpu)));
  const outs: Float64Array[] = [];
  for (const t of ts) {
    outs.push((await t.read()) as Float64Array);
    t.dispose();
  }
  return { outs, kernels };
}

describe('subgroup reductions', () => {
  it('the device reports subgroups, and the default paths take them', async () => {
    const gpu = await gpuBackend();
    expect(gpu.rt.features.subgroups).toBe(true); // lavapipe; the suite's checks rely on it
    const x = gpu.fromArray(f32Normals(new Rng(1), 300), [3, 100]);
    const sg = await onPath(gpu, {}, (be) => [be.sum(x), be.softmax(be.view(x, [1, 3, 100]), 0)]);
    const tree = await onPath(gpu, TREE, (be) => [be.sum(x), be.softmax(be.view(x, [1, 3, 100]), 0)]);
    x.dispose();
    expect(sg.kernels).toEqual(['reduce_subgroup:main_subgroup', 'softmax_subgroup:softmax_fwd_subgroup']);
    expect(tree.kernels).toEqual(['reduce:main', 'softmax:softmax_fwd']);
  });

  // 1 … 130: one workgroup; 2047 / 2049 / 4099: around one slice (2048) and two; 70001: two levels.
  for (const n of [1, 7, 33, 130, 2047, 2049, 4099, 70001]) {
    it(`sum and sumSquares of ${n}: subgroup bits = tree bits at every width; both near float64`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(n);
      const data = f32Normals(rng, n, 1, 0.5);
      const other = f32Normals(rng, 33 + (n % 7));
      const x = gpu.fromArray(data, [n]);
      const y = gpu.fromArray(other, [other.length]);
      const ops = (be: Backend, [a, b]: Tensor[]) => [be.sum(a), be.sumSquares([a]), be.sumSquares([a, b])];
      const run = (be: Backend) => ops(be, [x, y]);
      const tree = await onPath(gpu, TREE, run);
      const ref = ops(cpu, [cpu.fromArray(data, [n]), cpu.fromArray(other, [other.length])]);
      for (const lanes of LANES) {
        const sg = await onPath(gpu, { subgroupLanes: lanes }, run);
        expect(sg.kernels.length).toBe(tree.kernels.length); // same passes
        expect(sg.kernels.every((k) => k === 'reduce_subgroup:main_subgroup')).toBe(true);
        for (const [i, o] of sg.outs.entries())
          expect(bitsEqual(o, tree.outs[i]), `lanes ${lanes}, output ${i}`).toBe(true);
      }
      for (let i = 0; i < ref.length; i++) {
        const r = (await ref[i].read()) as Float64Array;
        expect(relErr(tree.outs[i], r)).toBeLessThan(1e-5);
      }
      x.dispose();
      y.dispose();
    });
  }

  // The gradient norm's one pass over an arena (reduce_segments): segments of 1 … 70001 elements,
  // around one slice (2048) and two, in one flat buffer; its finish passes are reduce's.
  it('sumSquaresSegments: subgroup bits = tree bits at every width; near float64', async () => {
    const gpu = await gpuBackend();
    const sizes = [1, 7, 2047, 2049, 130, 4099, 70001, 33];
    const data = f32Normals(new Rng(29), sizes.reduce((a, b) => a + b, 0) + 5, 1, 0.25);
    let offset = 3;
    const segments = sizes.map((size) => {
      const s = { offset, size };
      offset += size;
      return s;
    });
    const flat = gpu.fromArray(data, [data.length]);
    const run = (be: Backend) => [be.sumSquaresSegments(flat, segments)];
    const tree = await onPath(gpu, TREE, run);
    expect(tree.kernels[0]).toBe('reduce_segments:main');
    for (const lanes of LANES) {
      const sg = await onPath(gpu, { subgroupLanes: lanes }, run);
      expect(sg.kernels[0]).toBe('reduce_segments_subgroup:main_subgroup');
      expect(sg.kernels.slice(1).every((k) => k === 'reduce_subgroup:main_subgroup')).toBe(true);
      expect(sg.kernels.length).toBe(tree.kernels.length);
      expect(bitsEqual(sg.outs[0], tree.outs[0]), `lanes ${lanes}`).toBe(true);
    }
    let want = 0;
    for (const s of segments) for (let i = s.offset; i < s.offset + s.size; i++) want += data[i] * data[i];
    expect(relErr(tree.outs[0], [want])).toBeLessThan(1e-5);
    flat.dispose();
  });

  // sumScaled (a mean: the factor applied by the sum's last pass) against scale(sum(x), f), on the
  // subgroup path (the device's lanes and a narrow width) and the tree path: the same bits, the
  // same reduce passes, and no elementwise:scale. 4097 and 70001 take two passes, 4194309 three.
  for (const n of [1, 7, 33, 130, 4097, 70001, 2048 * 2048 + 5]) {
    it(`sumScaled of ${n}: the bits of scale(sum(x), f) on both paths, one dispatch fewer`, async () => {
      const gpu = await gpuBackend();
      const x = gpu.fromArray(f32Normals(new Rng(n + 11), n, 1, 0.5), [n]);
      const factors = n > 100_000 ? [1 / 3] : [1 / n, 1 / 3, 1 / 7, 0.15, 1];
      for (const paths of [TREE, {}, { subgroupLanes: 4 }]) {
        for (const f of factors) {
          const fused = await onPath(gpu, paths, (be) => [be.sumScaled(x, f)]);
          const split = await onPath(gpu, paths, (be) => {
            const s = be.sum(x);
            const y = be.scale(s, f);
            s.dispose();
            return [y];
          });
          const what = `paths ${JSON.stringify(paths)}, f = ${f}`;
          expect(bitsEqual(fused.outs[0], split.outs[0]), what).toBe(true);
          expect(split.kernels.at(-1), what).toMatch(/^elementwise.*:scale$/);
          expect(fused.kernels, what).toEqual(split.kernels.slice(0, -1));
          const pass = paths === TREE ? 'reduce:main' : 'reduce_subgroup:main_subgroup';
          expect(
            fused.kernels.every((k) => k === pass),
            what,
          ).toBe(true);
        }
      }
      x.dispose();
    });
  }

  // Row lengths on both sides of each row-thread count (32 … 256), one, and a long row.
  for (const Tk of [1, 7, 33, 64, 130, 257, 4099]) {
    it(`softmax and its backward, rows of ${Tk}: subgroup bits = tree bits at every width`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(Tk + 17);
      const Tq = Tk > 1000 ? 3 : 5;
      const R = 2;
      const xs = f32Normals(rng, R * Tq * Tk, 3);
      const dys = f32Normals(rng, R * Tq * Tk);
      // A nearly one-hot row exercises the backward's re-basing at the dominant entry.
      xs[Tk > 1 ? 1 : 0] = 40;
      const x = gpu.fromArray(xs, [R, Tq, Tk]);
      const dy = gpu.fromArray(dys, [R, Tq, Tk]);
      const run = (be: Backend) => {
        const y = be.softmax(x, null);
        const yc = be.softmax(x, Tk - Tq);
        return [y, yc, be.softmaxBackward(y, dy), be.softmaxBackward(yc, dy)];
      };
      const tree = await onPath(gpu, TREE, run);
      for (const lanes of LANES) {
        const sg = await onPath(gpu, { subgroupLanes: lanes }, run);
        expect(sg.kernels).toEqual([
          'softmax_subgroup:softmax_fwd_subgroup',
          'softmax_subgroup:softmax_fwd_subgroup',
          'softmax_subgroup:softmax_bwd_subgroup',
          'softmax_subgroup:softmax_bwd_subgroup',
        ]);
        for (const [i, o] of sg.outs.entries())
          expect(bitsEqual(o, tree.outs[i]), `lanes ${lanes}, output ${i}`).toBe(true);
      }
      // And near the float64 reference (the op checks do this at more shapes).
      const xc = cpu.fromArray(xs, [R, Tq, Tk]);
      const yRef = (await cpu.softmax(xc, Tk - Tq).read()) as Float64Array;
      expect(relErr(tree.outs[1], yRef)).toBeLessThan(1e-5);
      x.dispose();
      dy.dispose();
    });
  }

  // Row widths on both sides of each row-thread count, one, and a long row; rows past one dw chunk.
  for (const D of [1, 7, 33, 64, 130, 257, 1031]) {
    it(`rmsnorm, addRmsnorm and the backward (dy in 2 parts), rows of ${D}: subgroup bits = tree bits at every width`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(D + 5);
      const N = D > 1000 ? 3 : 70;
      const [a, b, dy] = [0, 1, 2].map(() => gpu.fromArray(f32Normals(rng, N * D), [N, D]));
      const w = gpu.fromArray(f32Normals(rng, D, 1, 1), [D]);
      const run = (be: Backend) => {
        const { y, rstd } = be.rmsnorm(a, w, 1e-6);
        const f = be.addRmsnorm(a, b, w, 1e-5);
        const g = be.rmsnormBackward(a, w, rstd, dy, b, [a]);
        return [y, rstd, f.sum, f.y, f.rstd, g.dx, g.dw];
      };
      const tree = await onPath(gpu, TREE, run);
      expect(tree.kernels).toEqual(['rmsnorm:rmsnorm_fwd', 'rmsnorm:add_rmsnorm_fwd', 'rmsnorm_dy2:rmsnorm_bwd']);
      for (const lanes of LANES) {
        const sg = await onPath(gpu, { subgroupLanes: lanes }, run);
        expect(sg.kernels).toEqual([
          'rmsnorm_subgroup:rmsnorm_fwd_subgroup',
          'rmsnorm_subgroup:add_rmsnorm_fwd_subgroup',
          'rmsnorm_subgroup_dy2:rmsnorm_bwd_subgroup',
        ]);
        for (const [i, o] of sg.outs.entries())
          expect(bitsEqual(o, tree.outs[i]), `lanes ${lanes}, output ${i}`).toBe(true);
      }
      // And near the float64 reference (the op checks do this at more shapes).
      const { y: yRef } = cpu.rmsnorm(
        cpu.fromArray((await a.read()) as Float64Array, [N, D]),
        cpu.fromArray((await w.read()) as Float64Array, [D]),
        1e-6,
      );
      expect(relErr(tree.outs[0], (await yRef.read()) as Float64Array)).toBeLessThan(1e-5);
      for (const t of [a, b, dy, w]) t.dispose();
    });
  }
});
