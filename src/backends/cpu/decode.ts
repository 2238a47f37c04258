// The generation engine's cache ops, float64 reference (semantics in engine/backend.ts).
//   cacheWrite:      cache[b, pos[b] + j, :] = rows[b, j, :]
//   ropeAt:          rope() with token j of sequence b at position pos[b] + j
//   cachedAttention: query j of sequence b (position pos[b] + j) attends to cached keys
//                    0 ..= pos[b] + j with a max-subtracted softmax of q·k·scale.

import type { CachedAttentionShape } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export function cacheWrite(be: CpuBackend, cache: Tensor, rows: Tensor, pos: Tensor): void {
  const [B, C, W] = cache.shape;
  const n = rows.shape[1];
  if (rows.shape[0] !== B || rows.shape[2] !== W)
    throw new Error(`cacheWrite: rows [${rows.shape}] do not fit cache [${cache.shape}]`);
  const dst = be.data(cache);
  const src = be.data(rows);
  const ps = be.ints(pos);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < n; j++) {
      const t = ps[b] + j;
      if (t < 0 || t >= C) continue;
      dst.set(src.subarray((b * n + j) * W, (b * n + j + 1) * W), (b * C + t) * W);
    }
  }
}

export function ropeAt(be: CpuBackend, x: Tensor, pos: Tensor, theta: number): Tensor {
  const [B, n, H, D] = x.shape;
  const xs = be.data(x);
  const ps = be.ints(pos);
  const out = new Float64Array(x.size);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < n; j++) {
      const p = ps[b] + j;
      for (let i = 0; i < D / 2; i++) {
        const a = p * Math.pow(theta, (-2 * i) / D);
        const c = Math.cos(a);
        const s = Math.sin(a);
        for (let h = 0; h < H; h++) {
          const k = ((b * n + j) * H + h) * D + 2 * i;
          out[k] = xs[k] * c - xs[k + 1] * s;
          out[k + 1] = xs[k] * s + xs[k + 1] * c;
        }
      }
    }
  }
  return be.make(x.shape, out);
}

export function cachedAttention(
  be: CpuBackend,
  q: Tensor,
  kc: Tensor,
  vc: Tensor,
  pos: Tensor,
  s: CachedAttentionShape,
): Tensor {
  const [B, n, H, dq] = q.shape;
  const C = kc.shape[1];
  if (dq !== s.dQK || H !== s.heads)
    throw new Error(`cachedAttention: q [${q.shape}] does not match heads ${s.heads} × dQK ${s.dQK}`);
  const group = H / s.kvHeads;
  const qs = be.data(q);
  const ks = be.data(kc);
  const vs = be.data(vc);
  const ps = be.ints(pos);
  const out = new Float64Array(B * n * H * s.dV);
  const scores = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < n; j++) {
      const last = Math.min(ps[b] + j, C - 1);
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / group);
        const qo = ((b * n + j) * H + h) * dq;
        let max = -Infinity;
        for (let t = 0; t <= last; t++) {
          const ko = (b * C + t) * s.kStride + g * dq;
          let dot = 0;
          for (let i = 0; i < dq; i++) dot += qs[qo + i] * ks[ko + i];
          scores[t] = dot * s.scale;
          if (scores[t] > max) max = scores[t];
        }
        let sum = 0;
        for (let t = 0; t <= last; t++) {
          scores[t] = Math.exp(scores[t] - max);
          sum += scores[t];
        }
        const oo = ((b * n + j) * H + h) * s.dV;
        for (let t = 0; t <= last; t++) {
          const w = scores[t] / sum;
          const vo = (b * C + t) * s.vStride + s.vOffset + g * s.dV;
          for (let i = 0; i < s.dV; i++) out[oo + i] += w * vs[vo + i];
        }
      }
    }
  }
  return be.make([B, n, H, s.dV], out);
}

export const ops = { cacheWrite, ropeAt, cachedAttention } satisfies CpuFamily;
