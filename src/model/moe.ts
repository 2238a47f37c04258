// DeepSeekMoE feed-forward layer (spec §2), for x [N, d]:
//   s = sigmoid(x·W_gᵀ)  (softmax for V2-style configs; sigmoid and routing are one op)
//   route on s + b (b: per-expert bias, selection only, never trained by the optimizer);
//   group-limited top-K; weights = the original s of the chosen experts (normalized, scaled)
//   y = Σ_k w_k·Expert_k(x) + SharedMLP(x)
// Dispatch is a deterministic counting sort on the device: tokens are gathered per expert (inside
// the gate/up grouped GEMMs' loads: no gathered copy), run through grouped GEMMs, and combined
// back in token order (no float atomics, no drops).
// Routed experts are stored stacked, [E, out, in] per projection; HF checkpoints split them
// per expert (`mlp.experts.{e}.gate_proj.weight`), which export does.

import type { RouteConfig } from '../engine/backend';
import * as op from '../engine/ops';
import type { Tensor } from '../engine/tensor';
import type { ModelConfig } from './config';

import { blockLinears, blockSwigluLinear } from './linear';
import type { ParamGetter } from './mla';

// The layer's parameter shapes live with the model's (config.ts); re-exported for callers.
export { isBuffer, isMoeLayer, moeShapes } from './config';

/** What an MoE layer leaves behind for the trainer: per-layer loads and balance losses. */
export interface MoeTrace {
  /** Per MoE layer: the plan's offsets (i32 [E+1]); loads are their differences. */
  offsets: Tensor[];
  /** Per MoE layer: the sequence-wise balance loss per sequence [B] (only when α > 0). */
  aux: Tensor[];
  /** Per MoE layer: its bias tensor (for the loss-free update). */
  bias: Tensor[];
}

export function newTrace(): MoeTrace {
  return { offsets: [], aux: [], bias: [] };
}

export function routeConfig(c: ModelConfig): RouteConfig {
  return {
    nGroup: c.n_group,
    topkGroup: c.topk_group,
    topK: c.num_experts_per_tok,
    normTopk: c.norm_topk_prob,
    scale: c.routed_scaling_factor,
  };
}

/** V2-style scoring: scores = softmax(logits) over the experts, then the routing. */
function softmaxRoute(logits: Tensor, bias: Tensor, r: RouteConfig): { idx: Tensor; weight: Tensor; scores: Tensor } {
  const [N, E] = logits.shape;
  const scores = op.view(op.softmax(op.view(logits, [1, N, E]), null), [N, E]);
  return { ...op.moeRoute(scores, bias, r), scores };
}

/** The MoE layer on x [B, T, d] → [B, T, d]; records loads (and aux losses) into trace. */
export function moeLayer(p: ParamGetter, c: ModelConfig, pre: string, x: Tensor, trace: MoeTrace | null): Tensor {
  const [B, T, d] = x.shape;
  const N = B * T;
  const E = c.n_routed_experts;
  const K = c.num_experts_per_tok;
  const x2 = op.view(x, [N, d]);
  const logits = op.linear(x2, p(`${pre}.gate.weight`));
  const bias = p(`${pre}.gate.e_score_correction_bias`);
  // Sigmoid scoring: the gate and the routing in one op (one dispatch each way).
  const { idx, weight, scores } =
    c.scoring_func === 'sigmoid'
      ? op.moeRouteSigmoid(logits, bias, routeConfig(c))
      : softmaxRoute(logits, bias, routeConfig(c));
  const plan = x.backend.moePlan(idx, E);
  // Gate and up read the tokens' rows through the plan (no gathered copy of x): one dispatch.
  const [gate, up] = op.moeExpertsGathered(
    x2,
    [p(`${pre}.experts.gate_proj.weight`), p(`${pre}.experts.up_proj.weight`)],
    plan,
    K,
  );
  // The down projection with the SwiGLU gate folded into its GEMM (one dispatch each way).
  const down = op.moeExpertsSwiglu(gate, up, p(`${pre}.experts.down_proj.weight`), plan);
  let y = op.moeCombine(down, weight, plan);
  if (c.n_shared_experts > 0) {
    const [g, u] = blockLinears(c, x2, [
      p(`${pre}.shared_experts.gate_proj.weight`),
      p(`${pre}.shared_experts.up_proj.weight`),
    ]);
    y = blockSwigluLinear(c, g, u, p(`${pre}.shared_experts.down_proj.weight`), y);
  }
  if (trace) {
    trace.offsets.push(plan.offsets);
    trace.bias.push(bias);
    if (c.aux_loss_alpha > 0) trace.aux.push(op.moeAuxLoss(op.view(scores, [B, T, E]), x.backend.view(idx, [B, T, K])));
  }
  return op.view(y, [B, T, d]);
}
