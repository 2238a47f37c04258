// Op check for the fused softmax cross-entropy: forward [loss, lse] (only loss differentiable),
// backward = crossEntropy then crossEntropyBackward. Some targets are −1 (ignored rows).
// crossEntropyMean: the mean over rows with a target (crossEntropy, then sumScaled by 1/count),
// backward = crossEntropyMeanBackward (the upstream scalar times 1/count, read per row).
//
// Tolerance: lse is a log of a sum of V exponentials computed in f32 (exp/log accurate to a
// few ulp, the sum to ≈ log2(V)·u), so lse and loss carry absolute errors of ≈ 1e-6 against
// values of order log V + max|logit|; the gradient's probabilities exp(x − lse) inherit that
// relative error. 1e-5 leaves margin.

import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { Rng } from '../engine/rng';
import type { HostInput, OpCheck } from './types';

/** Rows and vocabulary per regime (tiny, odd, wide), targets with about a quarter ignored (−1). */
function xentCase(rng: Rng, index: number): { N: number; V: number; targets: Int32Array } {
  let N: number, V: number;
  switch (index % 3) {
    case 0:
      [N, V] = [rng.int(1, 3), rng.int(1, 4)];
      break;
    case 1:
      [N, V] = [rng.int(1, 4) * 2 + 1, rng.pick([7, 33, 130, 257]) + 2 * rng.int(0, 2)];
      break;
    default:
      [N, V] = [rng.int(4, 8), rng.int(200, 600)];
  }
  const targets = Int32Array.from({ length: N }, () => (rng.next() < 0.25 ? -1 : rng.int(0, V - 1)));
  return { N, V, targets };
}

const xentInputs = (rng: Rng, N: number, V: number, targets: Int32Array): HostInput[] => [
  { name: 'logits', shape: [N, V], dtype: 'f32', data: rng.normalArray(N * V, 2), grad: true },
  { name: 'targets', shape: [N], dtype: 'i32', data: targets, grad: false },
];

export const xentChecks: OpCheck[] = [
  {
    name: 'crossEntropy',
    about: 'loss = lse − logit[target] per row (target < 0 ignored); dlogits = (softmax − onehot)·dloss',
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const { N, V, targets } = xentCase(rng, index);
      return {
        desc: `N=${N} V=${V} ignored=${targets.filter((t) => t < 0).length}`,
        inputs: xentInputs(rng, N, V, targets),
        nDiff: 1,
        forward: (be: Backend, [logits, t]: Tensor[]) => {
          const { loss, lse } = be.crossEntropy(logits, t);
          return [loss, lse];
        },
        backward: (be: Backend, [logits, t]: Tensor[], [dloss]: Tensor[]) => {
          const { loss, lse } = be.crossEntropy(logits, t);
          const dlogits = be.crossEntropyBackward(logits, t, lse, dloss);
          loss.dispose();
          lse.dispose();
          return [dlogits, null];
        },
      };
    },
  },
  {
    name: 'crossEntropyMean',
    about: 'mean over rows with a target of lse − logit[target] → [1]; dlogits = (softmax − onehot)·dy/count',
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const { N, V, targets } = xentCase(rng, index);
      if (targets.every((t) => t < 0)) targets[0] = rng.int(0, V - 1);
      const count = targets.filter((t) => t >= 0).length;
      const f = 1 / count;
      return {
        desc: `N=${N} V=${V} count=${count}`,
        inputs: xentInputs(rng, N, V, targets),
        nDiff: 1,
        forward: (be: Backend, [logits, t]: Tensor[]) => {
          const { loss, lse } = be.crossEntropy(logits, t);
          const y = be.sumScaled(loss, f);
          loss.dispose();
          lse.dispose();
          return [y];
        },
        backward: (be: Backend, [logits, t]: Tensor[], [dy]: Tensor[]) => {
          const { loss, lse } = be.crossEntropy(logits, t);
          const dlogits = be.crossEntropyMeanBackward(logits, t, lse, dy, f);
          loss.dispose();
          lse.dispose();
          return [dlogits, null];
        },
      };
    },
  },
];
