// Op checks for the reductions: sum, sumScaled, sumSquares and sumSquaresSegments (result [1]).
// Sizes cover one element, odd counts around the 2048-element slice of one workgroup, and
// ~3e4–9e4 elements (two levels: slices, then a pass over the partials).
//
// Tolerance: the GPU sums in f32 (8 sequential adds per thread, then a 256-wide tree, then the
// same over partials), whose rounding error is bounded by about (8 + log2 n)·u·Σ|x| with
// u = 6e-8, i.e. ≈ 2e-6·Σ|x| at n = 1e5; observed errors are far smaller (errors of a random
// walk). For sum the inputs are N(0.5, 1), so |Σx| ≥ ≈ Σ|x|/2.5 and the relative error stays
// ≲ 5e-6 even in the worst case; for sumSquares every term is positive (|Σ| = Σ|·|).
// 1e-5 leaves margin over both.

import { type KernelPaths, withKernelPaths } from '../backends/webgpu/device';
import { type Backend, SLICE_ALIGN, type Segment } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Shape, Tensor } from '../engine/tensor';
import { sizeOf } from '../engine/tensor';
import type { HostInput, OpCheck } from './types';

function input(rng: Rng, name: string, shape: Shape, mean: number): HostInput {
  const data = rng.normalArray(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] += mean;
  return { name, shape, dtype: 'f32', data, grad: true };
}

/** Regime index % 3: tiny (1 included), odd around one workgroup's slice, two-level. */
function regimeShape(rng: Rng, index: number): Shape {
  switch (index % 3) {
    case 0:
      return rng.next() < 0.4 ? [1] : [rng.int(1, 3), rng.int(1, 4)];
    case 1:
      return [rng.pick([7, 33, 130, 1000, 2047, 2049, 4097]) + 2 * rng.int(0, 3)];
    default:
      return [rng.int(150, 300), rng.int(200, 300)];
  }
}

const TOL = 1e-5;

/**
 * A check run with some kernel paths forced (device.ts KernelPaths) around every op it records,
 * under its own name and seeds: `sumTree` is `sum` on the workgroup-tree path, while `sum` takes
 * the device's path (subgroups where it has them). The CPU reference ignores paths.
 */
export function onPaths(check: OpCheck, suffix: string, paths: Partial<KernelPaths>, about: string): OpCheck {
  return {
    ...check,
    name: `${check.name}${suffix}`,
    about: `${check.about} — ${about}`,
    makeCase(rng, index) {
      const c = check.makeCase(rng, index);
      const backward = c.backward;
      return {
        ...c,
        forward: (be, xs) => withKernelPaths(be, paths, () => c.forward(be, xs)),
        backward: backward && ((be, xs, dys) => withKernelPaths(be, paths, () => backward(be, xs, dys))),
      };
    },
  };
}

/** The variant of a reduction check on the workgroup-tree path (the default takes subgroups where the device has them). */
export const onTree = (check: OpCheck): OpCheck =>
  onPaths(check, 'Tree', { subgroups: false }, 'workgroup-tree path (no subgroups)');

const sum: OpCheck = {
  name: 'sum',
  about: 'Σ x → [1], fixed-order two-level tree; grad broadcast dy',
  tolForward: TOL,
  tolBackward: 1e-6,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    return {
      desc: `shape=[${shape}] n=${sizeOf(shape)}`,
      inputs: [input(rng, 'x', shape, 0.5)],
      nDiff: 1,
      forward: (be: Backend, [x]: Tensor[]) => [be.sum(x)],
      backward: (be: Backend, [x]: Tensor[], [dy]: Tensor[]) => [be.broadcastScalar(dy, x.shape, 1)],
    };
  },
};

/** Factors a mean takes (1/count, odd counts), an MTP weight (λ/D), and 1. */
const FACTORS = [1 / 3, 1 / 7, 1 / 1000, 0.15, 1];

const sumScaled: OpCheck = {
  name: 'sumScaled',
  about: 'Σ x · f → [1] (a mean: the factor applied by the last pass); grad broadcast dy · f',
  tolForward: TOL,
  tolBackward: 1e-6,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    const f = rng.pick(FACTORS);
    return {
      desc: `shape=[${shape}] n=${sizeOf(shape)} f=${f.toPrecision(4)}`,
      inputs: [input(rng, 'x', shape, 0.5)],
      nDiff: 1,
      forward: (be: Backend, [x]: Tensor[]) => [be.sumScaled(x, f)],
      backward: (be: Backend, [x]: Tensor[], [dy]: Tensor[]) => [be.broadcastScalar(dy, x.shape, f)],
    };
  },
};

