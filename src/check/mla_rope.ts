// Op checks for MLA's RoPE-and-layout ops (shaders/mla_rope.wgsl): ropeCols (backward: the
// inverse rotation) and mlaKeys (backward: mlaKeysBackward, whose head sum the finite
// differences check). Regimes: tiny (one head, one pair), odd (T = 7 / 33, odd nope and value
// widths, columns not multiples of 4), larger (the micro and browser presets' head shapes).
// Tolerance as rope's (shaders/rope.wgsl): the f32 angle carries ≲ 3e-7·angle rad, ≲ 1e-4 at
// the ≤ 320 positions here; the copies are exact.

import type { Rng } from '../engine/rng';
import type { OpCheck } from './types';

interface Dims {
  B: number;
  T: number;
  H: number;
  dn: number;
  dr: number;
  dv: number;
}

function dims(rng: Rng, index: number): Dims {
  switch (index % 3) {
    case 0:
      return { B: 1, T: rng.int(1, 2), H: 1, dn: rng.int(1, 2), dr: 2, dv: rng.int(1, 2) };
    case 1:
      return {
        B: rng.int(1, 2),
        T: rng.pick([7, 33]),
        H: rng.pick([1, 3]),
        dn: rng.pick([3, 5, 7]),
        dr: rng.pick([2, 6, 10]),
        dv: rng.pick([1, 5, 9]),
      };
    default:
      return {
        B: rng.int(1, 2),
        T: rng.int(100, 300),
        H: rng.pick([4, 8]),
        dn: rng.pick([16, 32]),
        dr: rng.pick([16, 32]),
        dv: rng.pick([16, 32]),
      };
  }
}

function theta(rng: Rng): { theta: number; posOffset: number } {
  return { theta: rng.pick([10000, 500]), posOffset: rng.next() < 0.5 ? rng.int(0, 20) : 0 };
}

const ropeCols: OpCheck = {
  name: 'ropeCols',
  about: 'columns [start, start+len) of each head rotated as rope(), the rest copied; backward = inverse',
  tolForward: 1e-4,
  tolBackward: 1e-4,
  makeCase(rng, index) {
    const { B, T, H, dn, dr } = dims(rng, index);
    const { theta: th, posOffset } = theta(rng);
    // The rotated range anywhere in the head: before, after or between copied columns.
    const after = index % 3 === 1 ? rng.int(0, 3) : 0;
    const D = dn + dr + after;
    return {
      desc: `x=[${B},${T},${H},${D}] cols [${dn}, ${dn + dr}) theta=${th} posOffset=${posOffset}`,
      inputs: [{ name: 'x', shape: [B, T, H, D], dtype: 'f32', data: rng.normalArray(B * T * H * D), grad: true }],
      nDiff: 1,
      forward: (be, [x]) => [be.ropeCols(x, dn, dr, th, posOffset, false)],
      backward: (be, _xs, [dy]) => [be.ropeCols(dy, dn, dr, th, posOffset, true)],
    };
  },
};

const mlaKeys: OpCheck = {
  name: 'mlaKeys',
  about: 'k = [kv[..., :dn] ; RoPE(kpe) per head], v = kv[..., dn:]; backward mlaKeysBackward (head sum, inverse RoPE)',
  tolForward: 1e-4,
  tolBackward: 1e-4,
  makeCase(rng, index) {
    const { B, T, H, dn, dr, dv } = dims(rng, index);
    const { theta: th, posOffset } = theta(rng);
    const kvShape = [B, T, H, dn + dv];
    return {
      desc: `B=${B} T=${T} H=${H} dn=${dn} dr=${dr} dv=${dv} theta=${th} posOffset=${posOffset}`,
      inputs: [
        { name: 'kv', shape: kvShape, dtype: 'f32', data: rng.normalArray(B * T * H * (dn + dv)), grad: true },
        { name: 'kpe', shape: [B, T, dr], dtype: 'f32', data: rng.normalArray(B * T * dr), grad: true },
      ],
      nDiff: 2,
      forward: (be, [kv, kpe]) => {
        const { k, v } = be.mlaKeys(kv, kpe, dn, th, posOffset);
        return [k, v];
      },
      backward: (be, _xs, [dk, dv]) => {
        const g = be.mlaKeysBackward(dk, dv, dn, th, posOffset);
        return [g.dkv, g.dkpe];
      },
    };
  },
};

export const mlaRopeChecks: OpCheck[] = [ropeCols, mlaKeys];
