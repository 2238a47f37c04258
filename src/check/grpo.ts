// Op check for GRPO's token objective: forward [loss, stats] (only loss differentiable),
// backward = grpoLossBackward for lp (old, ref, adv, w are constants of a GRPO step).
//
// Cases look like a GRPO minibatch: old log-probs ≤ 0, lp = old + N(0, 0.3²) so that about a
// quarter of the tokens clip (r outside [0.8, 1.2] with the advantage's sign pushing further),
// ref = lp + N(0, 0.2²), adv ~ N(0, 1), and weights mixing padding (w = 0) with positive
// per-token weights. hp: εlow 0.2, εhigh 0.2 or 0.28 (DAPO clip-higher), β 0 or 0.04.
// All inputs are rounded to f32 first, so both backends see the same numbers.
//
// Knife edges avoided on purpose:
//  - a token whose r lies within 1e-3 (relative) of 1 − εlow or 1 + εhigh is re-drawn: there the
//    surrogate has a kink (finite differences with steps h ≈ 1e-5 would straddle it) and f32 vs
//    f64 rounding could flip the clipped count;
//  - the advantages are re-drawn while |loss| < 0.1·sqrt(Σ_t term_t²) (term_t = w_t·(s_t − β·k3_t)):
//    a sum of N random-sign terms is naturally ≈ sqrt(N) terms in size, but one that cancels
//    by accident far below that would turn the f32 rounding of its terms into a large relative
//    error of a [1] output without anything being wrong (≈ 8% of draws are re-drawn).
//
// Tolerance: each term costs a few ulp (exp, two products); the rounding errors of the terms and
// of the per-thread serial folds (m ≈ N/256 terms per thread, then an 8-level tree) add up like a
// random walk, ≈ 4u·sqrt(m)·sqrt(Σ term²) with u = 6e-8. The guard keeps |loss| ≥
// 0.1·sqrt(Σ term²), so the relative error is ≲ 40u·sqrt(m) ≈ 1e-5 at N = 3000 in the worst
// accepted case (typically ≲ 1e-6). stats: the counts are exact (u32) and Σ k3 is a sum of
// non-negative terms evaluated without cancellation (a Taylor series near d = 0), ≲ 1e-6.
// forward 5e-5. The gradient is elementwise, no sums: r·A costs a few ulp and the KL factor
// 1 − e^d is formed as −(d + k3(d)) without cancellation (the naive f32 form would carry an
// absolute error of ≈ u, i.e. ≈ 3e-5 relative at |d| = 2e-3, seen in a 300-seed sweep): 1e-5.

import type { Backend, GrpoHyper } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import type { OpCheck } from './types';

/** Relative distance of a ratio from a clip bound below which a token is re-drawn. */
export const GRPO_KNIFE_EDGE = 1e-3;

/** One GRPO-like minibatch of N tokens (f32-rounded), away from the clip knife edges. */
export function grpoInputs(
  rng: Rng,
  N: number,
  hp: GrpoHyper,
): { lp: Float64Array; old: Float64Array; ref: Float64Array; adv: Float64Array; w: Float64Array } {
  const f = Math.fround;
  const lo = 1 - hp.epsLow;
  const hi = 1 + hp.epsHigh;
  const lp = new Float64Array(N);
  const old = new Float64Array(N);
  const ref = new Float64Array(N);
  const w = new Float64Array(N);
  for (let t = 0; t < N; t++) {
    old[t] = f(-2 * Math.abs(rng.normal()) - 0.05);
    for (;;) {
      lp[t] = f(old[t] + 0.3 * rng.normal());
      const r = Math.exp(lp[t] - old[t]);
      if (Math.abs(r - lo) > GRPO_KNIFE_EDGE * lo && Math.abs(r - hi) > GRPO_KNIFE_EDGE * hi) break;
    }
    ref[t] = f(lp[t] + 0.2 * rng.normal());
    w[t] = rng.next() < 0.3 ? 0 : f(0.1 + 0.9 * rng.next());
  }
  if (N > 0 && !w.some((v) => v > 0)) w[rng.int(0, N - 1)] = f(0.1 + 0.9 * rng.next());

  // Advantages: re-drawn while the weighted terms nearly cancel (see the header).
  let adv = new Float64Array(N);
  for (let attempt = 0; attempt < 100; attempt++) {
    adv = rng.normalArray(N).map(f);
    let sum = 0;
    let sq = 0;
    for (let t = 0; t < N; t++) {
      const r = Math.exp(lp[t] - old[t]);
      const s = Math.min(r * adv[t], Math.min(Math.max(r, lo), hi) * adv[t]);
      const d = ref[t] - lp[t];
      const term = w[t] * (s - hp.beta * (Math.expm1(d) - d));
      sum += term;
      sq += term * term;
    }
    if (Math.abs(sum) >= 0.1 * Math.sqrt(sq)) break;
  }
  return { lp, old, ref, adv, w };
}

export const grpoChecks: OpCheck[] = [
  {
    name: 'grpoLoss',
    about:
      'loss = −Σ w·(min(r·A, clip(r)·A) − β·k3), stats [#clipped, Σk3, #w>0]; dlp = −dL·w·((clipped ? 0 : r·A) − β·(1 − e^(ref−lp)))',
    tolForward: 5e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      let N: number;
      switch (index % 3) {
        case 0:
          N = rng.next() < 0.4 ? 1 : rng.int(2, 4);
          break;
        case 1:
          N = rng.pick([7, 33, 130, 257]);
          break;
        default:
          N = rng.int(300, 3000);
      }
      const hp: GrpoHyper = { epsLow: 0.2, epsHigh: rng.pick([0.2, 0.28]), beta: rng.pick([0, 0.04]) };
      const { lp, old, ref, adv, w } = grpoInputs(rng, N, hp);
      let clipped = 0;
      for (let t = 0; t < N; t++) {
        const r = Math.exp(lp[t] - old[t]);
        if (w[t] > 0 && ((adv[t] > 0 && r > 1 + hp.epsHigh) || (adv[t] < 0 && r < 1 - hp.epsLow))) clipped++;
      }
      const input = (name: string, data: Float64Array, grad: boolean) => ({
        name,
        shape: [N],
        dtype: 'f32' as const,
        data,
        grad,
      });
      return {
        desc: `N=${N} epsHigh=${hp.epsHigh} beta=${hp.beta} clipped=${clipped} padding=${w.filter((v) => v === 0).length}`,
        inputs: [
          input('lp', lp, true),
          input('old', old, false),
          input('ref', ref, false),
          input('adv', adv, false),
          input('w', w, false),
        ],
        nDiff: 1,
        forward: (be: Backend, [l, o, r, a, ww]: Tensor[]) => {
          const { loss, stats } = be.grpoLoss(l, o, r, a, ww, hp);
          return [loss, stats];
        },
        backward: (be: Backend, [l, o, r, a, ww]: Tensor[], [dLoss]: Tensor[]) => [
          be.grpoLossBackward(l, o, r, a, ww, hp, dLoss),
          null,
          null,
          null,
          null,
        ],
      };
    },
  },
];
