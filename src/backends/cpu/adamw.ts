// AdamW with decoupled weight decay, float64 reference, in place on param, m, v:
//   g' = g · c,  c = clip ? min(1, maxNorm / (sqrt(normSq) + 1e-6)) : 1
//   m = β1 m + (1−β1) g';   v = β2 v + (1−β2) g'²
//   p = p − lr·wd·p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)

import type { AdamWParams } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function adamw(
  be: CpuBackend,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  hp: AdamWParams,
  clip: { normSq: Tensor; maxNorm: number } | null,
): void {
  const p = be.data(param);
  const g = be.data(grad);
  const ms = be.data(m);
  const vs = be.data(v);
  const c = clip ? Math.min(1, clip.maxNorm / (Math.sqrt(be.data(clip.normSq)[0]) + 1e-6)) : 1;
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * c;
    ms[i] = hp.beta1 * ms[i] + (1 - hp.beta1) * gi;
    vs[i] = hp.beta2 * vs[i] + (1 - hp.beta2) * gi * gi;
    p[i] = p[i] - hp.lr * hp.weightDecay * p[i] - (hp.lr * (ms[i] / bc1)) / (Math.sqrt(vs[i] / bc2) + hp.eps);
  }
}

export const ops = { adamw } satisfies CpuFamily;
