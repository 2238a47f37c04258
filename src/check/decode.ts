// Op checks for the generation engine's cache ops (inference only, so forward-only: nDiff 0,
// no backward): cacheWrite, ropeAt, cachedAttention.
//
// Every case gives each sequence its own start position, drawn from three kinds in turn:
// 0 (an empty cache), near the capacity C (so cacheWrite drops the rows that would land at or
// past C, and later queries of cachedAttention are clamped to the last cache row), and anywhere.
// cachedAttention alternates two cache layouts:
//   MLA-like: one latent cache is both key and value (kc and vc the same tensor), kvHeads 1,
//             vOffset 0, dV < dQK, kStride = vStride = dQK;
//   MHA/GQA:  separate key and value caches (heads > kvHeads for GQA), with spare columns in the
//             rows (kStride > kvHeads·dQK, vOffset > 0) to exercise the strides.

import type { CachedAttentionShape } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { HostInput, OpCheck } from './types';

/** Start positions for B sequences with n new tokens each and a cache of C rows (see above). */
function startPositions(rng: Rng, B: number, C: number, n: number): Int32Array {
  const pos = new Int32Array(B);
  const kind0 = rng.int(0, 2);
  for (let b = 0; b < B; b++) {
    const kind = (kind0 + b) % 3;
    if (kind === 0) pos[b] = 0;
    else if (kind === 1)
      pos[b] = Math.max(0, C - rng.int(1, n + 1)); // the last rows overflow when n > 1
    else pos[b] = rng.int(0, Math.max(0, C - 1));
  }
  return pos;
}

const f32In = (name: string, shape: number[], data: Float64Array): HostInput => ({
  name,
  shape,
  dtype: 'f32',
  data,
  grad: false,
});
/** Normals rounded to f32, so a copy is exact on both backends. */
const normalF32 = (rng: Rng, n: number): Float64Array => rng.normalArray(n).map(Math.fround);
const posIn = (pos: Int32Array): HostInput => ({
  name: 'pos',
  shape: [pos.length],
  dtype: 'i32',
  data: pos,
  grad: false,
});

