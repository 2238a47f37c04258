// Causal softmax attention, float64 reference: the plain O(T²) formula with the score matrix
// materialized, one (batch, query head) at a time.
//
//   S[i, j] = scale · q_i · k_j            for keys j ≤ i (causal), −∞ above the diagonal
//   P[i, :] = softmax(S[i, :]),  lse_i = log Σ_j exp(S[i, j])
//   o_i     = Σ_j P[i, j] · v_j
//
// Query head h reads kv head h / (H / Hkv) (grouped-query attention; MHA when H = Hkv).
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV], o [B,T,H,dV], lse [B,H,T].

import type { AttentionShape } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

/** Flat-index helpers for the [B, T, heads, dim] sequence layout. */
function seqIndex(s: AttentionShape, heads: number, dim: number) {
  return (b: number, t: number, h: number, d: number) => ((b * s.seq + t) * heads + h) * dim + d;
}

/** Scaled causal scores and their softmax for one (b, h): P[i][j] (0 above the diagonal) and lse[i]. */
function probabilities(q: Float64Array, k: Float64Array, s: AttentionShape, b: number, h: number) {
  const T = s.seq;
  const g = Math.floor(h / (s.heads / s.kvHeads));
  const qi = seqIndex(s, s.heads, s.dQK);
  const ki = seqIndex(s, s.kvHeads, s.dQK);
  const P: Float64Array[] = [];
  const lse = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const row = new Float64Array(T); // entries j > i stay 0 (masked)
    let max = -Infinity;
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let d = 0; d < s.dQK; d++) dot += q[qi(b, i, h, d)] * k[ki(b, j, g, d)];
      row[j] = s.scale * dot;
      max = Math.max(max, row[j]);
    }
    let sum = 0;
    for (let j = 0; j <= i; j++) sum += Math.exp(row[j] - max);
    lse[i] = max + Math.log(sum);
    for (let j = 0; j <= i; j++) row[j] = Math.exp(row[j] - lse[i]);
    P.push(row);
  }
  return { P, lse, g };
}

export function attention(
  be: CpuBackend,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  s: AttentionShape,
): { o: Tensor; lse: Tensor } {
  const { batch: B, seq: T, heads: H, dV } = s;
  const qd = be.data(q);
  const kd = be.data(k);
  const vd = be.data(v);
  const o = new Float64Array(B * T * H * dV);
  const lse = new Float64Array(B * H * T);
  const vi = seqIndex(s, s.kvHeads, dV);
  const oi = seqIndex(s, H, dV);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const { P, lse: l, g } = probabilities(qd, kd, s, b, h);
      for (let i = 0; i < T; i++) {
        lse[(b * H + h) * T + i] = l[i];
        for (let d = 0; d < dV; d++) {
          let acc = 0;
          for (let j = 0; j <= i; j++) acc += P[i][j] * vd[vi(b, j, g, d)];
          o[oi(b, i, h, d)] = acc;
        }
      }
    }
  }
  return { o: be.make([B, T, H, dV], o), lse: be.make([B, H, T], lse) };
}

/**
 * Textbook backward of softmax attention, per (b, h), with P recomputed from q, k:
 *   dV_j += Σ_i P[i,j] · dO_i                      (summed over the query heads sharing kv head g)
 *   dP[i,j] = dO_i · v_j
 *   dS[i,j] = P[i,j] · (dP[i,j] − Σ_j' P[i,j'] dP[i,j'])   (softmax Jacobian)
 *   dq_i  = scale · Σ_j dS[i,j] · k_j
 *   dk_j += scale · Σ_i dS[i,j] · q_i
 * The row sum Σ_j' P dP equals dO_i · o_i; we compute it from P directly here (o and lse are
 * accepted for interface parity; the GPU uses them).
 */
export function attentionBackward(
  be: CpuBackend,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  _o: Tensor,
  _lse: Tensor,
  dO: Tensor,
  s: AttentionShape,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const { batch: B, seq: T, heads: H, kvHeads: Hkv, dQK, dV } = s;
  const qd = be.data(q);
  const kd = be.data(k);
  const vd = be.data(v);
  const dOd = be.data(dO);
  const dq = new Float64Array(B * T * H * dQK);
  const dk = new Float64Array(B * T * Hkv * dQK);
  const dv = new Float64Array(B * T * Hkv * dV);
  const qi = seqIndex(s, H, dQK);
  const ki = seqIndex(s, Hkv, dQK);
  const vi = seqIndex(s, Hkv, dV);
  const oi = seqIndex(s, H, dV);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const { P, g } = probabilities(qd, kd, s, b, h);
      for (let i = 0; i < T; i++) {
        // dP[i, j] for the allowed keys, and the softmax row term Σ_j P dP.
        const dP = new Float64Array(i + 1);
        let rowDot = 0;
        for (let j = 0; j <= i; j++) {
          let acc = 0;
          for (let d = 0; d < dV; d++) acc += dOd[oi(b, i, h, d)] * vd[vi(b, j, g, d)];
          dP[j] = acc;
          rowDot += P[i][j] * acc;
        }
        for (let j = 0; j <= i; j++) {
          const dS = P[i][j] * (dP[j] - rowDot);
          for (let d = 0; d < dV; d++) dv[vi(b, j, g, d)] += P[i][j] * dOd[oi(b, i, h, d)];
          for (let d = 0; d < dQK; d++) {
            dq[qi(b, i, h, d)] += s.scale * dS * kd[ki(b, j, g, d)];
            dk[ki(b, j, g, d)] += s.scale * dS * qd[qi(b, i, h, d)];
          }
        }
      }
    }
  }
  return {
    dq: be.make([B, T, H, dQK], dq),
    dk: be.make([B, T, Hkv, dQK], dk),
    dv: be.make([B, T, Hkv, dV], dv),
  };
}

export const ops = { attention, attentionBackward } satisfies CpuFamily;
