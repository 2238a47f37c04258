// Op checks for the layout family: sliceLast, padLast, concatLast, splitLast, swap01, copyInto.
// Each backward is another layout op (sliceLast ↔ padLast, concatLast → two sliceLasts,
// splitLast → concatLast, swap01 → swap01), so a check exercises both directions.
//
// Regimes: tiny (dims of 1, empty leading dims), odd (column counts and offsets that are not
// multiples of 4: the per-float kernels), larger (half the time every column count and offset
// a multiple of 4: the vec4 kernels).
//
// Tolerance: these ops copy, so the GPU output is exactly the f32 rounding of the f64 inputs
// the harness uploads, and the only difference from the f64 reference is that rounding:
// |f32(v) − v| ≤ 2⁻²⁴·|v| ≈ 6e-8·|v| per element, hence ≤ 6e-8 normwise. 1e-7 admits exactly
// that and nothing else (layout-softmax.test.ts also checks bit-exactness against f32 inputs).

import { SLICE_ALIGN } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Shape } from '../engine/tensor';
import { sizeOf } from '../engine/tensor';
import type { HostInput, OpCheck } from './types';

const TOL = 1e-7;

function input(rng: Rng, name: string, shape: Shape): HostInput {
  return { name, shape, dtype: 'f32', data: rng.normalArray(sizeOf(shape)), grad: true };
}

/** Leading dims (possibly none) for regime index % 3. */
function leading(rng: Rng, index: number): number[] {
  switch (index % 3) {
    case 0:
      return rng.pick([[], [1], [rng.int(1, 3)], [1, rng.int(1, 3)]]);
    case 1:
      return rng.pick([[rng.pick([7, 33, 130])], [3, rng.pick([7, 11])]]);
    default:
      return rng.pick([[rng.int(100, 300)], [rng.int(2, 4), rng.int(50, 100)]]);
  }
}

/**
 * Column counts for regime index % 3, as a function turning a range [lo, hi] into a count. In
 * the larger regime, `aligned` makes every count (and offset) a multiple of 4.
 */
function cols(rng: Rng, index: number): { n: (lo: number, hi: number) => number; aligned: boolean } {
  const r = index % 3;
  if (r === 2 && rng.next() < 0.5)
    return { n: (lo, hi) => 4 * rng.int(Math.ceil(lo / 4), Math.floor(hi / 4)), aligned: true };
  if (r === 1) {
    // Odd: never a multiple of 4.
    return {
      n: (lo, hi) => {
        let v = rng.int(lo, hi);
        if (v % 4 === 0) v = v > lo ? v - 1 : v + 1;
        return v;
      },
      aligned: false,
    };
  }
  return { n: (lo, hi) => rng.int(lo, hi), aligned: false };
}

/** Column-count ranges per regime: [min, max] of a last dim. */
const RANGE: Array<[number, number]> = [
  [1, 4],
  [5, 140],
  [60, 300],
];

const sliceLast: OpCheck = {
  name: 'sliceLast',
  about: 'x[..., start:start+len] (exact copy); backward padLast(dy, start, D)',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const lead = leading(rng, index);
    const c = cols(rng, index);
    const [lo, hi] = RANGE[index % 3];
    const D = c.n(lo, hi);
    const start = c.aligned ? 4 * rng.int(0, D / 4 - 1) : rng.int(0, D - 1);
    const len = c.aligned ? 4 * rng.int(1, (D - start) / 4) : rng.int(1, D - start);
    return {
      desc: `x=[${[...lead, D]}] start=${start} len=${len}`,
      inputs: [input(rng, 'x', [...lead, D])],
      nDiff: 1,
      forward: (be, [x]) => [be.sliceLast(x, start, len)],
      backward: (be, _xs, [dy]) => [be.padLast(dy, start, D)],
    };
  },
};

const padLast: OpCheck = {
  name: 'padLast',
  about: 'zeros [..., total] with x at columns [start, start+L) (exact); backward sliceLast(dy, start, L)',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const lead = leading(rng, index);
    const c = cols(rng, index);
    const [lo, hi] = RANGE[index % 3];
    const L = c.n(lo, hi);
    const before = c.aligned ? 4 * rng.int(0, 16) : rng.int(0, Math.max(1, L >> 1));
    const after = c.aligned ? 4 * rng.int(0, 16) : rng.int(0, Math.max(1, L >> 1));
    const total = before + L + after;
    return {
      desc: `x=[${[...lead, L]}] start=${before} total=${total}`,
      inputs: [input(rng, 'x', [...lead, L])],
      nDiff: 1,
      forward: (be, [x]) => [be.padLast(x, before, total)],
      backward: (be, _xs, [dy]) => [be.sliceLast(dy, before, L)],
    };
  },
};

