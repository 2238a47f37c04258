// Op check for the fused softmax cross-entropy: forward [loss, lse] (only loss differentiable),
// backward = crossEntropy then crossEntropyBackward. Some targets are −1 (ignored rows).
//
// Tolerance: lse is a log of a sum of V exponentials computed in f32 (exp/log accurate to a
// few ulp, the sum to ≈ log2(V)·u), so lse and loss carry absolute errors of ≈ 1e-6 against
// values of order log V + max|logit|; the gradient's probabilities exp(x − lse) inherit that
// relative error. 1e-5 leaves margin.

import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { OpCheck } from './types';

export const xentChecks: OpCheck[] = [
  {
    name: 'crossEntropy',
    about: 'loss = lse − logit[target] per row (target < 0 ignored); dlogits = (softmax − onehot)·dloss',
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
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
      return {
        desc: `N=${N} V=${V} ignored=${targets.filter((t) => t < 0).length}`,
        inputs: [
          { name: 'logits', shape: [N, V], dtype: 'f32', data: rng.normalArray(N * V, 2), grad: true },
          { name: 'targets', shape: [N], dtype: 'i32', data: targets, grad: false },
        ],
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
];
