// Rotary position embedding, float64 reference. x [B, T, H, D], D even.
// Pair i of each head vector, (x[2i], x[2i+1]) read as the complex number x[2i] + i·x[2i+1],
// is multiplied by e^{i·a} with a = (t + posOffset) · theta^(−2i/D) (DeepSeek-V3's
// apply_rotary_emb convention). inverse multiplies by e^{−i·a}: the transpose of the
// rotation, hence exactly the backward pass.

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function rope(be: CpuBackend, x: Tensor, theta: number, posOffset: number, inverse: boolean): Tensor {
  const [B, T, H, D] = x.shape;
  const xs = be.data(x);
  const out = new Float64Array(x.size);
  const half = D / 2;
  const sign = inverse ? -1 : 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const pos = t + posOffset;
      for (let i = 0; i < half; i++) {
        const angle = pos * Math.pow(theta, (-2 * i) / D);
        const c = Math.cos(angle);
        const s = sign * Math.sin(angle);
        for (let h = 0; h < H; h++) {
          const k = ((b * T + t) * H + h) * D + 2 * i;
          const re = xs[k];
          const im = xs[k + 1];
          out[k] = re * c - im * s;
          out[k + 1] = re * s + im * c;
        }
      }
    }
  }
  return be.make(x.shape, out);
}

/** rope of a and of b. */
export function ropePair(
  be: CpuBackend,
  a: Tensor,
  b: Tensor,
  theta: number,
  posOffset: number,
  inverse: boolean,
): [Tensor, Tensor] {
  return [rope(be, a, theta, posOffset, inverse), rope(be, b, theta, posOffset, inverse)];
}

export const ops = { rope, ropePair } satisfies CpuFamily;