const concatLast: OpCheck = {
  name: 'concatLast',
  about: '[a | b] along the last dim (exact); backward sliceLast(dy, 0, Da), sliceLast(dy, Da, Db)',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const lead = leading(rng, index);
    const c = cols(rng, index);
    const [lo, hi] = RANGE[index % 3];
    const Da = c.n(lo, hi);
    const Db = c.n(lo, hi);
    return {
      desc: `a=[${[...lead, Da]}] b=[${[...lead, Db]}]`,
      inputs: [input(rng, 'a', [...lead, Da]), input(rng, 'b', [...lead, Db])],
      nDiff: 1,
      forward: (be, [a, b]) => [be.concatLast(a, b)],
      backward: (be, _xs, [dy]) => [be.sliceLast(dy, 0, Da), be.sliceLast(dy, Da, Db)],
    };
  },
};

const splitLast: OpCheck = {
  name: 'splitLast',
  about: 'x[..., :at] and x[..., at:] in one pass (exact); backward concatLast(da, db)',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const lead = leading(rng, index);
    const c = cols(rng, index);
    const [lo, hi] = RANGE[index % 3];
    const Da = c.n(lo, hi);
    const Db = c.n(lo, hi);
    return {
      desc: `x=[${[...lead, Da + Db]}] at=${Da}`,
      inputs: [input(rng, 'x', [...lead, Da + Db])],
      nDiff: 2,
      forward: (be, [x]) => {
        const { a, b } = be.splitLast(x, Da);
        return [a, b];
      },
      backward: (be, _xs, [da, db]) => [be.concatLast(da, db)],
    };
  },
};

const swap01: OpCheck = {
  name: 'swap01',
  about: 'x [A, B, C] → [B, A, C] (exact); its own backward',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    let shape: [number, number, number];
    switch (index % 3) {
      case 0:
        shape = [rng.int(1, 3), rng.int(1, 3), rng.int(1, 3)];
        break;
      case 1:
        shape = [rng.pick([7, 33, 130]), rng.pick([3, 5, 7]), rng.pick([1, 7, 13, 33])];
        break;
      default:
        // Heads-in-front shapes [B·T, H, d]; d a multiple of 4 (vec4 path) or not.
        shape = [rng.int(100, 300), rng.int(2, 8), rng.pick([16, 32, 64, 33, 50])];
    }
    return {
      desc: `x=[${shape}]`,
      inputs: [input(rng, 'x', shape)],
      nDiff: 1,
      forward: (be, [x]) => [be.swap01(x)],
      backward: (be, _xs, [dy]) => [be.swap01(dy)],
    };
  },
};

/**
 * copyInto (with slice): x copied into its slot of a zeroed arena at an aligned offset (the
 * slot's neighbours must stay zero), and the slot copied back out into a tensor of its own.
 * Both outputs are exact copies. No backward (a memory op of the optimizer).
 */
const copyInto: OpCheck = {
  name: 'copyInto',
  about: 'x → its slice of an arena and back out (exact; the rest of the arena untouched)',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const n = index % 3 === 0 ? rng.int(1, 5) : index % 3 === 1 ? rng.pick([7, 33, 130]) : rng.int(1000, 5000);
    const offset = SLICE_ALIGN * rng.int(0, 4);
    const total = offset + Math.ceil(n / SLICE_ALIGN) * SLICE_ALIGN + SLICE_ALIGN * rng.int(0, 2);
    return {
      desc: `n=${n} at ${offset} of ${total}`,
      inputs: [{ ...input(rng, 'x', [n]), grad: false }],
      nDiff: 0,
      forward: (be, [x]) => {
        const arena = be.zeros([total]);
        const slot = be.slice(arena, offset, [n]);
        be.copyInto(slot, x);
        const back = be.zeros([n]);
        be.copyInto(back, slot);
        return [arena, back];
      },
    };
  },
};

export const layoutChecks: OpCheck[] = [sliceLast, padLast, concatLast, splitLast, swap01, copyInto];
