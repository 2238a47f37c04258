// The Backend interface: every primitive the model and trainer need, forward and backward.
// Two implementations: backends/cpu (float64, written to be read; the reference) and
// backends/webgpu (WGSL in shaders/). Model code never calls these directly: it goes through
// engine/ops.ts, which records the tape for autograd.
//
// Layout conventions (row-major, last dim contiguous):
//   matrices [M, K]; batched matrices [...batch, M, K];
//   sequences [B, T, H, D] (the natural output layout of x[B*T, d] @ W^T viewed per head).
// All ops allocate fresh outputs unless named *InPlace. Shapes are validated by ops.ts
// before a backend sees them, so backends may assume valid input.

import type { DType, Shape, Tensor } from './tensor';

export * from './backend_types';
import type {
  AccumRounding,
  AccumSpec,
  AdamWParams,
  AttentionShape,
  CachedAttentionShape,
  GrpoHyper,
  LowFormat,
  MatmulOpts,
  MatmulProduct,
  MoePlan,
  NormSegment,
  NormSegmentsResult,
  QTensor,
  QuantSpec,
  RouteConfig,
  ScaleRule,
  Segment,
  SwigluLinearGrads,
} from './backend_types';

/**
 * A backend's own part: identity and memory. Each backend class implements it directly; the ops
 * (BackendOps) come from its op families (backends/registry.ts).
 */
export interface BackendCore {
  readonly name: 'cpu' | 'webgpu';
  /** Human-readable description of the device, e.g. the adapter name. */
  readonly deviceLabel: string;
  /**
   * Ask for the matmul kernel's tile precision (a run's `precision.compute`); returns what it will
   * take: f16 tiles (f32 sums) only where the device has shader-f16. The CPU reference computes in
   * float64 whatever is asked, and answers 'f32'.
   */
  matmulTiles(want: 'f32' | 'f16'): 'f32' | 'f16';

  // ---- memory ----
  zeros(shape: Shape, dtype?: DType): Tensor;
  fromArray(data: ArrayLike<number>, shape: Shape, dtype?: DType): Tensor;
  /** A tensor of a new shape with the same size sharing t's storage. Releasing a view frees nothing. */
  view(t: Tensor, shape: Shape): Tensor;
  /**
   * Elements [offset, offset + size(shape)) of t as a tensor of `shape` that shares t's storage
   * (a tensor inside an arena). offset must be a multiple of SLICE_ALIGN. Releasing it frees nothing.
   */
  slice(t: Tensor, offset: number, shape: Shape): Tensor;
  read(t: Tensor): Promise<Float64Array | Int32Array>;
  release(t: Tensor): void;
  /** Submit recorded work. CPU: no-op. WebGPU: one command encoder for everything recorded since the last flush. */
  flush(): Promise<void>;
}

/**
 * Every op, forward and backward: the one place an op is named. The backends implement these in
 * op families (backends/<kind>/<family>.ts) and the compiler checks that each backend installs
 * every op exactly once, with this signature (backends/registry.ts).
 */
