// Op checks for the elementwise family: add, mul, scale, broadcastScalar, addInPlace.
// Shapes cycle through tiny (dims of 1), odd (element counts that are not multiples of 4, so
// the vec4 kernels' padding lanes are exercised) and larger regimes.
//
// Tolerances: each output element is one f32 operation on f32-rounded inputs, so GPU vs the
// float64 reference differs by a few units of f32 rounding (≈ 1e-7 relative); 1e-6 leaves margin.

import type { Backend } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Shape, Tensor } from '../engine/tensor';
import { sizeOf } from '../engine/tensor';
import type { HostInput, OpCheck } from './types';

function input(rng: Rng, name: string, shape: Shape, grad: boolean): HostInput {
  return { name, shape, dtype: 'f32', data: rng.normalArray(sizeOf(shape)), grad };
}

/** A shape for regime index % 3: tiny (dims of 1 included), odd, larger. */
function regimeShape(rng: Rng, index: number): Shape {
  switch (index % 3) {
    case 0:
      return rng.next() < 0.5 ? [rng.int(1, 3)] : [rng.int(1, 3), rng.int(1, 3)];
    case 1:
      return [rng.pick([7, 33, 130]), 2 * rng.int(1, 20) + 1];
    default:
      return [rng.int(200, 400), rng.int(100, 300)];
  }
}

const TOL = 1e-6;

const add: OpCheck = {
  name: 'add',
  about: 'a + b; grads dy, dy',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    return {
      desc: `shape=[${shape}]`,
      inputs: [input(rng, 'a', shape, true), input(rng, 'b', shape, true)],
      nDiff: 1,
      forward: (be: Backend, [a, b]: Tensor[]) => [be.add(a, b)],
      backward: (be: Backend, _xs: Tensor[], [dy]: Tensor[]) => [be.scale(dy, 1), be.scale(dy, 1)],
    };
  },
};

const mul: OpCheck = {
  name: 'mul',
  about: 'a ⊙ b; grads dy⊙b, dy⊙a',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    return {
      desc: `shape=[${shape}]`,
      inputs: [input(rng, 'a', shape, true), input(rng, 'b', shape, true)],
      nDiff: 1,
      forward: (be: Backend, [a, b]: Tensor[]) => [be.mul(a, b)],
      backward: (be: Backend, [a, b]: Tensor[], [dy]: Tensor[]) => [be.mul(dy, b), be.mul(dy, a)],
    };
  },
};

const scale: OpCheck = {
  name: 'scale',
  about: 'a · s for a host scalar s; grad dy · s',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    const s = rng.normal() * 3;
    return {
      desc: `shape=[${shape}] s=${s.toPrecision(3)}`,
      inputs: [input(rng, 'a', shape, true)],
      nDiff: 1,
      forward: (be: Backend, [a]: Tensor[]) => [be.scale(a, s)],
      backward: (be: Backend, _xs: Tensor[], [dy]: Tensor[]) => [be.scale(dy, s)],
    };
  },
};

const broadcastScalar: OpCheck = {
  name: 'broadcastScalar',
  about: 'fill a shape with s[0]·factor (s read on the device); grad factor·Σdy via sum + scale',
  tolForward: TOL,
  // The backward is a sum over up to ~1e5 elements: f32 tree-summation error, see check 'sum'.
  tolBackward: 1e-5,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    const factor = rng.normal() * 2;
    return {
      desc: `shape=[${shape}] factor=${factor.toPrecision(3)}`,
      inputs: [input(rng, 's', [1], true)],
      nDiff: 1,
      forward: (be: Backend, [s]: Tensor[]) => [be.broadcastScalar(s, shape, factor)],
      backward: (be: Backend, _xs: Tensor[], [dy]: Tensor[]) => {
        const total = be.sum(dy);
        const ds = be.scale(total, factor);
        total.dispose();
        return [ds];
      },
    };
  },
};

const addInPlace: OpCheck = {
  name: 'addInPlace',
  about: 'dst += src in place (forward only: copy dst, accumulate, return the copy)',
  tolForward: TOL,
  tolBackward: TOL,
  makeCase(rng, index) {
    const shape = regimeShape(rng, index);
    return {
      desc: `shape=[${shape}]`,
      inputs: [input(rng, 'dst', shape, false), input(rng, 'src', shape, false)],
      nDiff: 0,
      forward: (be: Backend, [dst, src]: Tensor[]) => {
        const acc = be.scale(dst, 1);
        be.addInPlace(acc, src);
        return [acc];
      },
    };
  },
};

export const elementwiseChecks: OpCheck[] = [add, mul, scale, broadcastScalar, addInPlace];
