// Op checks for SiLU and SwiGLU.
import type { Rng } from '../engine/rng';
import type { Shape } from '../engine/tensor';
import type { OpCheck } from './types';

function shape(rng: Rng, index: number): Shape {
  switch (index % 3) {
    case 0:
      return [rng.int(1, 2), rng.int(1, 3)];
    case 1:
      // Odd element counts take the scalar path; 130·… also exercises it at larger sizes.
      return [rng.pick([7, 33]), rng.pick([13, 130])];
    default:
      // A multiple of 4: the vec4 path.
      return [rng.int(100, 300), 4 * rng.int(50, 150)];
  }
}

/**
 * Pre-activations: normals of scale 3 (|x| up to ~12, both tails of σ). Huge |x| are tested
 * separately (src/backends/norm-rope-act.test.ts): here they would dominate the normwise error.
 */
function preacts(rng: Rng, n: number): Float64Array {
  return rng.normalArray(n, 3);
}

function desc(s: Shape): string {
  return `shape=[${s.join(',')}]${(s[0] * s[1]) % 4 === 0 ? ' (vec4)' : ' (scalar)'}`;
}

export const activationChecks: OpCheck[] = [
  {
    name: 'silu',
    about: "silu(x) = x·σ(x) and dy·silu'(x) (stable sigmoid)",
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const s = shape(rng, index);
      const n = s[0] * s[1];
      return {
        desc: desc(s),
        inputs: [{ name: 'x', shape: s, dtype: 'f32', data: preacts(rng, n), grad: true }],
        nDiff: 1,
        forward(be, [x]) {
          return [be.silu(x)];
        },
        backward(be, [x], [dy]) {
          return [be.siluBackward(x, dy)];
        },
      };
    },
  },
  {
    name: 'swiglu',
    about: "swiglu(g, u) = silu(g)·u; dg = dy·u·silu'(g), du = dy·silu(g)",
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const s = shape(rng, index);
      const n = s[0] * s[1];
      return {
        desc: desc(s),
        inputs: [
          { name: 'g', shape: s, dtype: 'f32', data: preacts(rng, n), grad: true },
          { name: 'u', shape: s, dtype: 'f32', data: rng.normalArray(n), grad: true },
        ],
        nDiff: 1,
        forward(be, [g, u]) {
          return [be.swiglu(g, u)];
        },
        backward(be, [g, u], [dy]) {
          const { dg, du } = be.swigluBackward(g, u, dy);
          return [dg, du];
        },
      };
    },
  },
];
