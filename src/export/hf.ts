// The mapping between v3lab's model and the Hugging Face DeepSeek-V3 checkpoint format:
// config.json fields and the tensor list of model.safetensors.
//
// Config: v3lab's model fields already use DeepseekV3Config names (DESIGN.md), so most map as
// they are. The differences:
//   - q_lora_rank 0 (a direct q_proj) is written as null, which is how transformers spells it;
//   - num_key_value_heads = num_attention_heads (MLA expands its one latent to every head);
//   - arch.ffn = 'dense' is first_k_dense_replace = num_hidden_layers + num_nextn_predict_layers
//     (every layer, the MTP layers included, keeps the dense FFN);
//   - RoPE: rope_interleave = true, rope_scaling = null (see below);
//   - bos/eos/pad token ids are null: the char tokenizer has no special tokens.
//
// Tensors: names are parameterShapes' (already the HF names), with three changes:
//   - routed experts, stored stacked [E, out, in] in the lab, are split per expert:
//     `mlp.experts.{e}.{gate,up,down}_proj.weight` [out, in];
//   - an MTP layer (model.layers.{L+k−1}) also gets `embed_tokens.weight` and
//     `shared_head.head.weight`, bit-identical copies of model.embed_tokens.weight and
//     lm_head.weight, exactly as DeepSeek's released checkpoints store them (vLLM's and SGLang's
//     MTP loaders read them there); the lab shares the main model's tensors, so import checks
//     that the copies equal them;
//   - with n_shared_experts = 0, an MoE layer gets empty shared-expert tensors ([0, d], [d, 0]):
//     transformers and DeepSeek's reference code always build a shared MLP of width
//     n_shared_experts · moe_intermediate_size, and these keep their loaders from reporting it
//     missing.
//
// Layout conventions (checked in roundtrip.test.ts against an independent HF-convention forward):
//   - every linear weight is [out, in] (torch nn.Linear), y = x·Wᵀ;
//   - q_b_proj / q_proj rows are per head [H, qk_nope_head_dim + qk_rope_head_dim], nope first;
//   - kv_a_proj_with_mqa rows are [kv_lora_rank latent ; qk_rope_head_dim shared RoPE key];
//   - kv_b_proj is [H·(qk_nope_head_dim + v_head_dim), kv_lora_rank], per head [k_nope ; v];
//   - RoPE rotates adjacent pairs (x[2i], x[2i+1]) with frequency θ^(−2i/d_r) — DeepSeek's
//     reference layout. transformers computes the same thing when rope_interleave = true (it
//     de-interleaves q_pe/k_pe, then applies its half-split rotation: same pairs, same angles).
//     With rope_interleave = false the rope rows would have to be permuted; import does that.
//   - eh_proj is [d, 2d] applied to [enorm(embedding) ; hnorm(hidden)] (embedding first).

import { FIELDS, type ModelSection, type PrecisionSection } from '../config';
import { parameterShapes, type ModelConfig } from '../model/config';
import { mtpLayerIndex } from '../model/mtp';
import { ExportError } from './errors';

export type ExportDtype = 'f32' | 'bf16' | 'fp8';
export const EXPORT_DTYPES: readonly ExportDtype[] = ['f32', 'bf16', 'fp8'];

export const HF_ARCHITECTURE = 'DeepseekV3ForCausalLM';
export const HF_MODEL_TYPE = 'deepseek_v3';

/** Largest vocabulary import accepts (the char tokenizer's are tiny; this bounds memory). */
export const MAX_VOCAB = 1 << 20;

/** Context length written as max_position_embeddings (RoPE without scaling; ≥ any data.seq_len). */
export const MAX_POSITIONS = 4096;

/** The precision section of an imported model without v3lab.json: f32 linears. */
export const DEFAULT_PRECISION: PrecisionSection = {
  linear: 'f32',
  format: 'e4m3',
  grad_format: 'e4m3',
  block: 128,
  scale: 'f32',
  weight_tiling: 'blocks',
  accum_bits: 0,
  promote_every: 128,
  compute: 'f32',
};

/** Throws ExportError when the model has no DeepSeek-V3 layout. */
export function checkExportable(c: ModelConfig): void {
  if (c.attention !== 'mla') {
    throw new ExportError(
      `arch.attention is "${c.attention}": DeepSeek-V3 checkpoints use multi-head latent attention, and standard MHA/GQA weights (q/k/v_proj with a RoPE key per head) have no exact equivalent there; export a run with arch.attention = mla (e.g. presets micro-mla, micro-v3, v3-tiny)`,
    );
  }
}

