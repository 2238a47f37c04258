// Op checks for RMSNorm: forward (y, and rstd compared but not differentiated) and the backward
// (dx, dw), which recomputes rstd with rmsnorm before calling rmsnormBackward, as the tape does;
// and the residual add fused into it (addRmsnorm: y and sum differentiated, the backward as the
// tape composes it: rmsnormBackward on sum with the sum's own gradient folded into dx). Each
// also on the workgroup-tree path (`rmsnormTree`, `addRmsnormTree`): the plain names take the
// device's path, subgroup shuffles where it has them.
import type { Rng } from '../engine/rng';
import { onTree } from './reduce';
import type { OpCheck } from './types';

function rowsAndDim(rng: Rng, index: number): [number, number] {
  switch (index % 3) {
    case 0:
      // D ≥ 2: at D = 1 the true dx = r·w·dy·(1 − x²r²) = r³·eps·w·dy is a cancellation of two
      // O(1) terms, so any f32 kernel's dx is only ≈ ε/(r²·eps) accurate relative to itself;
      // that case is tested against the scale of the terms in norm-rope-act.test.ts.
      return [rng.int(1, 3), rng.int(2, 4)];
    case 1:
      // Odd sizes: rows cross a dw chunk boundary (64 rows), D is no multiple of the row threads.
      return [rng.pick([7, 33, 67, 130]), rng.pick([7, 33, 130, 257])];
    default:
      return [rng.int(130, 300), rng.int(200, 600)];
  }
}

/** Fractions of dy in each part (powers of two: each part exact, their sum dy up to rounding). */
const PARTS = [[1], [0.5, 0.5], [0.5, 0.25, 0.125, 0.0625, 0.0625]];

const rmsnormCheck: OpCheck = {
  name: 'rmsnorm',
  about: 'y = x·rstd·w per row, rstd = 1/sqrt(mean(x²)+eps); dx, dw (dw summed over rows without atomics; dy in parts)',
  // Forward: a row sum of squares in f32 (ε·log2(D) growth) and two products: ~1e-6 observed.
  tolForward: 1e-5,
  // Backward: dx subtracts two O(1) terms per element and dw sums up to a few hundred rows in
  // f32, so allow a little more.
  tolBackward: 1e-4,
  makeCase(rng, index) {
    const [N, D] = rowsAndDim(rng, index);
    const eps = rng.pick([1e-6, 1e-5]);
    const scale = rng.pick([0.1, 1, 3]);
    return {
      desc: `N=${N} D=${D} eps=${eps} |x|~${scale} dy in ${PARTS[index % 3].length} part(s)`,
      inputs: [
        { name: 'x', shape: [N, D], dtype: 'f32', data: rng.normalArray(N * D, scale), grad: true },
        { name: 'w', shape: [D], dtype: 'f32', data: rng.normalArray(D), grad: true },
      ],
      nDiff: 1,
      forward(be, [x, w]) {
        const { y, rstd } = be.rmsnorm(x, w, eps);
        return [y, rstd];
      },
      backward(be, [x, w], [dy]) {
        const { y, rstd } = be.rmsnorm(x, w, eps);
        // dy handed over as parts to be added in the kernel (the tape's unsummed gradient
        // parts): 1, 2, or 5 (more than the kernel binds: the first ones are pre-added).
        const [dy0, ...more] = PARTS[index % 3].map((f) => be.scale(dy, f));
        const { dx, dw } = be.rmsnormBackward(x, w, rstd, dy0, undefined, more);
        for (const t of [y, rstd, dy0, ...more]) t.dispose();
        return [dx, dw];
      },
    };
  },
};

const addRmsnormCheck: OpCheck = {
  name: 'addRmsnorm',
  about:
    'sum = a + b and y = rmsnorm(sum)·w in one pass; backward: ds = dsum + rmsnorm dx (one kernel), da = db = ds, dw',
  tolForward: 1e-5,
  tolBackward: 1e-4,
  makeCase(rng, index) {
    const [N, D] = rowsAndDim(rng, index);
    const eps = rng.pick([1e-6, 1e-5]);
    const scale = rng.pick([0.1, 1, 3]);
    return {
      desc: `N=${N} D=${D} eps=${eps} |a|,|b|~${scale}`,
      inputs: [
        { name: 'a', shape: [N, D], dtype: 'f32', data: rng.normalArray(N * D, scale), grad: true },
        { name: 'b', shape: [N, D], dtype: 'f32', data: rng.normalArray(N * D, scale), grad: true },
        { name: 'w', shape: [D], dtype: 'f32', data: rng.normalArray(D), grad: true },
      ],
      nDiff: 2,
      forward(be, [a, b, w]) {
        const { sum, y, rstd } = be.addRmsnorm(a, b, w, eps);
        return [y, sum, rstd];
      },
      backward(be, [a, b, w], [dy, dsum]) {
        const { sum, y, rstd } = be.addRmsnorm(a, b, w, eps);
        // The tape's composition: the sum's own gradient folded into the norm's dx (one kernel).
        const { dx: ds, dw } = be.rmsnormBackward(sum, w, rstd, dy, dsum);
        for (const t of [sum, y, rstd]) t.dispose();
        return [ds, be.scale(ds, 1), dw];
      },
    };
  },
};

const rmsnormSegmentsCheck: OpCheck = {
  name: 'rmsnormSegments',
  about:
    'two RMSNorms in one pass, each over the leading D of its S columns (the rest carried): y_a, y_b, rest_b; dx (carried gradient copied in), dw',
  tolForward: 1e-5,
  tolBackward: 1e-4,
  makeCase(rng, index) {
    const [N, Da] = rowsAndDim(rng, index);
    const Db = rng.pick([2, 7, 33, 64, 130]);
    const Sb = Db + rng.pick([1, 5, 32]);
    const eps = rng.pick([1e-6, 1e-5]);
    return {
      desc: `N=${N} a: D=S=${Da}; b: D=${Db} S=${Sb} eps=${eps}`,
      inputs: [
        { name: 'xa', shape: [N, Da], dtype: 'f32', data: rng.normalArray(N * Da), grad: true },
        { name: 'wa', shape: [Da], dtype: 'f32', data: rng.normalArray(Da), grad: true },
        { name: 'xb', shape: [N, Sb], dtype: 'f32', data: rng.normalArray(N * Sb), grad: true },
        { name: 'wb', shape: [Db], dtype: 'f32', data: rng.normalArray(Db), grad: true },
      ],
      nDiff: 3,
      forward(be, [xa, wa, xb, wb]) {
        const r = be.rmsnormSegments(
          [
            { x: xa, w: wa },
            { x: xb, w: wb },
          ],
          eps,
        );
        return [r.y[0], r.y[1], r.rest[1] as (typeof r.y)[0]];
      },
      backward(be, [xa, wa, xb, wb], [dya, dyb, drest]) {
        const segs = [
          { x: xa, w: wa },
          { x: xb, w: wb },
        ];
        const r = be.rmsnormSegments(segs, eps);
        const g = be.rmsnormSegmentsBackward(segs, r.rstd, [dya, dyb], [null, drest]);
        for (const t of [...r.y, ...r.rstd]) t.dispose();
        return [g.dx[0], g.dw[0], g.dx[1], g.dw[1]];
      },
    };
  },
};

export const rmsnormChecks: OpCheck[] = [
  rmsnormCheck,
  addRmsnormCheck,
  rmsnormSegmentsCheck,
  onTree(rmsnormCheck),
  onTree(addRmsnormCheck),
  onTree(rmsnormSegmentsCheck),
];
