// Sequence-wise MoE balance loss (float64 reference), V3 eqs. 17–20. See Backend.moeAuxLoss.
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

/** f[b, i] = E/(K·T) · number of tokens t of sequence b that chose expert i. */
function loadFractions(be: CpuBackend, scores: Tensor, idx: Tensor): Float64Array {
  const [B, T, E] = scores.shape;
  const K = idx.shape[2];
  const ids = be.ints(idx);
  const f = new Float64Array(B * E);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) f[b * E + ids[(b * T + t) * K + k]] += 1;
    for (let i = 0; i < E; i++) f[b * E + i] *= E / (K * T);
  }
  return f;
}

export function moeAuxLoss(be: CpuBackend, scores: Tensor, idx: Tensor): Tensor {
  const [B, T, E] = scores.shape;
  const s = be.data(scores);
  const f = loadFractions(be, scores, idx);
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * E;
      let S = 0;
      for (let j = 0; j < E; j++) S += s[row + j];
      for (let i = 0; i < E; i++) out[b] += (f[b * E + i] * s[row + i]) / S / T;
    }
  }
  return be.make([B], out);
}

export function moeAuxLossBackward(be: CpuBackend, scores: Tensor, idx: Tensor, dL: Tensor): Tensor {
  const [B, T, E] = scores.shape;
  const s = be.data(scores);
  const g = be.data(dL);
  const f = loadFractions(be, scores, idx);
  const ds = new Float64Array(B * T * E);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * E;
      let S = 0;
      let fs = 0;
      for (let j = 0; j < E; j++) {
        S += s[row + j];
        fs += f[b * E + j] * s[row + j];
      }
      for (let j = 0; j < E; j++) ds[row + j] = (g[b] / T) * (f[b * E + j] / S - fs / (S * S));
    }
  }
  return be.make([B, T, E], ds);
}

export const ops = { moeAuxLoss, moeAuxLossBackward } satisfies CpuFamily;
