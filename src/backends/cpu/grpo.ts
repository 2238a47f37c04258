// GRPO's per-token objective (spec §5), float64 reference. lp, old, ref, adv, w: [N].
//
//   r_t  = exp(lp_t − old_t)                              importance ratio π_θ / π_old
//   s_t  = min(r_t·A_t, clamp(r_t, 1 − εlow, 1 + εhigh)·A_t)   clipped surrogate (DAPO clip-higher)
//   k3_t = exp(d_t) − d_t − 1,  d_t = ref_t − lp_t        π_ref/π_θ − log(π_ref/π_θ) − 1 ≥ 0
//   loss = −Σ_t w_t·(s_t − β·k3_t)                        [1]
//   stats = [#clipped, Σ k3, #tokens] over tokens with w_t > 0   [3]
//
// A token is "clipped" when the clamped term wins the min strictly: A > 0 and r > 1 + εhigh,
// or A < 0 and r < 1 − εlow. There s is a constant, so its gradient is zero; everywhere else
// s = r·A and ds/dlp = r·A (dr/dlp = r). dk3/dlp = 1 − exp(d). Hence
//   dloss/dlp_t = −dLoss·w_t·((clipped ? 0 : r_t·A_t) − β·(1 − exp(d_t))).
// Tokens with w = 0 (padding) are skipped outright, so garbage log-probs there cannot turn the
// sum into NaN (0·∞); for finite inputs this is exactly the formula above.

import type { GrpoHyper } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

/** The three per-token quantities the forward and backward share. */
function token(
  lp: number,
  old: number,
  ref: number,
  a: number,
  hp: GrpoHyper,
): { r: number; s: number; k3: number; clipped: boolean } {
  const r = Math.exp(lp - old);
  const lo = 1 - hp.epsLow;
  const hi = 1 + hp.epsHigh;
  const s = Math.min(r * a, Math.min(Math.max(r, lo), hi) * a);
  const d = ref - lp;
  // expm1(d) − d: the same value as exp(d) − d − 1 without cancellation for small |d|.
  const k3 = Math.expm1(d) - d;
  const clipped = (a > 0 && r > hi) || (a < 0 && r < lo);
  return { r, s, k3, clipped };
}

export function grpoLoss(
  be: CpuBackend,
  lp: Tensor,
  old: Tensor,
  ref: Tensor,
  adv: Tensor,
  w: Tensor,
  hp: GrpoHyper,
): { loss: Tensor; stats: Tensor } {
  const [L, O, R, A, W] = [lp, old, ref, adv, w].map((t) => be.data(t));
  let loss = 0;
  let clipped = 0;
  let k3sum = 0;
  let count = 0;
  for (let t = 0; t < L.length; t++) {
    if (W[t] === 0) continue;
    const k = token(L[t], O[t], R[t], A[t], hp);
    loss -= W[t] * (k.s - hp.beta * k.k3);
    if (W[t] > 0) {
      if (k.clipped) clipped++;
      k3sum += k.k3;
      count++;
    }
  }
  return { loss: be.make([1], Float64Array.of(loss)), stats: be.make([3], Float64Array.of(clipped, k3sum, count)) };
}

export function grpoLossBackward(
  be: CpuBackend,
  lp: Tensor,
  old: Tensor,
  ref: Tensor,
  adv: Tensor,
  w: Tensor,
  hp: GrpoHyper,
  dLoss: Tensor,
): Tensor {
  const [L, O, R, A, W] = [lp, old, ref, adv, w].map((t) => be.data(t));
  const g = be.data(dLoss)[0];
  const dlp = new Float64Array(L.length);
  for (let t = 0; t < L.length; t++) {
    if (W[t] === 0) continue;
    const k = token(L[t], O[t], R[t], A[t], hp);
    const dS = k.clipped ? 0 : k.r * A[t];
    const dK3 = -Math.expm1(R[t] - L[t]); // 1 − exp(ref − lp)
    dlp[t] = -g * W[t] * (dS - hp.beta * dK3);
  }
  return be.make([L.length], dlp);
}

export const ops = { grpoLoss, grpoLossBackward } satisfies CpuFamily;
