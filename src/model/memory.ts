// A memory estimate of a training run, from its config alone, so an oversized run is refused
// before anything is allocated. It is an estimate (an upper bound in spirit, within ~2× of what
// the buffer pool really holds at the micro presets): weights, gradients and AdamW's two moments
// are exact; activations count what the taped forward keeps per token and layer.

import { type ModelConfig, parameterShapes } from './config';

export interface MemoryEstimate {
  /** Bytes by contributor. */
  parts: Array<{ name: string; bytes: number; field: string }>;
  total: number;
  /** The largest single buffer: it must fit the adapter's binding-size limit. */
  largestBuffer: { name: string; bytes: number; field: string };
}

const F32 = 4;
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Values one token keeps for the backward pass in one decoder layer (attention + FFN). */
function activationValuesPerLayer(c: ModelConfig, layerIsMoe: boolean): number {
  const d = c.hidden_size;
  const H = c.num_attention_heads;
  const attn =
    c.attention === 'mla'
      ? H * (c.qk_nope_head_dim + c.qk_rope_head_dim) * 2 +
        c.kv_lora_rank +
        H * (c.qk_nope_head_dim + c.v_head_dim) +
        H * c.v_head_dim
      : 4 * d;
  const ffn = layerIsMoe
    ? c.num_experts_per_tok * 3 * c.moe_intermediate_size +
      3 * c.n_shared_experts * c.moe_intermediate_size +
      c.n_routed_experts
    : 3 * c.intermediate_size;
  // Residual stream, two norms and their outputs, projections' inputs.
  return 6 * d + attn + ffn;
}

/**
 * The estimate for training `c` on batches of `batch` × `seq` tokens. `grpoReference` adds the
 * frozen reference policy's copy of the weights (RL pipeline runs).
 */
export function trainingMemory(c: ModelConfig, batch: number, seq: number, grpoReference: boolean): MemoryEstimate {
  const shapes = parameterShapes(c);
  const weights = shapes.reduce((n, [, s]) => n + numel(s), 0) * F32;
  const tokens = batch * seq;
  let perToken = 0;
  const layers = c.num_hidden_layers + c.num_nextn_predict_layers;
  for (let l = 0; l < layers; l++)
    perToken += activationValuesPerLayer(c, c.ffn === 'moe' && l >= c.first_k_dense_replace);
  const activations = tokens * perToken * F32;
  // Logits, their softmax and gradient: three [tokens, vocab] buffers.
  const logits = 3 * tokens * c.vocab_size * F32;
  const parts = [
    { name: 'weights', bytes: weights, field: 'model.hidden_size / model.num_hidden_layers' },
    { name: 'gradients', bytes: weights, field: 'model.hidden_size / model.num_hidden_layers' },
    { name: 'AdamW moments', bytes: 2 * weights, field: 'model.hidden_size / model.num_hidden_layers' },
    { name: 'activations', bytes: activations, field: 'data.batch_size / data.seq_len' },
    { name: 'logits', bytes: logits, field: 'data.batch_size / data.seq_len' },
  ];
  if (grpoReference)
    parts.push({ name: 'GRPO reference policy', bytes: weights, field: 'model.hidden_size / model.num_hidden_layers' });
  let largest = {
    name: 'logits [tokens, vocab]',
    bytes: tokens * c.vocab_size * F32,
    field: 'data.batch_size / data.seq_len',
  };
  for (const [name, s] of shapes) {
    const bytes = numel(s) * F32;
    if (bytes > largest.bytes) {
      const field = name.includes('.experts.')
        ? 'model.n_routed_experts / model.moe_intermediate_size'
        : name.includes('mlp')
          ? 'model.intermediate_size'
          : 'model.hidden_size';
      largest = { name, bytes, field };
    }
  }
  const ffnWidth = Math.max(c.intermediate_size, c.num_experts_per_tok * c.moe_intermediate_size);
  if (tokens * ffnWidth * F32 > largest.bytes)
    largest = {
      name: 'FFN activations [tokens, width]',
      bytes: tokens * ffnWidth * F32,
      field: 'data.batch_size / data.seq_len',
    };
  return { parts, total: parts.reduce((a, p) => a + p.bytes, 0), largestBuffer: largest };
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