/** The DeepseekV3Config of a model: every field transformers reads, plus DeepSeek's hub extras. */
export function hfConfigOf(c: ModelConfig, dtype: ExportDtype): Record<string, unknown> {
  checkExportable(c);
  const L = c.num_hidden_layers;
  const D = c.num_nextn_predict_layers;
  const cfg: Record<string, unknown> = {
    architectures: [HF_ARCHITECTURE],
    model_type: HF_MODEL_TYPE,
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    intermediate_size: c.intermediate_size,
    moe_intermediate_size: c.moe_intermediate_size,
    num_hidden_layers: L,
    num_nextn_predict_layers: D,
    num_attention_heads: c.num_attention_heads,
    num_key_value_heads: c.num_attention_heads,
    n_shared_experts: c.n_shared_experts,
    n_routed_experts: c.n_routed_experts,
    routed_scaling_factor: c.routed_scaling_factor,
    kv_lora_rank: c.kv_lora_rank,
    q_lora_rank: c.q_lora_rank === 0 ? null : c.q_lora_rank,
    qk_rope_head_dim: c.qk_rope_head_dim,
    v_head_dim: c.v_head_dim,
    qk_nope_head_dim: c.qk_nope_head_dim,
    n_group: c.n_group,
    topk_group: c.topk_group,
    num_experts_per_tok: c.num_experts_per_tok,
    first_k_dense_replace: c.ffn === 'moe' ? c.first_k_dense_replace : L + D,
    moe_layer_freq: 1,
    norm_topk_prob: c.norm_topk_prob,
    scoring_func: c.scoring_func,
    topk_method: 'noaux_tc',
    seq_aux: true,
    aux_loss_alpha: c.aux_loss_alpha,
    ep_size: 1,
    hidden_act: 'silu',
    max_position_embeddings: MAX_POSITIONS,
    initializer_range: c.initializer_range,
    rms_norm_eps: c.rms_norm_eps,
    use_cache: true,
    pad_token_id: null,
    bos_token_id: null,
    eos_token_id: null,
    pretraining_tp: 1,
    tie_word_embeddings: false,
    rope_theta: c.rope_theta,
    rope_scaling: null,
    rope_interleave: true,
    attention_bias: false,
    attention_dropout: 0.0,
    torch_dtype: dtype === 'f32' ? 'float32' : 'bfloat16',
  };
  if (dtype === 'fp8')
    cfg.quantization_config = {
      activation_scheme: 'dynamic',
      fmt: 'e4m3',
      quant_method: 'fp8',
      weight_block_size: [128, 128],
    };
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Tensor layout

/** Where an exported tensor's values come from in the lab's parameters. */
export type Source =
  | { kind: 'param'; name: string }
  | { kind: 'expert'; name: string; expert: number }
  | { kind: 'copy'; name: string }
  | { kind: 'empty' };

export interface HfTensor {
  name: string;
  shape: number[];
  source: Source;
}

const EXPERTS = /^(model\.layers\.\d+\.mlp\.experts)\.(gate_proj|up_proj|down_proj)\.weight$/;

/**
 * The tensors of model.safetensors for a config, in the lab's parameter order (per-expert
 * tensors where the stacked one was; MTP copies at the end of their layer).
 */
export function hfTensors(c: ModelConfig): HfTensor[] {
  const out: HfTensor[] = [];
  const d = c.hidden_size;
  const mtpLayers = new Set(Array.from({ length: c.num_nextn_predict_layers }, (_, k) => mtpLayerIndex(c, k + 1)));
  for (const [name, shape] of parameterShapes(c)) {
    const m = EXPERTS.exec(name);
    if (m) {
      const [E, a, b] = shape;
      for (let e = 0; e < E; e++)
        out.push({ name: `${m[1]}.${e}.${m[2]}.weight`, shape: [a, b], source: { kind: 'expert', name, expert: e } });
      continue;
    }
    out.push({ name, shape: [...shape], source: { kind: 'param', name } });
    // Empty shared experts right after the gate bias of an MoE layer without shared experts.
    const bias = /^model\.layers\.(\d+)\.mlp\.gate\.e_score_correction_bias$/.exec(name);
    if (bias && c.n_shared_experts === 0) {
      const p = `model.layers.${bias[1]}.mlp.shared_experts`;
      out.push(
        { name: `${p}.gate_proj.weight`, shape: [0, d], source: { kind: 'empty' } },
        { name: `${p}.up_proj.weight`, shape: [0, d], source: { kind: 'empty' } },
        { name: `${p}.down_proj.weight`, shape: [d, 0], source: { kind: 'empty' } },
      );
    }
    const head = /^model\.layers\.(\d+)\.shared_head\.norm\.weight$/.exec(name);
    if (head && mtpLayers.has(Number(head[1]))) {
      const p = `model.layers.${head[1]}`;
      out.push(
        {
          name: `${p}.embed_tokens.weight`,
          shape: [c.vocab_size, d],
          source: { kind: 'copy', name: 'model.embed_tokens.weight' },
        },
        {
          name: `${p}.shared_head.head.weight`,
          shape: [c.vocab_size, d],
          source: { kind: 'copy', name: 'lm_head.weight' },
        },
      );
    }
  }
  return out;
}

const QUANTIZABLE =
  /^model\.layers\.\d+\.(self_attn\.(q_proj|q_a_proj|q_b_proj|kv_a_proj_with_mqa|kv_b_proj|o_proj)|mlp\.(experts\.\d+\.|shared_experts\.)?(gate_proj|up_proj|down_proj))\.weight$/;

/**
 * Whether DeepSeek's FP8 checkpoints store this tensor in E4M3 with a weight_scale_inv: the
 * linear layers inside the decoder blocks (attention projections, dense/expert/shared MLPs,
 * also in the MTP layer's block). Embeddings, the head and its MTP copy, the router (`mlp.gate`),
 * norms, the routing bias and eh_proj stay high precision — vLLM and SGLang build eh_proj as a
 * plain (unquantized) linear.
 */
export function isFp8Weight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && shape[0] > 0 && shape[1] > 0 && QUANTIZABLE.test(name);
}