export interface BackendOps {
  // ---- linear algebra ----
  /** C[...b, M, N] = op(A)[...b, M, K] · op(B)[...b, K, N]. B may have no batch dims (broadcast). */
  matmul(a: Tensor, b: Tensor, opts: MatmulOpts): Tensor;
  /**
   * Independent products, each optionally added to an earlier result: out[i] = acc + op(A)·op(B)
   * (acc of the product's shape), bit for bit add(acc, matmul(a, b, opts)) on the same backend
   * (the add after the k-sum). The WebGPU backend runs two 2-D products per dispatch (a linear's
   * dX and dW in the backward); other products take the matmul kernel and an add.
   */
  matmuls(products: MatmulProduct[]): Tensor[];
  /**
   * An FFN's down projection with its SwiGLU gate: [base +] swiglu(g, u) · wᵀ (g, u [rows, F],
   * w [out, F], base [rows, out] or null), bit for bit matmuls over swiglu(g, u) on the same
   * backend. The WebGPU backend computes the gate as its GEMM stages the tiles (one dispatch).
   */
  swigluLinear(g: Tensor, u: Tensor, w: Tensor, base: Tensor | null): Tensor;
  /**
   * Its backward for dy [rows, out]: dh = dy·w, then dg, du = swigluBackward(g, u, dh), and when
   * `needW`, dW = [accW +] dyᵀ·swiglu(g, u). Bit for bit those ops on the same backend; the WebGPU
   * backend runs them as one dispatch (the gate's backward in dh's store, the gate recomputed in
   * dW's staging).
   */
  swigluLinearBackward(
    g: Tensor,
    u: Tensor,
    w: Tensor,
    dy: Tensor,
    accW: Tensor | null,
    needW: boolean,
  ): SwigluLinearGrads;

  // ---- elementwise (same shapes) ----
  add(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor): Tensor;
  scale(a: Tensor, s: number): Tensor;
  /** dst += src, in place (gradient accumulation). */
  addInPlace(dst: Tensor, src: Tensor): void;
  /** A tensor of `shape` with every element equal to s[0] * factor (s has one element). */
  broadcastScalar(s: Tensor, shape: Shape, factor: number): Tensor;

  // ---- reductions (deterministic: fixed-order trees, no atomics) ----
  /** Sum of all elements, shape [1]. */
  sum(a: Tensor): Tensor;
  /**
   * Σ a · factor, shape [1] (a mean: factor = 1/count): the sum with the factor applied as its
   * last pass writes the total, the f32 product scale() computes — the bits of
   * scale(sum(a), factor) in one dispatch fewer.
   */
  sumScaled(a: Tensor, factor: number): Tensor;
  /** Σ over all tensors of Σ x², shape [1]. Used for the global grad norm. */
  sumSquares(ts: Tensor[]): Tensor;
  /**
   * Σ over segments (in list order) of Σ x² over flat[offset, offset + size), shape [1]: the
   * multi-tensor grad norm over an arena. Bit-identical to sumSquares of the segments as separate
   * tensors (same slices, same trees, same order), in one partial pass instead of one per tensor.
   */
  sumSquaresSegments(flat: Tensor, segments: readonly Segment[]): Tensor;
  /** dst ← src, exactly (same size): e.g. a gradient gathered into its slice of an arena. */
  copyInto(dst: Tensor, src: Tensor): void;

  // ---- embedding ----
  /** out[n, :] = table[ids[n], :]. table [V, D], ids i32 [N] → [N, D]. */
  embedding(table: Tensor, ids: Tensor): Tensor;
  /** dTable[v, :] = Σ_{n: ids[n]=v} dOut[n, :], summed in increasing n. → [V, D]. */
  embeddingBackward(ids: Tensor, dOut: Tensor, vocab: number): Tensor;

