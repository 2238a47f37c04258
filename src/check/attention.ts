// Op check for causal attention: forward (o and lse) and backward (dq, dk, dv) across MHA/GQA,
// with dQK ≠ dV sometimes (as MLA needs), at three shape regimes.
import type { AttentionShape } from '../engine/backend';
import type { Rng } from '../engine/rng';
import { sizeOf } from '../engine/tensor';
import type { CheckCase, OpCheck } from './types';

/** Shapes of q, k, v and of o (= dO) for an attention shape. */
export function attentionShapes(s: AttentionShape): { q: number[]; k: number[]; v: number[]; o: number[] } {
  return {
    q: [s.batch, s.seq, s.heads, s.dQK],
    k: [s.batch, s.seq, s.kvHeads, s.dQK],
    v: [s.batch, s.seq, s.kvHeads, s.dV],
    o: [s.batch, s.seq, s.heads, s.dV],
  };
}

/** Pick (heads, kvHeads): MHA half the time, else a GQA/MQA split of `heads`. */
function pickHeads(rng: Rng, heads: number): [number, number] {
  const divisors = [...Array(heads).keys()].map((i) => i + 1).filter((d) => heads % d === 0);
  return [heads, rng.next() < 0.5 ? heads : rng.pick(divisors)];
}

function attentionCase(rng: Rng, index: number): CheckCase {
  const regime = index % 3;
  let B: number, T: number, H: number, dQK: number, dV: number;
  if (regime === 0) {
    // tiny: single tokens, single heads, head dims of 1
    B = rng.int(1, 2);
    T = rng.int(1, 3);
    H = rng.int(1, 2);
    dQK = rng.int(1, 4);
    dV = rng.int(1, 4);
  } else if (regime === 1) {
    // odd: not multiples of any tile or of vec4
    B = rng.int(1, 2);
    T = rng.pick([7, 13, 33]);
    H = rng.pick([1, 2, 3, 4]);
    dQK = rng.pick([5, 12, 20]);
    dV = rng.next() < 0.5 ? dQK : rng.pick([3, 7, 12, 20]);
  } else {
    // larger: several key tiles per query block; kept small enough for the CPU finite differences
    B = 1;
    T = rng.int(64, 130);
    H = rng.pick([2, 4]);
    dQK = rng.pick([16, 24, 32]);
    dV = rng.next() < 0.5 ? dQK : rng.pick([8, 16, 32]);
  }
  const [heads, kvHeads] = pickHeads(rng, H);
  const s: AttentionShape = { batch: B, seq: T, heads, kvHeads, dQK, dV, scale: 1 / Math.sqrt(dQK) };
  const shapes = attentionShapes(s);
  return {
    desc: `B=${B} T=${T} H=${heads} Hkv=${kvHeads} dQK=${dQK} dV=${dV}`,
    inputs: [
      { name: 'q', shape: shapes.q, dtype: 'f32', data: rng.normalArray(sizeOf(shapes.q)), grad: true },
      { name: 'k', shape: shapes.k, dtype: 'f32', data: rng.normalArray(sizeOf(shapes.k)), grad: true },
      { name: 'v', shape: shapes.v, dtype: 'f32', data: rng.normalArray(sizeOf(shapes.v)), grad: true },
    ],
    forward(be, [q, k, v]) {
      const { o, lse } = be.attention(q, k, v, s);
      return [o, lse];
    },
    nDiff: 1,
    backward(be, [q, k, v], [dO]) {
      const { o, lse } = be.attention(q, k, v, s);
      const { dq, dk, dv } = be.attentionBackward(q, k, v, o, lse, dO, s);
      o.dispose();
      lse.dispose();
      return [dq, dk, dv];
    },
  };
}

export const attentionChecks: OpCheck[] = [
  {
    name: 'attention',
    about: 'causal softmax attention (MHA/GQA, dQK ≠ dV): o, lse and dq, dk, dv',
    // f32 dot products of length ≤ 32 and softmax sums of length ≤ 130: ~1e-6 relative.
    tolForward: 1e-5,
    // The backward sums up to T·(H/Hkv) terms per dk/dv element, with cancellation in
    // dS = P(dP − D); relative error stays well under 1e-4.
    tolBackward: 1e-4,
    makeCase: attentionCase,
  },
];
