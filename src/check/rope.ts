// Op check for RoPE (adjacent pairs, DeepSeek-V3 convention). The backward is the inverse rotation.
import type { Rng } from '../engine/rng';
import type { OpCheck } from './types';

function shape(rng: Rng, index: number): [number, number, number, number] {
  switch (index % 3) {
    case 0:
      return [1, rng.int(1, 2), rng.int(1, 2), rng.pick([2, 4])];
    case 1:
      return [rng.int(1, 2), rng.pick([7, 33]), rng.pick([1, 3]), rng.pick([6, 10, 34])];
    default:
      return [rng.int(1, 2), rng.int(100, 300), rng.int(2, 4), rng.pick([16, 32, 64])];
  }
}

export const ropeChecks: OpCheck[] = [
  {
    name: 'rope',
    about: 'rotate pairs (x[2i], x[2i+1]) by (t+posOffset)·theta^(−2i/D); backward = inverse rotation',
    // The f32 angle (t+posOffset)·f_i carries ≈ ½ ulp rounding plus exp2's few-ulp error in f_i
    // (see shaders/rope.wgsl): ≲ 3e-7·angle rad, so ≲ 1e-4 at the ≤ 320 positions here
    // (≈ 1e-5 observed).
    tolForward: 1e-4,
    tolBackward: 1e-4,
    makeCase(rng, index) {
      const [B, T, H, D] = shape(rng, index);
      const theta = rng.pick([10000, 500]);
      const posOffset = rng.next() < 0.5 ? rng.int(0, 20) : 0;
      return {
        desc: `B=${B} T=${T} H=${H} D=${D} theta=${theta} posOffset=${posOffset}`,
        inputs: [{ name: 'x', shape: [B, T, H, D], dtype: 'f32', data: rng.normalArray(B * T * H * D), grad: true }],
        nDiff: 1,
        forward(be, [x]) {
          return [be.rope(x, theta, posOffset, false)];
        },
        backward(be, _xs, [dy]) {
          return [be.rope(dy, theta, posOffset, true)];
        },
      };
    },
  },
  {
    name: 'ropePair',
    about:
      "rope of q [B, T, H, D] and of k [B, T, Hkv, D] in one pass (an attention's q and k); backward = both inverse",
    tolForward: 1e-4, // as rope's
    tolBackward: 1e-4,
    makeCase(rng, index) {
      const [B, T, H, D] = shape(rng, index);
      const Hkv = rng.pick([1, H]);
      const theta = rng.pick([10000, 500]);
      const posOffset = rng.next() < 0.5 ? rng.int(0, 20) : 0;
      return {
        desc: `B=${B} T=${T} H=${H} Hkv=${Hkv} D=${D} theta=${theta} posOffset=${posOffset}`,
        inputs: [
          { name: 'q', shape: [B, T, H, D], dtype: 'f32', data: rng.normalArray(B * T * H * D), grad: true },
          { name: 'k', shape: [B, T, Hkv, D], dtype: 'f32', data: rng.normalArray(B * T * Hkv * D), grad: true },
        ],
        nDiff: 2,
        forward(be, [q, k]) {
          return be.ropePair(q, k, theta, posOffset, false);
        },
        backward(be, _xs, [dq, dk]) {
          return be.ropePair(dq, dk, theta, posOffset, true);
        },
      };
    },
  },
];