  // ---- normalization ----
  /** y = x · rstd · w with rstd = 1/sqrt(mean(x²) + eps) per row. x [N, D], w [D]. */
  rmsnorm(x: Tensor, w: Tensor, eps: number): { y: Tensor; rstd: Tensor };
  /**
   * dx (plus res, the gradient already gathered for x, when given: the accumulation fused) and dw.
   * The upstream gradient is dy + dyMore[0] + dyMore[1] + … added in that order in the kernel
   * (the parts the tape has gathered for y, not yet summed).
   */
  rmsnormBackward(
    x: Tensor,
    w: Tensor,
    rstd: Tensor,
    dy: Tensor,
    res?: Tensor,
    dyMore?: readonly Tensor[],
  ): { dx: Tensor; dw: Tensor };
  /**
   * The residual add fused into the next norm: sum = a + b and rmsnorm(sum) in one pass
   * (a, b [N, D]). Same values as add then rmsnorm; the backward is rmsnormBackward on sum.
   */
  addRmsnorm(a: Tensor, b: Tensor, w: Tensor, eps: number): { sum: Tensor; y: Tensor; rstd: Tensor };
  /**
   * One or two RMSNorms in one pass (1 ≤ segments ≤ 2, every x [N, S] with the same N): each over
   * its x's first D = w.size columns, the other S − D columns carried out unnormalized (rest;
   * null where S = D). The same values as a split and rmsnorm per segment. rstd is opaque: what
   * rmsnormSegmentsBackward takes back.
   */
  rmsnormSegments(segs: readonly NormSegment[], eps: number): NormSegmentsResult;
  /** dx [N, S] per segment (the carried columns' gradient dRest copied in; zeros where null) and dw. */
  rmsnormSegmentsBackward(
    segs: readonly NormSegment[],
    rstd: readonly Tensor[],
    dy: readonly Tensor[],
    dRest: ReadonlyArray<Tensor | null>,
  ): { dx: Tensor[]; dw: Tensor[] };

  // ---- rotary embedding ----
  /**
   * x [B, T, H, D] with D even. Rotates adjacent pairs (x[2i], x[2i+1]) by angle
   * (t + posOffset) · theta^(-2i/D), as DeepSeek-V3's reference does. inverse rotates by the
   * negative angle, which is exactly the backward pass.
   */
  rope(x: Tensor, theta: number, posOffset: number, inverse: boolean): Tensor;
  /** rope of a and of b (an attention's q and k: the same B, T and D), in one pass on the GPU. */
  ropePair(a: Tensor, b: Tensor, theta: number, posOffset: number, inverse: boolean): [Tensor, Tensor];
  /**
   * x [B, T, H, D]: columns [start, start + len) of each head rotated as rope() rotates a
   * len-wide head (len even), the other columns copied — MLA's [q_nope ; RoPE(q_pe)] in one pass.
   */
  ropeCols(x: Tensor, start: number, len: number, theta: number, posOffset: number, inverse: boolean): Tensor;
  /**
   * MLA's keys and values from kv [B, T, H, dn + dv] and the shared RoPE key kpe [B, T, dr]
   * (not yet rotated): k [B, T, H, dn + dr] = [kv[..., :dn] ; rope(kpe) for every head],
   * v [B, T, H, dv] = kv[..., dn:].
   */
  mlaKeys(kv: Tensor, kpe: Tensor, dn: number, theta: number, posOffset: number): { k: Tensor; v: Tensor };
  /** Backward of mlaKeys: dkv = [dk[..., :dn] ; dv], dkpe = inverse rope of Σ_h dk[..., h, dn:] (h increasing). */
  mlaKeysBackward(dk: Tensor, dv: Tensor, dn: number, theta: number, posOffset: number): { dkv: Tensor; dkpe: Tensor };

