// The argument and result types of the Backend interface (backend.ts, which re-exports them):
// matmul products, norm segments, attention shapes, MoE routing, low-precision formats, GRPO.

import type { Tensor } from './tensor';

/** One product of `matmuls`: [acc +] op(A)·op(B). */
export interface MatmulProduct {
  a: Tensor;
  b: Tensor;
  opts: MatmulOpts;
  /** An earlier result to add the product to (same shape as the product); none: the product alone. */
  acc?: Tensor | null;
}

/** What Backend.swigluLinearBackward returns: the gate's inputs' gradients and the weight's (null when not asked). */
export interface SwigluLinearGrads {
  dg: Tensor;
  du: Tensor;
  dw: Tensor | null;
}

export interface MatmulOpts {
  /** Treat A's last two dims as [K, M] instead of [M, K]. */
  transA?: boolean;
  /** Treat B's last two dims as [N, K] instead of [K, N]. */
  transB?: boolean;
}

/**
 * Slices (BackendCore.slice) start at multiples of this many elements: 64 f32 = 256 bytes, the
 * largest minStorageBufferOffsetAlignment a WebGPU adapter may require.
 */
export const SLICE_ALIGN = 64;

/** One tensor's place in a flat buffer: elements [offset, offset + size). */
export interface Segment {
  offset: number;
  size: number;
}

/** A segment of Backend.rmsnormSegments: x [N, S] normalized over its first w.size columns. */
export interface NormSegment {
  x: Tensor;
  w: Tensor;
}

/** What Backend.rmsnormSegments returns: per segment y [N, D] and the carried columns; rstd for the backward. */
export interface NormSegmentsResult {
  y: Tensor[];
  rest: Array<Tensor | null>;
  rstd: Tensor[];
}

export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  /** Number of K/V heads; heads % kvHeads === 0 (MHA: equal; GQA/MQA: fewer). */
  kvHeads: number;
  /** Head dim of q and k. */
  dQK: number;
  /** Head dim of v (may differ from dQK, as MLA needs). */
  dV: number;
  /** Softmax scale applied to q·k. */
  scale: number;
}

/** Shape of cachedAttention (the generation engine's attention over a KV cache). */
export interface CachedAttentionShape {
  heads: number;
  /** K/V heads in the cache; heads % kvHeads === 0. MLA's latent cache is one shared head. */
  kvHeads: number;
  /** Head dim of q and of each cached key. */
  dQK: number;
  /** Head dim of each cached value. */
  dV: number;
  /** Values per cached token row of the key cache (≥ kvHeads·dQK). */
  kStride: number;
  /** Values per cached token row of the value cache (≥ vOffset + kvHeads·dV). */
  vStride: number;
  /** Column where the values start within a value row (MLA: 0, the latent part of [c ; k_pe]). */
  vOffset: number;
  /** Softmax scale applied to q·k. */
  scale: number;
}

/** DeepSeekMoE routing (spec §2). */
export interface RouteConfig {
  /** Expert groups (n_group); experts e belong to group floor(e / (E / nGroup)). */
  nGroup: number;
  /** Groups kept per token (topk_group). */
  topkGroup: number;
  /** Experts per token (num_experts_per_tok). */
  topK: number;
  /** Normalize the chosen scores to sum to 1 (norm_topk_prob). */
  normTopk: boolean;
  /** routed_scaling_factor, applied after normalization. */
  scale: number;
}

/**
 * The dispatch plan of one MoE layer for N tokens × K choices (M = N·K assignments):
 * slots are the assignments sorted by expert, then by assignment index a = n·K + k.
 */
export interface MoePlan {
  /** i32 [E + 1]: expert e owns slots [offsets[e], offsets[e+1]). offsets[E] = M. */
  offsets: Tensor;
  /** i32 [M]: the assignment a = n·K + k in each slot (token n = a / K). */
  slotAssign: Tensor;
  /** i32 [M]: the slot of each assignment (inverse of slotAssign). */
  assignSlot: Tensor;
}

/** Low-precision element formats (OCP OFP8 E4M3/E5M2, OCP MX E2M1). */
export type LowFormat = 'e4m3' | 'e5m2' | 'e2m1';
/**
 * How a tile's scale is chosen (spec §3):
 *  'f32':   s = max(amax, 1e-4) / fmax (V3 / DeepGEMM);
 *  'ue8m0': the f32 rule rounded UP to a power of two (never saturates);
 *  'mx':    OCP MX: s = 2^(floor(log2 amax) − emax_elem) (may clip the largest values).
 */
export type ScaleRule = 'f32' | 'ue8m0' | 'mx';

export interface QuantSpec {
  format: LowFormat;
  /** Tile/block edge B (32, 64 or 128). */
  block: number;
  scale: ScaleRule;
}

/**
 * A quantized matrix [rows, cols]: `codes` holds the element codes, four per u32 (code j of a
 * row at byte j % 4 of word j / 4, little-endian), stored in an i32 tensor
 * [rows, colsPadded / 4] with colsPadded = ceil(cols / B)·B (padding codes are 0).
 * tiling 'rows': one scale per 1×B tile along cols, scales f32 [rows, colsPadded / B];
 * tiling 'blocks': one scale per B×B block, scales f32 [ceil(rows / B), colsPadded / B].
 */
export interface QTensor {
  codes: Tensor;
  scales: Tensor;
  rows: number;
  cols: number;
  spec: QuantSpec;
  tiling: 'rows' | 'blocks';
}

/** The accumulation-precision experiment (spec §3 "Promotion"). */
export interface AccumSpec {
  /** 0 = plain f32 accumulation per K-block; else round the running sum to this many mantissa bits after every add. */
  mantissaBits: number;
  /** With limited mantissa: add the partial into an f32 accumulator every this many K elements (0 = never). */
  promoteEvery: number;
  /** How the limited accumulator rounds: to nearest even (default) or toward zero (truncate). */
  rounding?: AccumRounding;
}

/** How an emulated limited accumulator rounds: to nearest even ('rne') or toward zero ('trunc'). */
export type AccumRounding = 'rne' | 'trunc';

/** GRPO clip range (DAPO clip-higher: ratio kept in [1 − epsLow, 1 + epsHigh]) and k3 KL coefficient. */
export interface GrpoHyper {
  epsLow: number;
  epsHigh: number;
  beta: number;
}
