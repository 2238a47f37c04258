// The model's shape: the `model` and `arch` sections of the run config plus the vocabulary, every
// parameter's name and shape (dense, MoE and MTP layers alike), and derived figures (parameter
// counts, KV-cache bytes, FLOPs per token). Imports nothing else from model/, so the layer
// files (moe.ts, mtp.ts, model.ts) can all depend on it without a cycle.

import type { ArchSection, ModelSection, PrecisionSection } from '../config';

export interface ModelConfig extends ModelSection {
  vocab_size: number;
  attention: ArchSection['attention'];
  ffn: ArchSection['ffn'];
  /** Precision of the linear layers inside the blocks. */
  precision: PrecisionSection;
}

/** Head dim of standard (MHA/GQA) attention. */
export function headDim(c: ModelConfig): number {
  return c.hidden_size / c.num_attention_heads;
}

function attentionShapes(c: ModelConfig, p: string): Array<[string, number[]]> {
  const d = c.hidden_size;
  const H = c.num_attention_heads;
  if (c.attention === 'mha') {
    const hd = headDim(c);
    return [
      [`${p}.q_proj.weight`, [H * hd, d]],
      [`${p}.k_proj.weight`, [c.num_key_value_heads * hd, d]],
      [`${p}.v_proj.weight`, [c.num_key_value_heads * hd, d]],
      [`${p}.o_proj.weight`, [d, H * hd]],
    ];
  }
  const qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
  const q: Array<[string, number[]]> =
    c.q_lora_rank === 0
      ? [[`${p}.q_proj.weight`, [H * qk, d]]]
      : [
          [`${p}.q_a_proj.weight`, [c.q_lora_rank, d]],
          [`${p}.q_a_layernorm.weight`, [c.q_lora_rank]],
          [`${p}.q_b_proj.weight`, [H * qk, c.q_lora_rank]],
        ];
  return [
    ...q,
    [`${p}.kv_a_proj_with_mqa.weight`, [c.kv_lora_rank + c.qk_rope_head_dim, d]],
    [`${p}.kv_a_layernorm.weight`, [c.kv_lora_rank]],
    [`${p}.kv_b_proj.weight`, [H * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank]],
    [`${p}.o_proj.weight`, [d, H * c.v_head_dim]],
  ];
}

/** Parameter shapes with Hugging Face DeepSeek-V3 names, in a fixed order (init and checkpoints
 * use it): the main model, then the MTP modules (DeepSeek-V3's layer-L+k−1 layout). */
export function parameterShapes(c: ModelConfig): Array<[string, number[]]> {
  return [...baseParameterShapes(c), ...mtpShapes(c, c.num_nextn_predict_layers)];
}