const sumSquares: OpCheck = {
  name: 'sumSquares',
  about: 'Σ_tensors Σ x² → [1] (one partial pass per tensor, then one tree); grad 2x·dy',
  tolForward: TOL,
  tolBackward: 1e-6,
  makeCase(rng, index) {
    const count = rng.int(1, 3);
    const shapes = Array.from({ length: count }, () => regimeShape(rng, index));
    return {
      desc: `shapes=${shapes.map((s) => `[${s}]`).join(' ')}`,
      inputs: shapes.map((s, i) => input(rng, `x${i}`, s, 0)),
      nDiff: 1,
      forward: (be: Backend, xs: Tensor[]) => [be.sumSquares(xs)],
      backward: (be: Backend, xs: Tensor[], [dy]: Tensor[]) =>
        xs.map((x) => {
          const twoDy = be.broadcastScalar(dy, x.shape, 2);
          const g = be.mul(x, twoDy);
          twoDy.dispose();
          return g;
        }),
    };
  },
};

/** Sizes of the multi-tensor regimes: ones, odd counts around a workgroup's 2048-element slice. */
const ODD = [1, 7, 33, 130, 1000, 2047, 2048, 2049, 4097];

/**
 * Many tensors of mixed sizes gathered into an arena (zeros, each at an aligned slot; the slots
 * laid out in a shuffled order, as the optimizer lays out decayed matrices before vectors),
 * then one sumSquaresSegments over the segments in the tensors' order. Exercises slice and
 * copyInto too. Regimes: 1–3 tiny tensors; 5–40 of odd sizes; 2–4 two-level ones plus odd ones.
 */
const sumSquaresSegments: OpCheck = {
  name: 'sumSquaresSegments',
  about: 'Σ_segments Σ x² over an arena → [1] (one segmented partial pass, then one tree); grad 2x·dy',
  tolForward: TOL,
  tolBackward: 1e-6,
  makeCase(rng, index) {
    const sizes =
      index % 3 === 0
        ? Array.from({ length: rng.int(1, 3) }, () => rng.int(1, 5))
        : index % 3 === 1
          ? Array.from({ length: rng.int(5, 40) }, () => rng.pick(ODD) + rng.int(0, 2))
          : [
              ...Array.from({ length: rng.int(2, 4) }, () => rng.int(20_000, 40_000)),
              ...Array.from({ length: rng.int(3, 8) }, () => rng.pick(ODD)),
            ];
    const order = sizes.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const segs: Segment[] = sizes.map((size) => ({ offset: 0, size }));
    let at = 0;
    for (const i of order) {
      segs[i].offset = at;
      at += Math.ceil(sizes[i] / SLICE_ALIGN) * SLICE_ALIGN;
    }
    return {
      desc: `${sizes.length} tensors, sizes ${sizes.slice(0, 8).join(',')}${sizes.length > 8 ? ',…' : ''}; arena ${at}`,
      inputs: sizes.map((n, i) => input(rng, `x${i}`, [n], 0)),
      nDiff: 1,
      forward: (be: Backend, xs: Tensor[]) => {
        const arena = be.zeros([at]);
        xs.forEach((x, i) => {
          const slot = be.slice(arena, segs[i].offset, x.shape);
          be.copyInto(slot, x);
        });
        const out = be.sumSquaresSegments(arena, segs);
        arena.dispose();
        return [out];
      },
      backward: (be: Backend, xs: Tensor[], [dy]: Tensor[]) =>
        xs.map((x) => {
          const twoDy = be.broadcastScalar(dy, x.shape, 2);
          const g = be.mul(x, twoDy);
          twoDy.dispose();
          return g;
        }),
    };
  },
};

// Each on the device's path (subgroup finish where it has `subgroups`) and on the tree path.
export const reduceChecks: OpCheck[] = [
  sum,
  sumScaled,
  sumSquares,
  sumSquaresSegments,
  onTree(sum),
  onTree(sumScaled),
  onTree(sumSquares),
  onTree(sumSquaresSegments),
];
