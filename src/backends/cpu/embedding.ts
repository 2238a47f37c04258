// Embedding lookup, float64 reference.
//   forward:  out[n, :] = table[ids[n], :]          table [V, D], ids i32 [N] → [N, D]
//   backward: dTable[v, :] = Σ_{n: ids[n] = v} dOut[n, :], accumulated in increasing n

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function embedding(be: CpuBackend, table: Tensor, ids: Tensor): Tensor {
  const D = table.shape[1];
  const tab = be.data(table);
  const idx = be.ints(ids);
  const N = idx.length;
  const out = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    const row = idx[n] * D;
    for (let d = 0; d < D; d++) out[n * D + d] = tab[row + d];
  }
  return be.make([N, D], out);
}

export function embeddingBackward(be: CpuBackend, ids: Tensor, dOut: Tensor, vocab: number): Tensor {
  const idx = be.ints(ids);
  const N = idx.length;
  const D = dOut.shape[dOut.shape.length - 1];
  const g = be.data(dOut);
  const dTable = new Float64Array(vocab * D);
  for (let n = 0; n < N; n++) {
    const row = idx[n] * D;
    for (let d = 0; d < D; d++) dTable[row + d] += g[n * D + d];
  }
  return be.make([vocab, D], dTable);
}

export const ops = { embedding, embeddingBackward } satisfies CpuFamily;
