// The linear layers inside the decoder blocks: f32, or block-scaled low precision (FP8 / MX)
// when precision.linear is 'lowp'. The embedding, the output head, the MoE gate, the norms and
// the attention core always stay in f32 (spec §3, "kept in high precision").

import type { Tensor } from '../engine/tensor';
import * as op from '../engine/ops';
import { type LowpLinearSpec, linearLowpFused, linearsLowpFused } from '../lowp/linear';
import { prequantizeWeights } from '../lowp/qcache';
import type { ModelConfig } from './config';

export function lowpSpec(c: ModelConfig): LowpLinearSpec {
  const p = c.precision;
  return {
    forward: { format: p.format, block: p.block, scale: p.scale },
    grad: { format: p.grad_format, block: p.block, scale: p.scale },
    weightTiling: p.weight_tiling,
    accum: { mantissaBits: p.accum_bits, promoteEvery: p.promote_every },
  };
}

/**
 * Whether parameter `name` is read by the block linears below: the projections of attention,
 * dense FFNs, shared experts and MTP modules (`*_proj.weight`, `kv_a_proj_with_mqa.weight`) — not
 * the routed experts (grouped GEMMs), the router, the embedding or the head.
 */
export function isBlockLinearWeight(name: string): boolean {
  return /_proj(_with_mqa)?\.weight$/.test(name) && !name.includes('.mlp.experts.');
}

/**
 * In low precision: the named weights (those of isBlockLinearWeight that exist; `names` is only
 * called then) quantized for this step in one pass ahead of the linears that read them
 * (lowp/qcache.ts prequantizeWeights; a no-op outside a recording tape, and for weights already
 * quantized on this tape). The same codes as quantizing each weight when its first linear runs,
 * with one dispatch instead of one per weight.
 */
export function prequantizeBlockLinears(
  c: ModelConfig,
  names: () => Iterable<string>,
  get: (name: string) => Tensor | undefined,
): void {
  if (c.precision.linear !== 'lowp') return;
  const ws: Tensor[] = [];
  for (const n of names()) {
    const w = isBlockLinearWeight(n) ? get(n) : undefined;
    if (w) ws.push(w);
  }
  if (ws.length > 0) prequantizeWeights(ws[0].backend, ws, lowpSpec(c).forward, c.precision.weight_tiling);
}

/** x·Wᵀ for a linear layer inside a block, at the configured precision. */
export function blockLinear(c: ModelConfig, x: Tensor, w: Tensor): Tensor {
  return c.precision.linear === 'lowp' ? linearLowpFused(x, w, lowpSpec(c)) : op.linear(x, w);
}

/**
 * x·W_iᵀ for several weights read by the same input: one dispatch per two products in f32
 * (op.linears, the same bits as a blockLinear each); in low precision x quantized once for all
 * of them (linearsLowpFused, the same bits as a blockLinear each).
 */
export function blockLinears(c: ModelConfig, x: Tensor, ws: Tensor[]): Tensor[] {
  return c.precision.linear === 'lowp' ? linearsLowpFused(x, ws, lowpSpec(c)) : op.linears(x, ws);
}

/**
 * [base +] swiglu(g, u)·Wᵀ, an FFN's down projection: in f32 the gate folded into the GEMM
 * (op.swigluLinear, the same bits as the unfused pair); in low precision the gate, then the
 * block-scaled linear (and a separate add).
 */
export function blockSwigluLinear(c: ModelConfig, g: Tensor, u: Tensor, w: Tensor, base: Tensor | null = null): Tensor {
  if (c.precision.linear === 'lowp') {
    const y = linearLowpFused(op.swiglu(g, u), w, lowpSpec(c));
    return base ? op.add(base, y) : y;
  }
  return op.swigluLinear(g, u, w, base);
}
