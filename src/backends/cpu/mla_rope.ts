// MLA's RoPE-and-layout ops, float64 reference (see shaders/mla_rope.wgsl):
//   ropeCols         x [B, T, H, D]: columns [start, start + len) of each head rotated as rope()
//                    rotates a len-wide head (pair i by (t + posOffset)·theta^(−2i/len)), others copied
//   mlaKeys          kv [B, T, H, dn + dv], kpe [B, T, dr] → k = [kv[..., :dn] ; RoPE(kpe) per head],
//                    v = kv[..., dn:]
//   mlaKeysBackward  dk, dv → dkv = [dk[..., :dn] ; dv], dkpe = RoPE⁻¹(Σ_h dk[..., h, dn:])

import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

/** Rotate pair (re, im) at position pos, pair i of a d-wide head; returns [re', im']. */
function rot(re: number, im: number, pos: number, i: number, d: number, theta: number, sign: number): [number, number] {
  const angle = pos * theta ** ((-2 * i) / d);
  const c = Math.cos(angle);
  const s = sign * Math.sin(angle);
  return [re * c - im * s, re * s + im * c];
}

export function ropeCols(
  be: CpuBackend,
  x: Tensor,
  start: number,
  len: number,
  theta: number,
  posOffset: number,
  inverse: boolean,
): Tensor {
  const [B, T, H, D] = x.shape;
  const xs = be.data(x);
  const out = Float64Array.from(xs);
  const sign = inverse ? -1 : 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const base = ((b * T + t) * H + h) * D + start;
        for (let i = 0; i < len / 2; i++) {
          const [re, im] = rot(xs[base + 2 * i], xs[base + 2 * i + 1], t + posOffset, i, len, theta, sign);
          out[base + 2 * i] = re;
          out[base + 2 * i + 1] = im;
        }
      }
    }
  }
  return be.make(x.shape, out);
}

export function mlaKeys(
  be: CpuBackend,
  kv: Tensor,
  kpe: Tensor,
  dn: number,
  theta: number,
  posOffset: number,
): { k: Tensor; v: Tensor } {
  const [B, T, H, W] = kv.shape;
  const dv = W - dn;
  const dr = kpe.shape[kpe.shape.length - 1];
  const kvs = be.data(kv);
  const ps = be.data(kpe);
  const k = new Float64Array(B * T * H * (dn + dr));
  const v = new Float64Array(B * T * H * dv);
  for (let n = 0; n < B * T; n++) {
    const t = n % T;
    const rotated = new Float64Array(dr);
    for (let i = 0; i < dr / 2; i++) {
      const [re, im] = rot(ps[n * dr + 2 * i], ps[n * dr + 2 * i + 1], t + posOffset, i, dr, theta, 1);
      rotated[2 * i] = re;
      rotated[2 * i + 1] = im;
    }
    for (let h = 0; h < H; h++) {
      const row = n * H + h;
      for (let j = 0; j < dn; j++) k[row * (dn + dr) + j] = kvs[row * W + j];
      for (let j = 0; j < dr; j++) k[row * (dn + dr) + dn + j] = rotated[j];
      for (let j = 0; j < dv; j++) v[row * dv + j] = kvs[row * W + dn + j];
    }
  }
  return { k: be.make([B, T, H, dn + dr], k), v: be.make([B, T, H, dv], v) };
}

export function mlaKeysBackward(
  be: CpuBackend,
  dk: Tensor,
  dv: Tensor,
  dn: number,
  theta: number,
  posOffset: number,
): { dkv: Tensor; dkpe: Tensor } {
  const [B, T, H, Wk] = dk.shape;
  const dr = Wk - dn;
  const dV = dv.shape[3];
  const ks = be.data(dk);
  const vs = be.data(dv);
  const dkv = new Float64Array(B * T * H * (dn + dV));
  const dkpe = new Float64Array(B * T * dr);
  for (let n = 0; n < B * T; n++) {
    const sum = new Float64Array(dr);
    for (let h = 0; h < H; h++) {
      const row = n * H + h;
      for (let j = 0; j < dn; j++) dkv[row * (dn + dV) + j] = ks[row * Wk + j];
      for (let j = 0; j < dV; j++) dkv[row * (dn + dV) + dn + j] = vs[row * dV + j];
      for (let j = 0; j < dr; j++) sum[j] += ks[row * Wk + dn + j];
    }
    for (let i = 0; i < dr / 2; i++) {
      const [re, im] = rot(sum[2 * i], sum[2 * i + 1], (n % T) + posOffset, i, dr, theta, -1);
      dkpe[n * dr + 2 * i] = re;
      dkpe[n * dr + 2 * i + 1] = im;
    }
  }
  return { dkv: be.make([B, T, H, dn + dV], dkv), dkpe: be.make([B, T, dr], dkpe) };
}

export const ops = { ropeCols, mlaKeys, mlaKeysBackward } satisfies CpuFamily;
