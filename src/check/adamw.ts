// Op check for the AdamW step (forward only: an in-place update has no backward here).
// The case copies param, m, v, runs one step with random hyper-parameters (step 1..50), and
// compares [param', m', v']. Clip mode is random per case: none, a clip that does not bind
// (maxNorm above the norm), or one that does (maxNorm 10–90 % of the norm).
//
// Tolerance: a handful of f32 operations per element on O(1) values (bias corrections are
// rounded once to f32 on the host): ≈ 1e-7 relative; 1e-5 leaves margin.

import type { AdamWParams, Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { HostInput, OpCheck } from './types';

export const adamwChecks: OpCheck[] = [
  {
    name: 'adamw',
    about: 'one AdamW step in place on param, m, v; clip factor from normSq read on the device',
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const n =
        index % 3 === 0
          ? rng.int(1, 4)
          : index % 3 === 1
            ? rng.pick([7, 33, 130]) + 2 * rng.int(0, 5)
            : rng.int(200, 600) * rng.int(1, 4);
      const hp: AdamWParams = {
        lr: 10 ** (-4 + 2.5 * rng.next()),
        beta1: 0.8 + 0.15 * rng.next(),
        beta2: rng.pick([0.95, 0.99, 0.999]),
        eps: rng.pick([1e-8, 1e-6]),
        weightDecay: rng.pick([0, 0.01, 0.1]),
        step: rng.int(1, 50),
      };
      const norm = 0.5 + 4 * rng.next();
      const mode = rng.pick(['none', 'loose', 'binding'] as const);
      const maxNorm = mode === 'binding' ? norm * (0.1 + 0.8 * rng.next()) : norm * (1.1 + 2 * rng.next());
      const v0 = rng.normalArray(n, 0.1).map((x) => x * x);
      const f = (name: string, data: Float64Array): HostInput => ({
        name,
        shape: [n],
        dtype: 'f32',
        data,
        grad: false,
      });
      return {
        desc: `n=${n} step=${hp.step} lr=${hp.lr.toExponential(1)} wd=${hp.weightDecay} clip=${mode}`,
        inputs: [
          f('param', rng.normalArray(n)),
          f('grad', rng.normalArray(n, 0.5)),
          f('m', rng.normalArray(n, 0.1)),
          f('v', v0),
          { name: 'normSq', shape: [1], dtype: 'f32', data: Float64Array.of(norm * norm), grad: false },
        ],
        nDiff: 0,
        forward: (be: Backend, [param, grad, m, v, normSq]: Tensor[]) => {
          const p2 = be.scale(param, 1);
          const m2 = be.scale(m, 1);
          const v2 = be.scale(v, 1);
          be.adamw(p2, grad, m2, v2, hp, mode === 'none' ? null : { normSq, maxNorm });
          return [p2, m2, v2];
        },
      };
    },
  },
];
