// Softmax cross-entropy, float64 reference. logits [N, V], targets i32 [N].
//   forward:  lse[n] = log Σ_j exp(logits[n, j])   (computed as max + log Σ exp(x − max))
//             loss[n] = lse[n] − logits[n, t_n], or 0 when t_n < 0 (ignored row; lse still set)
//   backward: dlogits[n, j] = (exp(logits[n, j] − lse[n]) − 1[j = t_n]) · dloss[n], 0 if t_n < 0
//   mean's backward: the same with dloss[n] = dy[0] · factor for every row

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function crossEntropy(be: CpuBackend, logits: Tensor, targets: Tensor): { loss: Tensor; lse: Tensor } {
  const N = logits.shape[0];
  const V = logits.shape[1];
  const x = be.data(logits);
  const t = be.ints(targets);
  const loss = new Float64Array(N);
  const lse = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const base = n * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, x[base + j]);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(x[base + j] - m);
    lse[n] = m + Math.log(s);
    loss[n] = t[n] >= 0 ? lse[n] - x[base + t[n]] : 0;
  }
  return { loss: be.make([N], loss), lse: be.make([N], lse) };
}

export function crossEntropyBackward(
  be: CpuBackend,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  dloss: Tensor,
): Tensor {
  const dl = be.data(dloss);
  return backward(be, logits, targets, lse, (n) => dl[n]);
}

export function crossEntropyMeanBackward(
  be: CpuBackend,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  dy: Tensor,
  factor: number,
): Tensor {
  if (dy.size !== 1) throw new Error(`crossEntropyMeanBackward: dy must have one element, got ${dy}`);
  const d = be.data(dy)[0] * factor;
  return backward(be, logits, targets, lse, () => d);
}

/** dlogits with row n's upstream gradient dloss(n). */
function backward(be: CpuBackend, logits: Tensor, targets: Tensor, lse: Tensor, dloss: (n: number) => number): Tensor {
  const N = logits.shape[0];
  const V = logits.shape[1];
  const x = be.data(logits);
  const t = be.ints(targets);
  const l = be.data(lse);
  const dx = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    if (t[n] < 0) continue;
    const base = n * V;
    const d = dloss(n);
    for (let j = 0; j < V; j++) {
      const p = Math.exp(x[base + j] - l[n]);
      dx[base + j] = (p - (j === t[n] ? 1 : 0)) * d;
    }
  }
  return be.make([N, V], dx);
}

export const ops = { crossEntropy, crossEntropyBackward, crossEntropyMeanBackward } satisfies CpuFamily;