  // ---- attention ----
  /**
   * Causal softmax attention. q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV] →
   * o [B,T,H,dV] and lse [B,H,T] (natural-log log-sum-exp of the scaled scores, per query).
   */
  attention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape): { o: Tensor; lse: Tensor };
  attentionBackward(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    o: Tensor,
    lse: Tensor,
    dO: Tensor,
    s: AttentionShape,
  ): { dq: Tensor; dk: Tensor; dv: Tensor };

  // ---- softmax ----
  /**
   * Row softmax over the last dim of x [R, Tq, Tk] (R = e.g. batch·heads), max-subtracted.
   * causalOffset null: every column is visible. Otherwise entry (i, j) is masked out
   * (probability exactly 0) when j > i + causalOffset: offset 0 with Tq = Tk is the standard
   * causal mask, offset Tk − Tq lets the last query see every key (incremental decoding).
   * A row with no visible column (only possible for an offset < 0) is all zeros.
   */
  softmax(x: Tensor, causalOffset: number | null): Tensor;
  /** dx = y ⊙ (dy − rowsum(dy ⊙ y)) for y = softmax(x, ·) [R, Tq, Tk] (masked entries: y = 0 → 0). */
  softmaxBackward(y: Tensor, dy: Tensor): Tensor;

  // ---- layout (pure copies; exact) ----
  /** x [..., D] → [..., len]: columns [start, start + len) of the last dim. Backward: padLast(dy, start, D). */
  sliceLast(x: Tensor, start: number, len: number): Tensor;
  /**
   * x [..., L] → [..., total]: x at columns [start, start + L) of the last dim, zeros elsewhere.
   * The backward of sliceLast; its own backward is sliceLast(dy, start, L).
   */
  padLast(x: Tensor, start: number, total: number): Tensor;
  /** a [..., Da], b [..., Db] with equal leading dims → [..., Da + Db]. Backward: sliceLast(dy, 0, Da), sliceLast(dy, Da, Db). */
  concatLast(a: Tensor, b: Tensor): Tensor;
  /** x [..., D] → a = x[..., :at], b = x[..., at:] (0 < at < D), in one pass. Backward: concatLast(da, db). */
  splitLast(x: Tensor, at: number): { a: Tensor; b: Tensor };
  /**
   * x [A, B, C] → [B, A, C]: swaps the first two dims of a rank-3 tensor (C stays contiguous),
   * e.g. [B·T, H, d] → [H, B·T, d] to put heads in front for per-head batched matmuls.
   * Its own backward.
   */
  swap01(x: Tensor): Tensor;

  // ---- activations ----
  silu(x: Tensor): Tensor;
  siluBackward(x: Tensor, dy: Tensor): Tensor;
  /** silu(g) · u. */
  swiglu(g: Tensor, u: Tensor): Tensor;
  swigluBackward(g: Tensor, u: Tensor, dy: Tensor): { dg: Tensor; du: Tensor };

  // ---- mixture of experts (routing: moe_route family; dispatch/combine: moe_dispatch family) ----
  /** y = σ(x), stable for large |x|. */
  sigmoid(x: Tensor): Tensor;
  /** dx = dy · y · (1 − y) for y = σ(x). */
  sigmoidBackward(y: Tensor, dy: Tensor): Tensor;
  /**
   * Group-limited top-K routing for scores [N, E] with a selection-only bias [E]:
   *   sel = scores + bias; group score = sum of the top-2 sel in the group (the single sel if a
   *   group has one expert); keep the topkGroup best groups; take the topK best sel among their
   *   experts. Ties break to the lower group / expert index. idx i32 [N, K] lists the chosen
   *   experts in decreasing sel order. weight [N, K] = scores[idx] (the ORIGINAL scores, no
   *   bias), divided by their sum when normTopk, times scale.
   */
  moeRoute(scores: Tensor, bias: Tensor, r: RouteConfig): { idx: Tensor; weight: Tensor };
  /** Gradient of weight with respect to scores (zero for experts not chosen): [N, E]. */
  moeRouteBackward(scores: Tensor, idx: Tensor, dWeight: Tensor, r: RouteConfig): Tensor;
  /**
   * The router's gate and routing in one pass: scores = sigmoid(logits) [N, E], then
   * moeRoute(scores, bias, r). Bit for bit those two ops; scores is returned for the backward
   * (and the balance loss).
   */
  moeRouteSigmoid(logits: Tensor, bias: Tensor, r: RouteConfig): { idx: Tensor; weight: Tensor; scores: Tensor };
  /**
   * dLogits [N, E] of moeRouteSigmoid: sigmoidBackward(scores, dy) with dy = moeRouteBackward(…)
   * (+ dScores, a gradient that reached the scores from elsewhere, when given). Bit for bit
   * those ops and the add, in one pass.
   */
  moeRouteSigmoidBackward(
    scores: Tensor,
    idx: Tensor,
    dWeight: Tensor,
    r: RouteConfig,
    dScores?: Tensor | null,
  ): Tensor;
  /** The dispatch plan for idx i32 [N, K] over E experts (deterministic counting sort). */
  moePlan(idx: Tensor, experts: number): MoePlan;
  /** Loss-free balancing, in place: c_e = tokens routed to e (from offsets), b_e += γ·sign(mean(c) − c_e). */
  moeBiasUpdate(bias: Tensor, offsets: Tensor, gamma: number): void;
  /** moeBiasUpdate for each (bias, offsets) pair in order: every MoE layer of a step (the GPU: several per dispatch). */
  moeBiasUpdates(biases: readonly Tensor[], offsets: readonly Tensor[], gamma: number): void;
  /** out[m, :] = x[slotAssign[m] / K, :]. x [N, d] → [M, d] (each expert's tokens contiguous). */
  moeGather(x: Tensor, plan: MoePlan, K: number): Tensor;
  /**
   * dx[n, :] = Σ_k dy[assignSlot[n·K + k], :], summed in k order. dy [M, d] → [N, d]. With acc
   * ([N, d], an earlier gradient of x): acc + that sum, bit for bit add(acc, moeGatherBackward(dy)).
   */
  moeGatherBackward(dy: Tensor, plan: MoePlan, K: number, acc?: Tensor | null): Tensor;
  /**
   * Grouped GEMM over the plan's expert segments, x [M, a] and w [E, b, a] (HF [out, in]
   * per expert): transW → y_seg = x_seg · W_eᵀ [M, b]; with w [E, a, b] and !transW →
   * y_seg = x_seg · W_e [M, b] (the input-gradient direction).
   */
  moeGroupedMatmul(x: Tensor, w: Tensor, plan: MoePlan, transW: boolean): Tensor;
  /**
   * moeGroupedMatmul(x, w, plan, true) for each w (bit for bit); the WebGPU backend runs two per
   * dispatch. With `gather`, x is the token rows [N, a] and the results those of x replaced by
   * moeGather(x, plan, gather.K), bit for bit, without that [N·K, a] copy (the GEMMs read slot m's
   * row as x[slotAssign[m] / K]).
   */
  moeGroupedMatmuls(x: Tensor, ws: Tensor[], plan: MoePlan, gather?: { K: number }): Tensor[];
  /** dW_e = Σ over segment rows of dyᵀ·x: dy [M, b], x [M, a] → [E, b, a] (zeros for idle experts). */
  moeGroupedWeightGrad(dy: Tensor, x: Tensor, plan: MoePlan, experts: number): Tensor;
  /**
   * Both gradients of y = moeGroupedMatmul(x, w, plan, true) (w [E, b, a]) for upstream dy:
   * dx = [acc +] moeGroupedMatmul(dy, w, plan, false) and dw = moeGroupedWeightGrad(dy, x, plan, E),
   * bit for bit those (and add(acc, ·)); null where not wanted. The WebGPU backend computes both in
   * one dispatch where the weight gradient needs no split. With `gather`, x is the token rows
   * [N, a] and dw reads moeGather(x, plan, gather.K) in its place (bit for bit, without the copy);
   * dx stays the slots' gradient [M, a] (moeGatherBackward takes it to the tokens).
   */
  moeGroupedGrads(
    dy: Tensor,
    x: Tensor,
    w: Tensor,
    plan: MoePlan,
    acc: Tensor | null,
    want: { dx: boolean; dw: boolean },
    gather?: { K: number },
  ): { dx: Tensor | null; dw: Tensor | null };
  /**
   * An expert FFN's down projection over its SwiGLU gate: moeGroupedMatmul(swiglu(g, u), w, plan,
   * true), bit for bit (g, u [M, F] by slot; w [E, out, F]). The WebGPU backend computes the gate
   * as its GEMM stages the rows.
   */
  moeExpertsSwiglu(g: Tensor, u: Tensor, w: Tensor, plan: MoePlan): Tensor;
  /**
   * Its backward for dy [M, out]: dg, du = swigluBackward(g, u, moeGroupedMatmul(dy, w, plan,
   * false)) and, when `needW`, dw = moeGroupedWeightGrad(dy, swiglu(g, u), plan, E), bit for bit;
   * one dispatch on the WebGPU backend where moeGroupedGrads would take one.
   */
  moeExpertsSwigluBackward(
    dy: Tensor,
    g: Tensor,
    u: Tensor,
    w: Tensor,
    plan: MoePlan,
    needW: boolean,
  ): SwigluLinearGrads;
  /** out[n, :] = Σ_k weight[n, k] · y[assignSlot[n·K + k], :] in k order. y [M, d], weight [N, K] → [N, d]. */
  moeCombine(y: Tensor, weight: Tensor, plan: MoePlan): Tensor;
  /** dy[slot] = weight[a] · dOut[n] and dWeight[n, k] = dOut[n] · y[assignSlot[a]], a = n·K + k. */
  moeCombineBackward(y: Tensor, weight: Tensor, plan: MoePlan, dOut: Tensor): { dy: Tensor; dWeight: Tensor };

  /**
   * Sequence-wise balance loss per sequence (V3 eqs. 17–20; the indicator uses the routed idx):
   * scores [B, T, E], idx i32 [B, T, K] → [B], L_b = Σ_i f_i·P_i with
   * f_i = E/(K·T)·#{t : i ∈ idx[b, t]}, P_i = (1/T)·Σ_t s[b,t,i] / Σ_j s[b,t,j].
   */
  moeAuxLoss(scores: Tensor, idx: Tensor): Tensor;
  /** dScores[b,t,j] = dL[b]/T · (f_j/S_t − Σ_i f_i·s[b,t,i]/S_t²), S_t = Σ_j s[b,t,j]; f held constant. */
  moeAuxLossBackward(scores: Tensor, idx: Tensor, dL: Tensor): Tensor;

  // ---- block-scaled low precision (fp8 family: quantize; fp8_gemm family: GEMM) ----
  /** Quantize x [rows, cols] in 1×B tiles along cols (per token along K, V3's activation tiling). */
  quantizeRows(x: Tensor, spec: QuantSpec): QTensor;
  /** Quantize w [rows, cols] in B×B blocks (V3's weight tiling). */
  quantizeBlocks(w: Tensor, spec: QuantSpec): QTensor;
  /** Q_rows(xᵀ): x [rows, cols] quantized as its transpose [cols, rows], read in place (no transpose pass). */
  quantizeRowsT(x: Tensor, spec: QuantSpec): QTensor;
  /** [Q_blocks(w), Q_blocks(wᵀ)] in one pass (B×B blocks: the transpose has the same block amaxes). */
  quantizeBlocksPair(w: Tensor, spec: QuantSpec): [QTensor, QTensor];
  /**
   * quantizeBlocksPair of every weight, the same bits; on the GPU one dispatch when they are
   * slices of one buffer (a step's weights in the parameter arena).
   */
  quantizeBlocksPairs(ws: readonly Tensor[], spec: QuantSpec): Array<[QTensor, QTensor]>;
  /** [quantizeRows(w), quantizeRowsT(w)] of every weight, the same bits; one dispatch like quantizeBlocksPairs. */
  quantizeRowsPairs(ws: readonly Tensor[], spec: QuantSpec): Array<[QTensor, QTensor]>;
  /** The f32 values a QTensor stands for, [rows, cols] (codes decoded times their scales). */
  dequantize(q: QTensor): Tensor;
  /**
   * C [a.rows, b.rows] = A · Bᵀ over the shared cols K, dequantizing in the kernel: for each
   * K-block kb, acc += (Σ_k a_q·b_q) · sA[m, kb] · sB[n or n/B, kb] (DeepSeek's fp8_gemm), or
   * the limited-accumulator emulation of `accum`. a must be tiled 'rows'; b 'rows' or 'blocks';
   * both with the same block size.
   */
  blockScaledMatmul(a: QTensor, b: QTensor, accum: AccumSpec): Tensor;
  /**
   * C [M, N] = Q_rows(A) · Bᵀ with A f32 [M, K] — or, with transA, Aᵀ stored [K, M] — quantized
   * by `spec` in 1×B tiles along K inside the GEMM (quantize-on-load): bit-identical to
   * blockScaledMatmul(quantizeRows(A, spec), b, accum), without A's quantize pass and codes.
   */
  quantizedMatmul(a: Tensor, spec: QuantSpec, b: QTensor, accum: AccumSpec, transA?: boolean): Tensor;

  // ---- loss ----
  /**
   * Fused, stable softmax cross-entropy per row. logits [N, V], targets i32 [N].
   * loss[n] = lse[n] − logits[n, t]; rows with target < 0 are ignored (loss 0, grad 0).
   */
  crossEntropy(logits: Tensor, targets: Tensor): { loss: Tensor; lse: Tensor };
  /** dlogits[n, j] = (softmax[n, j] − 1[j = t_n]) · dloss[n]. */
  crossEntropyBackward(logits: Tensor, targets: Tensor, lse: Tensor, dloss: Tensor): Tensor;
  /**
   * The mean's backward: dlogits[n, j] = (softmax[n, j] − 1[j = t_n]) · (dy[0] · factor), dy one
   * element — the bits of crossEntropyBackward with dloss = broadcastScalar(dy, [N], factor),
   * without that tensor.
   */
  crossEntropyMeanBackward(logits: Tensor, targets: Tensor, lse: Tensor, dy: Tensor, factor: number): Tensor;

  // ---- generation (inference only) ----
  // These ops serve the generation engine (model/generate.ts). They have no backward: training and
  // GRPO recompute log-probs through the taped forward, never through the cache.
  /**
   * In place on cache [B, C, W] (C = capacity in tokens): cache[b, pos[b] + j, :] = rows[b, j, :]
   * for rows [B, n, W] and pos i32 [B]. Rows that would land at or past C are dropped.
   */
  cacheWrite(cache: Tensor, rows: Tensor, pos: Tensor): void;
  /**
   * RoPE with a start position per sequence: x [B, n, H, D], pos i32 [B]; token j of sequence b
   * is rotated as position pos[b] + j (same pairs and frequencies as rope()).
   */
  ropeAt(x: Tensor, pos: Tensor, theta: number): Tensor;
  /**
   * n new queries per sequence against a KV cache with per-sequence lengths. q [B, n, H, dQK];
   * kc [B, C, kStride]: kv head g's key at columns [g·dQK, (g+1)·dQK) of a row; vc [B, C, vStride]:
   * kv head g's value at columns vOffset + [g·dV, (g+1)·dV). Query j of sequence b sits at
   * position pos[b] + j and sees cached positions 0 ..= pos[b] + j (so the new tokens must be
   * written to the cache first). Query head h reads kv head floor(h / (H / Hkv)).
   * → o [B, n, H, dV]. kc and vc may be the same tensor (MLA: the latent is key and value).
   */
  cachedAttention(q: Tensor, kc: Tensor, vc: Tensor, pos: Tensor, s: CachedAttentionShape): Tensor;
  /**
   * The sampling distribution of each row of logits [R, V] → probs [R, V] (zero outside the kept set):
   *   temperature 0: one-hot at the argmax (lowest index among equal maxima); topK/topP ignored.
   *   otherwise z = logits / temperature, then
   *   top-k (topK ≥ 1; 0 = off): keep z_i ≥ the k-th largest z (ties at the boundary are kept);
   *   p = softmax of z over the kept set;
   *   top-p (0 < topP < 1; ≥ 1 = off): keep p_i ≥ τ, τ the largest value with Σ_{p_j ≥ τ} p_j ≥ topP
   *   (the smallest head of the sorted distribution holding mass topP, ties kept), renormalized.
   */
  samplingProbs(logits: Tensor, temperature: number, topK: number, topP: number): Tensor;
  /**
   * Inverse-CDF draws from non-negative weights w [R, V] (need not sum to 1) with uniforms
   * u [R] in [0, 1): index i32 [R], the smallest i with Σ_{j ≤ i} w_j > u · Σ_j w_j, clamped to
   * the last index with w > 0. A row of all zeros gives index 0.
   */
  sampleCategorical(w: Tensor, u: Tensor): Tensor;
  /**
   * log softmax(logits / temperature)[ids] per row: logits [R, V], ids i32 [R] → [R].
   * temperature 0 (greedy) is read as 1.
   */
  tokenLogprob(logits: Tensor, ids: Tensor, temperature: number): Tensor;
  /** Speculative decoding's residual distribution, unnormalized: max(0, p − q) elementwise, [R, V]. */
  specResidual(p: Tensor, q: Tensor): Tensor;
  /**
   * The speculative accept/reject rule per row: the draft token d = draft[r] (drawn from q) is
   * accepted when u[r] · q[d] < p[d] (probability min(1, p[d]/q[d])); otherwise the row takes
   * resid[r], a draw from specResidual(p, q). → i32 [R, 2]: (token, accepted ? 1 : 0).
   */
  specAccept(p: Tensor, q: Tensor, draft: Tensor, u: Tensor, resid: Tensor): Tensor;

  // ---- GRPO (rl/grpo.ts; spec §5) ----
  /**
   * GRPO token objective, summed with weights (the caller's normalization: per-sequence mean,
   * token-level, or constant length all become weights w; padding has w = 0).
   *   lp, old, ref, adv, w: [N] f32. r = exp(lp − old);
   *   s = min(r·A, clamp(r, 1−epsLow, 1+epsHigh)·A);  k3 = exp(ref − lp) − (ref − lp) − 1
   *   loss [1] = −Σ_t w_t · (s_t − beta · k3_t)   (tokens with w_t = 0 are skipped, so padding
   *   garbage cannot make the sum NaN)
   *   stats [3] = [Σ_{w>0} clipped_t, Σ_{w>0} k3_t, #{t : w_t > 0}],
   *   clipped_t = (A_t > 0 and r_t > 1+epsHigh) or (A_t < 0 and r_t < 1−epsLow)  (the clipped term wins the min strictly: zero gradient)
   * The sums run in a fixed order (deterministic).
   */
  grpoLoss(
    lp: Tensor,
    old: Tensor,
    ref: Tensor,
    adv: Tensor,
    w: Tensor,
    hp: GrpoHyper,
  ): { loss: Tensor; stats: Tensor };
  /** d loss / d lp [N] = −dLoss[0] · w_t · ( (clipped_t ? 0 : r_t·A_t) − beta · (1 − exp(ref_t − lp_t)) ); dLoss [1] read on the device. */
  grpoLossBackward(lp: Tensor, old: Tensor, ref: Tensor, adv: Tensor, w: Tensor, hp: GrpoHyper, dLoss: Tensor): Tensor;

  // ---- optimizer ----
  /**
   * Decoupled-weight-decay Adam, in place on param, m, v:
   *   g' = g · c, c = clip ? min(1, maxNorm / (sqrt(normSq) + 1e-6)) : 1
   *   m = β1 m + (1−β1) g';  v = β2 v + (1−β2) g'²
   *   p = p − lr·wd·p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)
   * normSq is a one-element tensor (from sumSquares), read on the device: no host round trip.
   */
  adamw(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    hp: AdamWParams,
    clip: { normSq: Tensor; maxNorm: number } | null,
  ): void;
}

export interface Backend extends BackendCore, BackendOps {}
