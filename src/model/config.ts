// The model's shape: the `model` section of the run config plus the vocabulary, with derived
// figures (head dim, parameter counts, KV-cache bytes, FLOPs per token).

import type { ModelSection } from '../lab/config';

export interface ModelConfig extends ModelSection {
  vocab_size: number;
}

export function headDim(c: ModelConfig): number {
  return c.hidden_size / c.num_attention_heads;
}

/** Parameter shapes with Hugging Face names, in a fixed order (init and checkpoints use it). */
export function parameterShapes(c: ModelConfig): Array<[string, number[]]> {
  const d = c.hidden_size;
  const hd = headDim(c);
  const out: Array<[string, number[]]> = [['model.embed_tokens.weight', [c.vocab_size, d]]];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.input_layernorm.weight`, [d]],
      [`${p}.self_attn.q_proj.weight`, [c.num_attention_heads * hd, d]],
      [`${p}.self_attn.k_proj.weight`, [c.num_key_value_heads * hd, d]],
      [`${p}.self_attn.v_proj.weight`, [c.num_key_value_heads * hd, d]],
      [`${p}.self_attn.o_proj.weight`, [d, c.num_attention_heads * hd]],
      [`${p}.post_attention_layernorm.weight`, [d]],
      [`${p}.mlp.gate_proj.weight`, [c.intermediate_size, d]],
      [`${p}.mlp.up_proj.weight`, [c.intermediate_size, d]],
      [`${p}.mlp.down_proj.weight`, [d, c.intermediate_size]],
    );
  }
  out.push(['model.norm.weight', [d]], ['lm_head.weight', [c.vocab_size, d]]);
  return out;
}

export function countParams(c: ModelConfig): number {
  return parameterShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/** Bytes of K and V cached per token at f32, all layers. */
export function kvCacheBytesPerToken(c: ModelConfig): number {
  return c.num_hidden_layers * 2 * c.num_key_value_heads * headDim(c) * 4;
}

/** Forward FLOPs per token at context length T (2 per multiply-add; causal attention averaged). */
export function forwardFlopsPerToken(c: ModelConfig, T: number): number {
  const matmulParams = countParams(c) - c.vocab_size * c.hidden_size - (2 * c.num_hidden_layers + 1) * c.hidden_size;
  const attn = c.num_hidden_layers * 2 * 2 * c.num_attention_heads * headDim(c) * ((T + 1) / 2);
  return 2 * matmulParams + attn;
}
