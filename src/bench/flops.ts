// Counted work of each bench case: FLOPs (2 per multiply-add, useful work only: a causal
// attention counts the T(T+1)/2 visible query-key pairs, not T², whoever computes the masked
// half) and bytes — the compulsory traffic of a kernel (each input read once, each output
// written once), from which the implied bandwidth is bytes / time. Pure functions, unit-tested.

import type { AttentionShape } from '../engine/backend_types';
import { forwardFlopsPerToken, type ModelConfig } from '../model/config';

const F32 = 4;

/** C[M, N] = A[M, K] · B[K, N], `batch` times. */
export function matmulFlops(M: number, N: number, K: number, batch = 1): number {
  return 2 * M * N * K * batch;
}

/** Read A and B once, write C once (f32). */
export function matmulBytes(M: number, N: number, K: number, batch = 1): number {
  return F32 * batch * (M * K + K * N + M * N);
}

/**
 * The block-scaled GEMM C[M, N] = A[M, K] · B[N, K]ᵀ reads one byte per E4M3 code, plus f32
 * scales: A per 1×blk tile, B per blk×blk block (V3's tilings); C is written in f32.
 */
export function blockGemmBytes(M: number, N: number, K: number, blk: number): number {
  const kb = Math.ceil(K / blk);
  return M * K + N * K + F32 * (M * kb + Math.ceil(N / blk) * kb) + F32 * M * N;
}

/** An attention call's shape without its softmax scale (which costs no FLOPs). */
export type AttentionDims = Omit<AttentionShape, 'scale'>;

/** Visible (query, key) pairs of one causal head: T(T+1)/2. */
export function causalPairs(T: number): number {
  return (T * (T + 1)) / 2;
}

/**
 * Causal attention. Forward: S = Q·Kᵀ (dQK per pair) and O = P·V (dV per pair).
 * Backward: dV = Pᵀ·dO and dP = dO·Vᵀ (dV each), dQ = dS·K and dK = dSᵀ·Q (dQK each): twice
 * the forward. Softmax and exp are not counted (O(T²) vs O(T²·d)).
 */
export function attentionFlops(a: AttentionDims, pass: 'fwd' | 'fwdbwd'): number {
  const fwd = 2 * a.batch * a.heads * causalPairs(a.seq) * (a.dQK + a.dV);
  return pass === 'fwd' ? fwd : 3 * fwd;
}

/** Forward: read q, k, v, write o and lse. Backward adds: read q, k, v, o, lse, dO; write dq, dk, dv. */
export function attentionBytes(a: AttentionDims, pass: 'fwd' | 'fwdbwd'): number {
  const { batch: B, seq: T, heads: H, kvHeads: Hk, dQK, dV } = a;
  const q = B * T * H * dQK;
  const k = B * T * Hk * dQK;
  const v = B * T * Hk * dV;
  const o = B * T * H * dV;
  const lse = B * H * T;
  const fwd = q + k + v + o + lse;
  const bwd = q + k + v + o + lse + o + (q + k + v);
  return F32 * (pass === 'fwd' ? fwd : fwd + bwd);
}

/** SwiGLU FFN on N tokens: gate, up (d → I) and down (I → d). Backward = 2× forward. */
export function ffnFlops(N: number, d: number, I: number, pass: 'fwd' | 'fwdbwd'): number {
  const fwd = 3 * matmulFlops(N, I, d);
  return pass === 'fwd' ? fwd : 3 * fwd;
}

/** Weights read once; x read, y written (and in the backward dy read, dx and dW written). */
export function ffnBytes(N: number, d: number, I: number, pass: 'fwd' | 'fwdbwd'): number {
  const w = 3 * d * I;
  const fwd = w + 2 * N * d;
  const bwd = w + 2 * N * d + w;
  return F32 * (pass === 'fwd' ? fwd : fwd + bwd);
}

export interface MoeDims {
  tokens: number;
  d: number;
  experts: number;
  topK: number;
  shared: number;
  /** moe_intermediate_size: each expert's (and each shared expert's) hidden width. */
  I: number;
}

/**
 * The MoE layer's active work: each token runs its topK routed experts and the shared ones
 * (SwiGLU of width I each), plus the router (d → E). Backward = 2× forward.
 */
export function moeFlops(m: MoeDims, pass: 'fwd' | 'fwdbwd'): number {
  const fwd = ffnFlops(m.tokens, m.d, m.I * (m.topK + m.shared), 'fwd') + matmulFlops(m.tokens, m.experts, m.d);
  return pass === 'fwd' ? fwd : 3 * fwd;
}

/** All expert weights (each read at least once), the router, x in and y out (backward: twice, plus dW). */
export function moeBytes(m: MoeDims, pass: 'fwd' | 'fwdbwd'): number {
  const w = 3 * m.d * m.I * (m.experts + m.shared) + m.d * m.experts;
  const fwd = w + 2 * m.tokens * m.d;
  const bwd = w + 2 * m.tokens * m.d + w;
  return F32 * (pass === 'fwd' ? fwd : fwd + bwd);
}

/**
 * One training step of B sequences of T tokens: forward + backward ≈ 3 × forward
 * (config.ts forwardFlopsPerToken: 2 per weight use, routed experts counted K of E, causal
 * attention averaged, MTP modules included), times the tokens. The optimizer is O(params): not counted.
 */
export function trainStepFlops(c: ModelConfig, B: number, T: number): number {
  return 3 * forwardFlopsPerToken(c, T) * B * T;
}