/** High-precision tensors kept in f32 even in bf16/fp8 exports (transformers keeps it in f32). */
export function isF32Always(name: string): boolean {
  return name.endsWith('.e_score_correction_bias');
}

// ---------------------------------------------------------------------------------------------
// Reading config.json back

export class ConfigJsonError extends Error {
  override name = 'ConfigJsonError';
}

const MODEL_INT_FIELDS = [
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'kv_lora_rank',
  'qk_nope_head_dim',
  'qk_rope_head_dim',
  'v_head_dim',
  'intermediate_size',
  'n_routed_experts',
  'n_shared_experts',
  'num_experts_per_tok',
  'n_group',
  'topk_group',
  'moe_intermediate_size',
] as const;

function fieldRange(key: string): { min: number; max: number; int: boolean } {
  const f = FIELDS.find((x) => x.path === `model.${key}`);
  if (!f || (f.kind !== 'int' && f.kind !== 'float')) throw new Error(`no numeric field model.${key}`);
  return { min: f.min, max: f.max, int: f.kind === 'int' };
}

/** Typed reads of config.json's fields; every refusal is a ConfigJsonError that names the field. */
class HfFields {
  constructor(readonly j: Record<string, unknown>) {}

  /** Refuses the config. */
  bad(msg: string): never {
    throw new ConfigJsonError(msg);
  }

  /** A finite number (or the fallback when absent). */
  num(key: string, fallback?: number): number {
    const v = this.j[key] ?? fallback;
    if (v === undefined || v === null) return this.bad(`${key} is missing`);
    if (typeof v !== 'number' || !Number.isFinite(v))
      return this.bad(`${key} is ${JSON.stringify(v)}; expected a number`);
    return v;
  }

  /** A number inside the range (and integrality) of the lab's model.<key> field. */
  ranged(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    const r = fieldRange(key);
    if (r.int && !Number.isInteger(v)) this.bad(`${key} is ${v}; expected an integer`);
    if (v < r.min || v > r.max) this.bad(`${key} = ${v} is outside what v3lab trains ([${r.min}, ${r.max}])`);
    return v;
  }

  /** A boolean (or the fallback when absent). */
  bool(key: string, fallback: boolean): boolean {
    const v = this.j[key] ?? fallback;
    if (typeof v !== 'boolean') return this.bad(`${key} is ${JSON.stringify(v)}; expected true or false`);
    return v;
  }

