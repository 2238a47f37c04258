// Op check for the embedding: forward gather, backward = embeddingBackward (deterministic,
// summed in increasing n). ids repeat, and some vocabulary rows are never used (their grad
// must be exactly 0). D cycles through sizes that are and are not multiples of 4 (vec4 and
// scalar forward kernels).
//
// Tolerance: the forward is an exact copy of f32-rounded values (≈ 6e-8); the backward sums a
// few rows in f32 in the reference's order (≈ 1e-7). 1e-6 leaves margin.

import type { Backend } from '../engine/backend';
import type { OpCheck } from './types';
import type { Tensor } from '../engine/tensor';

export const embeddingChecks: OpCheck[] = [
  {
    name: 'embedding',
    about: 'out[n] = table[ids[n]]; dTable = Σ_{ids[n]=v} dOut[n] in increasing n (repeated and unused ids)',
    tolForward: 1e-6,
    tolBackward: 1e-6,
    makeCase(rng, index) {
      let V: number, D: number, N: number;
      switch (index % 3) {
        case 0:
          [V, D, N] = [rng.int(1, 3), rng.int(1, 4), rng.int(1, 4)];
          break;
        case 1:
          [V, D, N] = [rng.pick([7, 33]), rng.pick([5, 33, 130]) + 2 * rng.int(0, 2), rng.int(10, 40) * 2 + 1];
          break;
        default:
          [V, D, N] = [rng.int(65, 300), 4 * rng.int(16, 64), rng.int(200, 400)];
      }
      // Draw ids from a subset of the rows (most of them), so some rows get no gradient.
      const used = Array.from({ length: V }, (_, v) => v).filter((v) => V === 1 || v === 0 || rng.next() < 0.7);
      const ids = Int32Array.from({ length: N }, () => rng.pick(used));
      return {
        desc: `V=${V} D=${D} N=${N} used=${used.length}`,
        inputs: [
          { name: 'table', shape: [V, D], dtype: 'f32', data: rng.normalArray(V * D), grad: true },
          { name: 'ids', shape: [N], dtype: 'i32', data: ids, grad: false },
        ],
        nDiff: 1,
        forward: (be: Backend, [table, idsT]: Tensor[]) => [be.embedding(table, idsT)],
        backward: (be: Backend, [, idsT]: Tensor[], [dy]: Tensor[]) => [be.embeddingBackward(idsT, dy, V), null],
      };
    },
  },
];