/** The main model's parameters only. */
export function baseParameterShapes(c: ModelConfig): Array<[string, number[]]> {
  const d = c.hidden_size;
  const out: Array<[string, number[]]> = [['model.embed_tokens.weight', [c.vocab_size, d]]];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.input_layernorm.weight`, [d]],
      ...attentionShapes(c, `${p}.self_attn`),
      [`${p}.post_attention_layernorm.weight`, [d]],
      ...(isMoeLayer(c, l)
        ? moeShapes(c, `${p}.mlp`)
        : ([
            [`${p}.mlp.gate_proj.weight`, [c.intermediate_size, d]],
            [`${p}.mlp.up_proj.weight`, [c.intermediate_size, d]],
            [`${p}.mlp.down_proj.weight`, [d, c.intermediate_size]],
          ] as Array<[string, number[]]>)),
    );
  }
  out.push(['model.norm.weight', [d]], ['lm_head.weight', [c.vocab_size, d]]);
  return out;
}

// MoE layers (moe.ts).
export function isMoeLayer(c: ModelConfig, layer: number): boolean {
  return c.ffn === 'moe' && layer >= c.first_k_dense_replace;
}

export function moeShapes(c: ModelConfig, p: string): Array<[string, number[]]> {
  const d = c.hidden_size;
  const E = c.n_routed_experts;
  const I = c.moe_intermediate_size;
  const S = c.n_shared_experts * I;
  const out: Array<[string, number[]]> = [
    [`${p}.gate.weight`, [E, d]],
    [`${p}.gate.e_score_correction_bias`, [E]],
    [`${p}.experts.gate_proj.weight`, [E, I, d]],
    [`${p}.experts.up_proj.weight`, [E, I, d]],
    [`${p}.experts.down_proj.weight`, [E, d, I]],
  ];
  if (S > 0) {
    out.push(
      [`${p}.shared_experts.gate_proj.weight`, [S, d]],
      [`${p}.shared_experts.up_proj.weight`, [S, d]],
      [`${p}.shared_experts.down_proj.weight`, [d, S]],
    );
  }
  return out;
}

/** Parameters that are state, not trained: the routing bias. */
export function isBuffer(name: string): boolean {
  return name.endsWith('.e_score_correction_bias');
}

// MTP modules (mtp.ts).
/** Layer index of MTP module k (1-based) in the checkpoint layout. */
export function mtpLayerIndex(c: ModelConfig, k: number): number {
  return c.num_hidden_layers + k - 1;
}

/**
 * Shapes of the parameters of MTP modules 1..depth, in a fixed order. The decoder layer inside
 * each module is taken from parameterShapes itself (on a config with the extra layers), so
 * attention type and the dense/MoE rule per layer index are exactly the main model's.
 */
export function mtpShapes(c: ModelConfig, depth: number): Array<[string, number[]]> {
  if (!Number.isInteger(depth) || depth < 0)
    throw new Error(`mtpShapes: depth must be a non-negative integer, got ${depth}`);
  if (depth === 0) return [];
  const d = c.hidden_size;
  const all = baseParameterShapes({ ...c, num_hidden_layers: c.num_hidden_layers + depth });
  const out: Array<[string, number[]]> = [];
  for (let k = 1; k <= depth; k++) {
    const pre = `model.layers.${mtpLayerIndex(c, k)}`;
    out.push([`${pre}.enorm.weight`, [d]], [`${pre}.hnorm.weight`, [d]], [`${pre}.eh_proj.weight`, [d, 2 * d]]);
    for (const [name, shape] of all) if (name.startsWith(`${pre}.`)) out.push([name, shape]);
    out.push([`${pre}.shared_head.norm.weight`, [d]]);
  }
  return out;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Trainable parameters (the MoE routing bias is state, not a parameter). */
export function countParams(c: ModelConfig): number {
  return parameterShapes(c).reduce((n, [name, s]) => n + (isBuffer(name) ? 0 : numel(s)), 0);
}

/** Parameters a token actually uses: routed experts count K of E (shared experts always). */
export function activeParams(c: ModelConfig): number {
  let n = 0;
  for (const [name, s] of parameterShapes(c)) {
    if (isBuffer(name)) continue;
    n += name.includes('.mlp.experts.') ? (numel(s) / c.n_routed_experts) * c.num_experts_per_tok : numel(s);
  }
  return n;
}

/** Values cached per token per layer: K and V for MHA/GQA; the latent c plus the shared RoPE key for MLA. */
export function kvCacheValuesPerLayer(c: ModelConfig): number {
  return c.attention === 'mla' ? c.kv_lora_rank + c.qk_rope_head_dim : 2 * c.num_key_value_heads * headDim(c);
}

/** What standard MHA with the same heads and head dims would cache per token per layer. */
export function mhaEquivalentValuesPerLayer(c: ModelConfig): number {
  return c.attention === 'mla'
    ? c.num_attention_heads * (c.qk_nope_head_dim + c.qk_rope_head_dim + c.v_head_dim)
    : 2 * c.num_attention_heads * headDim(c);
}

/** Bytes of KV cache per token, all layers, at `bytesPerValue` (4 for f32, 2 for bf16). */
export function kvCacheBytesPerToken(c: ModelConfig, bytesPerValue = 4): number {
  return c.num_hidden_layers * kvCacheValuesPerLayer(c) * bytesPerValue;
}

/** Forward FLOPs per token at context length T (2 per multiply-add; causal attention averaged). */
export function forwardFlopsPerToken(c: ModelConfig, T: number): number {
  let matmulParams = 0;
  for (const [name, s] of parameterShapes(c)) {
    if (s.length < 2 || name === 'model.embed_tokens.weight') continue;
    matmulParams += name.includes('.mlp.experts.') ? (numel(s) / c.n_routed_experts) * c.num_experts_per_tok : numel(s);
  }
  const dqk = c.attention === 'mla' ? c.qk_nope_head_dim + c.qk_rope_head_dim : headDim(c);
  const dv = c.attention === 'mla' ? c.v_head_dim : headDim(c);
  const attn = c.num_hidden_layers * 2 * c.num_attention_heads * (dqk + dv) * ((T + 1) / 2);
  return 2 * matmulParams + attn;
}

export function modelConfigOf(
  cfg: { model: ModelSection; arch: ArchSection; precision: PrecisionSection },
  vocabSize: number,
): ModelConfig {
  return {
    ...cfg.model,
    attention: cfg.arch.attention,
    ffn: cfg.arch.ffn,
    precision: { ...cfg.precision },
    vocab_size: vocabSize,
  };
}

/**
 * Bytes per token of the activations the block linears keep for their weight gradients: f32
 * copies, or — with precision.linear = lowp — the quantized transposes (one byte per value, half
 * for E2M1, plus one f32 scale per B values). MoE routed experts (f32 grouped GEMMs) excluded.
 */
export function linearActivationCacheBytes(c: ModelConfig): { f32: number; lowp: number } {
  let values = 0;
  for (const [name, s] of parameterShapes(c)) {
    if (s.length !== 2 || !/\.(self_attn|mlp)\./.test(name) || name.includes('.mlp.gate.')) continue; // eh_proj stays out: MTP only
    values += s[1]; // each linear caches its input row (in features) per token
  }
  const bytesPerCode = c.precision.format === 'e2m1' ? 0.5 : 1;
  return { f32: 4 * values, lowp: values * bytesPerCode + (4 * values) / c.precision.block };
}