  /** Refuses any value but the expected one (absent counts as the fallback). */
  want(key: string, expected: unknown, fallback: unknown, why: string): void {
    const v = this.j[key] === undefined ? fallback : this.j[key];
    if (v !== expected) this.bad(`${key} is ${JSON.stringify(v)}; ${why}`);
  }
}

/** The architecture's sizes: vocabulary, the integer fields, q_lora_rank, the MTP depth and the dense/MoE split. */
function readSizes(f: HfFields) {
  const j = f.j;
  const vocabSize = f.num('vocab_size');
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > MAX_VOCAB)
    f.bad(`vocab_size = ${vocabSize} is not an integer in [1, ${MAX_VOCAB}]`);
  const ints: Record<string, number> = {};
  for (const k of MODEL_INT_FIELDS) ints[k] = f.ranged(k);
  const H = ints.num_attention_heads;
  const kvHeads = f.num('num_key_value_heads', H);
  if (kvHeads !== H)
    f.bad(`num_key_value_heads = ${kvHeads}; DeepSeek-V3's MLA needs it equal to num_attention_heads (${H})`);
  const qRank = j.q_lora_rank === null || j.q_lora_rank === undefined ? 0 : f.num('q_lora_rank');
  if (qRank !== 0) {
    const r = fieldRange('q_lora_rank');
    if (!Number.isInteger(qRank) || qRank < 1 || qRank > r.max)
      f.bad(`q_lora_rank = ${qRank} is not null or an integer in [1, ${r.max}]`);
  }
  const D = j.num_nextn_predict_layers === undefined ? 0 : f.ranged('num_nextn_predict_layers');
  const fkd = f.num('first_k_dense_replace', 3);
  if (!Number.isInteger(fkd) || fkd < 0) f.bad(`first_k_dense_replace = ${fkd} is not a non-negative integer`);
  const L = ints.num_hidden_layers;
  const ffn: 'dense' | 'moe' = fkd >= L + D ? 'dense' : 'moe';
  if (ffn === 'moe' && fkd > L)
    f.bad(
      `first_k_dense_replace = ${fkd} makes some MTP layers dense and others MoE; v3lab needs it ≤ num_hidden_layers (${L}), or ≥ ${L + D} for an all-dense model`,
    );
  return { vocabSize, ints, H, qRank, D, fkd, L, ffn };
}

/** Refuses what the blocks would compute differently: other activations, attention biases, a tied head, sparse MoE layers. */
function checkBlocks(f: HfFields): void {
  const j = f.j;
  f.want('hidden_act', 'silu', 'silu', 'v3lab computes SwiGLU (silu) MLPs only');
  f.want('attention_bias', false, false, 'v3lab has no attention biases');
  f.want('tie_word_embeddings', false, false, 'v3lab keeps lm_head separate from the embedding');
  if (j.moe_layer_freq !== undefined && j.moe_layer_freq !== 1)
    f.bad(
      `moe_layer_freq is ${JSON.stringify(j.moe_layer_freq)}; v3lab puts MoE in every layer after first_k_dense_replace (1)`,
    );
}

/** RoPE: plain (no scaling) only; θ from rope_theta or rope_parameters, and the interleave flag. */
function readRope(f: HfFields): { ropeTheta: number; ropeInterleave: boolean } {
  const j = f.j;
  if (j.rope_scaling !== undefined && j.rope_scaling !== null)
    f.bad('rope_scaling is set; v3lab uses plain RoPE (no YaRN scaling): rope_scaling must be null');
  let theta = j.rope_theta;
  if (j.rope_parameters !== undefined && j.rope_parameters !== null) {
    const rp = j.rope_parameters;
    if (typeof rp !== 'object' || Array.isArray(rp)) f.bad('rope_parameters is not an object');
    const o = rp as Record<string, unknown>;
    if (o.rope_type !== undefined && o.rope_type !== 'default')
      f.bad(`rope_parameters.rope_type is ${JSON.stringify(o.rope_type)}; v3lab uses plain RoPE ("default")`);
    if (o.rope_theta !== undefined) theta = o.rope_theta;
  }
  const ropeTheta = theta === undefined ? 10000 : theta;
  if (typeof ropeTheta !== 'number' || !(ropeTheta >= 1 && ropeTheta <= 1e7))
    f.bad(`rope_theta = ${JSON.stringify(ropeTheta)} is outside [1, 1e7]`);
  const ropeInterleave = f.bool('rope_interleave', true);
  return { ropeTheta: ropeTheta as number, ropeInterleave };
}