export const decodeChecks: OpCheck[] = [
  {
    name: 'cacheWrite',
    about: 'in place: cache[b, pos[b]+j, :] = rows[b, j, :], rows past capacity dropped',
    // A pure copy: exact (the inputs are drawn as f32 values, so both backends hold the same numbers).
    tolForward: 0,
    tolBackward: 0,
    makeCase(rng, index) {
      let B: number, C: number, W: number, n: number;
      switch (index % 3) {
        case 0:
          [B, C, W, n] = [rng.int(1, 3), rng.int(1, 4), rng.int(1, 3), rng.int(1, 2)];
          break;
        case 1:
          [B, C, W, n] = [rng.int(2, 3), rng.pick([7, 33, 130]), rng.pick([7, 33]), rng.pick([1, 5])];
          break;
        default:
          [B, C, W, n] = [rng.int(2, 4), rng.int(200, 300), rng.int(100, 300), rng.pick([1, rng.int(2, 40)])];
      }
      const pos = startPositions(rng, B, C, n);
      return {
        desc: `B=${B} C=${C} W=${W} n=${n} pos=[${pos.join(',')}]`,
        // The untouched cache rows are random too, so a stray write shows.
        inputs: [
          f32In('cache', [B, C, W], normalF32(rng, B * C * W)),
          f32In('rows', [B, n, W], normalF32(rng, B * n * W)),
          posIn(pos),
        ],
        nDiff: 0,
        forward(be, [cache, rows, p]) {
          be.cacheWrite(cache, rows, p);
          return [cache];
        },
      };
    },
  },
  {
    name: 'ropeAt',
    about: 'rope() with token j of sequence b at position pos[b] + j',
    // As for rope (see src/check/rope.ts and shaders/decode_rope.wgsl): the f32 angle p·f_i is
    // off by ≲ 3e-7·angle rad, so ≲ 1e-4 at the ≤ 320 positions used here.
    tolForward: 1e-4,
    tolBackward: 1e-4,
    makeCase(rng, index) {
      let B: number, n: number, H: number, D: number;
      switch (index % 3) {
        case 0:
          [B, n, H, D] = [rng.int(1, 2), rng.int(1, 2), rng.int(1, 2), rng.pick([2, 4])];
          break;
        case 1:
          [B, n, H, D] = [rng.int(2, 3), rng.pick([7, 33]), rng.pick([1, 3]), rng.pick([6, 10, 34])];
          break;
        default:
          [B, n, H, D] = [rng.int(2, 3), rng.pick([1, rng.int(100, 200)]), rng.int(2, 4), rng.pick([16, 32, 64])];
      }
      // Positions up to 320 in all: a "capacity" of 320 − n for the start positions.
      const pos = startPositions(rng, B, 321 - n, 1);
      const theta = rng.pick([10000, 500]);
      return {
        desc: `B=${B} n=${n} H=${H} D=${D} theta=${theta} pos=[${pos.join(',')}]`,
        inputs: [f32In('x', [B, n, H, D], rng.normalArray(B * n * H * D)), posIn(pos)],
        nDiff: 0,
        forward(be, [x, p]) {
          return [be.ropeAt(x, p, theta)];
        },
      };
    },
  },
  {
    name: 'cachedAttention',
    about: 'n queries per sequence vs a KV cache, keys 0..=pos[b]+j; MLA (kc = vc) and MHA/GQA layouts',
    // f32 dot products of length ≤ 130 and online-softmax sums over ≤ 300 keys (weights in
    // [0, 1], each ≲ 1e-7 relative): ~1e-6 relative, as for attention.
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const mla = rng.next() < 0.5;
      let B: number, n: number, kvHeads: number, group: number, dQK: number, dV: number, C: number;
      switch (index % 3) {
        case 0: // tiny: dims of 1
          [B, n, kvHeads, group, dQK, dV, C] = [
            rng.int(1, 2),
            rng.int(1, 2),
            rng.int(1, 2),
            rng.int(1, 2),
            rng.int(1, 4),
            rng.int(1, 4),
            rng.int(1, 5),
          ];
          break;
        case 1: // odd: not multiples of the 64-key tile, the 32-column chunk or the 64 output lanes
          [B, n, kvHeads, group, dQK, dV, C] = [
            rng.int(2, 3),
            rng.pick([1, 3, 7]),
            rng.int(1, 2),
            rng.pick([1, 3]),
            rng.pick([7, 33]),
            rng.pick([7, 33]),
            rng.pick([70, 130]),
          ];
          break;
        default: // larger: several key tiles, dV past one lane's share (2 accumulators per thread)
          [B, n, kvHeads, group, dQK, dV, C] = [
            2,
            rng.pick([1, 4, 16]),
            rng.int(1, 2),
            rng.int(1, 2),
            rng.int(64, 130),
            rng.int(65, 130),
            rng.int(200, 300),
          ];
      }
      if (mla) {
        kvHeads = 1;
        group = index % 3 === 0 ? rng.int(1, 2) : rng.int(2, 4);
        if (dQK < 2) dQK = 2;
        dV = rng.int(1, dQK - 1); // MLA: the value is the latent part of [c ; k_pe]
      }
      const H = kvHeads * group;
      const s: CachedAttentionShape = mla
        ? { heads: H, kvHeads, dQK, dV, kStride: dQK, vStride: dQK, vOffset: 0, scale: 1 / Math.sqrt(dQK) }
        : (() => {
            const kStride = kvHeads * dQK + rng.int(0, 3);
            const vOffset = rng.int(0, 3);
            const vStride = vOffset + kvHeads * dV + rng.int(0, 3);
            return { heads: H, kvHeads, dQK, dV, kStride, vStride, vOffset, scale: 1 / Math.sqrt(dQK) };
          })();
      const pos = startPositions(rng, B, C, n);
      const q = f32In('q', [B, n, H, dQK], rng.normalArray(B * n * H * dQK));
      const kc = f32In(mla ? 'latent' : 'kc', [B, C, s.kStride], rng.normalArray(B * C * s.kStride));
      const layout = mla ? 'MLA kc=vc' : `MHA/GQA kStride=${s.kStride} vStride=${s.vStride} vOffset=${s.vOffset}`;
      const desc = `B=${B} n=${n} H=${H} Hkv=${kvHeads} dQK=${dQK} dV=${dV} C=${C} ${layout} pos=[${pos.join(',')}]`;
      if (mla) {
        return {
          desc,
          inputs: [q, kc, posIn(pos)],
          nDiff: 0,
          forward: (be, [qt, latent, p]) => [be.cachedAttention(qt, latent, latent, p, s)],
        };
      }
      const vc = f32In('vc', [B, C, s.vStride], rng.normalArray(B * C * s.vStride));
      return {
        desc,
        inputs: [q, kc, vc, posIn(pos)],
        nDiff: 0,
        forward: (be, [qt, k, v, p]) => [be.cachedAttention(qt, k, v, p, s)],
      };
    },
  },
];