/** The router: sigmoid or softmax scores, picked like "noaux_tc". */
function readScoring(f: HfFields): 'sigmoid' | 'softmax' {
  const j = f.j;
  const scoring = j.scoring_func ?? 'sigmoid';
  if (scoring !== 'sigmoid' && scoring !== 'softmax')
    f.bad(`scoring_func is ${JSON.stringify(scoring)}; expected "sigmoid" or "softmax"`);
  if (j.topk_method !== undefined && j.topk_method !== 'noaux_tc')
    f.bad(
      `topk_method is ${JSON.stringify(j.topk_method)}; v3lab routes like "noaux_tc" (bias-corrected, group-limited top-k)`,
    );
  return scoring as 'sigmoid' | 'softmax';
}

/** quantization_config: none (null), or block-scaled FP8 E4M3 with its weight block size. */
function readFp8Block(f: HfFields): [number, number] | null {
  const qc = f.j.quantization_config;
  if (qc === undefined || qc === null) return null;
  if (typeof qc !== 'object' || Array.isArray(qc)) f.bad('quantization_config is not an object');
  const q = qc as Record<string, unknown>;
  if (q.quant_method !== 'fp8')
    f.bad(
      `quantization_config.quant_method is ${JSON.stringify(q.quant_method)}; v3lab reads "fp8" (block-scaled E4M3)`,
    );
  if (q.fmt !== undefined && q.fmt !== 'e4m3')
    f.bad(`quantization_config.fmt is ${JSON.stringify(q.fmt)}; v3lab reads "e4m3"`);
  const wb = q.weight_block_size ?? [128, 128];
  if (!Array.isArray(wb) || wb.length !== 2 || !wb.every((x) => Number.isInteger(x) && x >= 1 && x <= 65536))
    f.bad(`quantization_config.weight_block_size is ${JSON.stringify(wb)}; expected [rows, cols]`);
  return [(wb as number[])[0], (wb as number[])[1]];
}

/**
 * The model section a config.json describes, its ffn kind and RoPE layout. Only what v3lab can
 * compute is accepted; each refusal names the field. Absent optional fields take transformers'
 * defaults.
 */
export function modelFromHfConfig(j: Record<string, unknown>): {
  model: ModelSection;
  ffn: 'dense' | 'moe';
  vocabSize: number;
  ropeInterleave: boolean;
  fp8Block: [number, number] | null;
} {
  const f = new HfFields(j);
  if (j.model_type !== HF_MODEL_TYPE)
    f.bad(`model_type is ${JSON.stringify(j.model_type ?? null)}; v3lab imports "${HF_MODEL_TYPE}" models`);
  // The checks run in this order (the first refusal is the one reported).
  const { vocabSize, ints, H, qRank, D, fkd, L, ffn } = readSizes(f);
  checkBlocks(f);
  const { ropeTheta, ropeInterleave } = readRope(f);
  const scoring = readScoring(f);
  const fp8Block = readFp8Block(f);

  const model: ModelSection = {
    hidden_size: ints.hidden_size,
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: H,
    q_lora_rank: qRank,
    kv_lora_rank: ints.kv_lora_rank,
    qk_nope_head_dim: ints.qk_nope_head_dim,
    qk_rope_head_dim: ints.qk_rope_head_dim,
    v_head_dim: ints.v_head_dim,
    intermediate_size: ints.intermediate_size,
    n_routed_experts: ints.n_routed_experts,
    n_shared_experts: ints.n_shared_experts,
    num_experts_per_tok: ints.num_experts_per_tok,
    n_group: ints.n_group,
    topk_group: ints.topk_group,
    routed_scaling_factor: f.ranged('routed_scaling_factor', 2.5),
    norm_topk_prob: f.bool('norm_topk_prob', true),
    scoring_func: scoring,
    moe_intermediate_size: ints.moe_intermediate_size,
    first_k_dense_replace: Math.min(fkd, L),
    aux_loss_alpha: f.ranged('aux_loss_alpha', 0),
    num_nextn_predict_layers: D,
    rope_theta: ropeTheta,
    rms_norm_eps: f.ranged('rms_norm_eps', 1e-6),
    initializer_range: f.ranged('initializer_range', 0.02),
  };
  return { model, ffn, vocabSize, ropeInterleave, fp8Block };
}
