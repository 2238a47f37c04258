// The run configuration: ONE typed list of fields. It drives validation (zod), the CLI's
// `--set path=value`, presets, and (later) the page's panels and the share link. Model fields
// use Hugging Face DeepseekV3Config names; lab-only settings live in their own sections.

import { z } from 'zod';

type FieldKind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'float'; min: number; max: number }
  | { kind: 'enum'; options: readonly string[] }
  | { kind: 'bool' }
  | { kind: 'string'; maxLength: number };

export type FieldSpec = FieldKind & {
  path: string;
  help: string;
  /** Safe to change while a run is going (applies at the next step). */
  live: boolean;
};

/** Largest user text corpus accepted, in characters. */
export const MAX_TEXT_CHARS = 4_000_000;

export const FIELDS: readonly FieldSpec[] = [
  // model (HF DeepseekV3Config names)
  { path: 'model.hidden_size', kind: 'int', min: 8, max: 4096, live: false, help: 'model width d' },
  { path: 'model.num_hidden_layers', kind: 'int', min: 1, max: 64, live: false, help: 'number of transformer blocks' },
  {
    path: 'model.num_attention_heads',
    kind: 'int',
    min: 1,
    max: 128,
    live: false,
    help: 'query heads; must divide hidden_size',
  },
  {
    path: 'model.num_key_value_heads',
    kind: 'int',
    min: 1,
    max: 128,
    live: false,
    help: 'key/value heads (GQA); must divide num_attention_heads',
  },
  {
    path: 'model.q_lora_rank',
    kind: 'int',
    min: 0,
    max: 4096,
    live: false,
    help: 'MLA: rank of the low-rank query (0 = a direct q_proj)',
  },
  {
    path: 'model.kv_lora_rank',
    kind: 'int',
    min: 1,
    max: 4096,
    live: false,
    help: 'MLA: width of the latent c that the KV cache stores',
  },
  {
    path: 'model.qk_nope_head_dim',
    kind: 'int',
    min: 1,
    max: 512,
    live: false,
    help: 'MLA: per-head query/key dims without RoPE',
  },
  {
    path: 'model.qk_rope_head_dim',
    kind: 'int',
    min: 2,
    max: 512,
    live: false,
    help: 'MLA: per-head query dims with RoPE (one shared RoPE key); even',
  },
  { path: 'model.v_head_dim', kind: 'int', min: 1, max: 512, live: false, help: 'MLA: per-head value dims' },
  {
    path: 'model.intermediate_size',
    kind: 'int',
    min: 4,
    max: 16384,
    live: false,
    help: 'SwiGLU hidden width of the dense FFN',
  },
  { path: 'model.n_routed_experts', kind: 'int', min: 2, max: 512, live: false, help: 'MoE: routed experts per layer' },
  {
    path: 'model.n_shared_experts',
    kind: 'int',
    min: 0,
    max: 16,
    live: false,
    help: 'MoE: always-active shared experts (one MLP of n_shared·moe_intermediate_size)',
  },
  {
    path: 'model.num_experts_per_tok',
    kind: 'int',
    min: 1,
    max: 64,
    live: false,
    help: 'MoE: routed experts per token (K)',
  },
  {
    path: 'model.n_group',
    kind: 'int',
    min: 1,
    max: 64,
    live: false,
    help: 'MoE: expert groups for group-limited routing',
  },
  { path: 'model.topk_group', kind: 'int', min: 1, max: 64, live: false, help: 'MoE: groups kept per token' },
  {
    path: 'model.routed_scaling_factor',
    kind: 'float',
    min: 0.01,
    max: 100,
    live: false,
    help: "MoE: scale on the routed experts' weights",
  },
  {
    path: 'model.norm_topk_prob',
    kind: 'bool',
    live: false,
    help: "MoE: normalize the chosen experts' scores to sum to 1",
  },
  {
    path: 'model.scoring_func',
    kind: 'enum',
    options: ['sigmoid', 'softmax'],
    live: false,
    help: 'MoE: gate scores (V3: sigmoid; V2: softmax)',
  },
  {
    path: 'model.moe_intermediate_size',
    kind: 'int',
    min: 1,
    max: 16384,
    live: false,
    help: 'MoE: SwiGLU hidden width of each expert',
  },
  {
    path: 'model.first_k_dense_replace',
    kind: 'int',
    min: 0,
    max: 64,
    live: false,
    help: 'MoE: the first k layers keep a dense FFN',
  },
  {
    path: 'model.aux_loss_alpha',
    kind: 'float',
    min: 0,
    max: 1,
    live: true,
    help: 'MoE: weight α of the sequence-wise balance loss (0 = off)',
  },
  {
    path: 'model.num_nextn_predict_layers',
    kind: 'int',
    min: 0,
    max: 4,
    live: false,
    help: 'MTP: depth D of multi-token prediction modules (0 = off; V3: 1)',
  },
  { path: 'model.rope_theta', kind: 'float', min: 1, max: 1e7, live: false, help: 'RoPE base θ' },
  { path: 'model.rms_norm_eps', kind: 'float', min: 1e-12, max: 1e-2, live: false, help: 'RMSNorm epsilon' },
  {
    path: 'model.initializer_range',
    kind: 'float',
    min: 1e-5,
    max: 1,
    live: false,
    help: 'std of the normal init of weights',
  },
  // architecture choices (lab-only)
  {
    path: 'arch.ffn',
    kind: 'enum',
    options: ['dense', 'moe'],
    live: false,
    help: 'dense: SwiGLU FFN in every layer; moe: DeepSeekMoE after the first_k_dense_replace layers',
  },
  {
    path: 'arch.attention',
    kind: 'enum',
    options: ['mha', 'mla'],
    live: false,
    help: 'mha: standard attention (GQA/MQA via num_key_value_heads); mla: multi-head latent attention',
  },
  // precision of the linear layers inside the blocks (lab-only; spec §3)
  {
    path: 'precision.linear',
    kind: 'enum',
    options: ['f32', 'lowp'],
    live: false,
    help: 'f32, or block-scaled low precision (FP8 / MX) for every GEMM of the linear layers in the blocks',
  },
  {
    path: 'precision.format',
    kind: 'enum',
    options: ['e4m3', 'e5m2', 'e2m1'],
    live: false,
    help: 'element format of activations and weights (e2m1 = FP4, for MXFP4)',
  },
  {
    path: 'precision.grad_format',
    kind: 'enum',
    options: ['e4m3', 'e5m2'],
    live: false,
    help: 'element format of output gradients in Dgrad and Wgrad (V3: e4m3)',
  },
  {
    path: 'precision.block',
    kind: 'int',
    min: 32,
    max: 128,
    live: false,
    help: 'tile/block edge B: 32, 64 or 128 (V3: 128; MX: 32)',
  },
  {
    path: 'precision.scale',
    kind: 'enum',
    options: ['f32', 'ue8m0', 'mx'],
    live: false,
    help: 'scale rule: amax/fmax in f32, rounded up to a power of two (UE8M0), or the OCP MX floor rule',
  },
  {
    path: 'precision.weight_tiling',
    kind: 'enum',
    options: ['blocks', 'rows'],
    live: false,
    help: 'weights in B×B blocks (V3) or 1×B rows like activations (MX)',
  },
  {
    path: 'precision.accum_bits',
    kind: 'int',
    min: 0,
    max: 23,
    live: false,
    help: 'emulate an accumulator with this many mantissa bits (0 = f32; V3 reports ~14 for FP8 tensor cores)',
  },
  {
    path: 'precision.promote_every',
    kind: 'int',
    min: 0,
    max: 65536,
    live: false,
    help: 'with a limited accumulator: promote partial sums to f32 every N_C elements (0 = never; V3: 128)',
  },
  // optimizer and schedule
  { path: 'optim.lr', kind: 'float', min: 0, max: 1, live: true, help: 'peak learning rate' },
  { path: 'optim.beta1', kind: 'float', min: 0, max: 0.9999, live: true, help: 'AdamW β1' },
  { path: 'optim.beta2', kind: 'float', min: 0, max: 0.99999, live: true, help: 'AdamW β2' },
  { path: 'optim.eps', kind: 'float', min: 1e-12, max: 1e-2, live: true, help: 'AdamW ε' },
  { path: 'optim.weight_decay', kind: 'float', min: 0, max: 1, live: true, help: 'decoupled weight decay' },
  { path: 'optim.clip_norm', kind: 'float', min: 0, max: 1e6, live: true, help: 'global grad-norm clip (0 = off)' },
  {
    path: 'optim.schedule',
    kind: 'enum',
    options: ['cosine', 'wsd'],
    live: true,
    help: 'warmup+cosine, or warmup-stable-decay',
  },
  { path: 'optim.warmup_steps', kind: 'int', min: 0, max: 1_000_000, live: true, help: 'linear warmup steps' },
  { path: 'optim.min_lr_ratio', kind: 'float', min: 0, max: 1, live: true, help: 'final lr as a fraction of the peak' },
  {
    path: 'optim.decay_fraction',
    kind: 'float',
    min: 0,
    max: 1,
    live: true,
    help: 'WSD: fraction of steps spent decaying',
  },
  // data
  {
    path: 'data.corpus',
    kind: 'enum',
    options: ['grammar', 'arith', 'text', 'task'],
    live: false,
    help: "built-in synthetic corpus, your own text, or the RL task's pretraining text (rl.task)",
  },
  { path: 'data.text', kind: 'string', maxLength: MAX_TEXT_CHARS, live: false, help: 'the text for corpus "text"' },
  {
    path: 'data.corpus_chars',
    kind: 'int',
    min: 1000,
    max: MAX_TEXT_CHARS,
    live: false,
    help: 'size of a generated corpus',
  },
  { path: 'data.seq_len', kind: 'int', min: 2, max: 4096, live: false, help: 'tokens per training sequence' },
  { path: 'data.batch_size', kind: 'int', min: 1, max: 4096, live: false, help: 'sequences per step' },
  { path: 'data.val_fraction', kind: 'float', min: 0.01, max: 0.5, live: false, help: 'held-out share of the corpus' },
  // training loop
  { path: 'train.steps', kind: 'int', min: 1, max: 10_000_000, live: false, help: 'optimizer steps' },
  { path: 'train.log_every', kind: 'int', min: 1, max: 100_000, live: true, help: 'steps between metric readbacks' },
  { path: 'train.eval_every', kind: 'int', min: 1, max: 100_000, live: true, help: 'steps between validation losses' },
  { path: 'train.eval_batches', kind: 'int', min: 1, max: 1000, live: false, help: 'batches per validation loss' },
  {
    path: 'train.mtp_lambda',
    kind: 'float',
    min: 0,
    max: 10,
    live: true,
    help: 'MTP: weight λ of the MTP losses, L = L_main + (λ/D)·Σ L_k (V3: 0.3, later 0.1)',
  },
  {
    path: 'train.bias_update_speed',
    kind: 'float',
    min: 0,
    max: 1,
    live: true,
    help: 'MoE loss-free balancing: γ in b += γ·sign(mean load − load) (0 = off)',
  },
  {
    path: 'train.checkpoint_every',
    kind: 'int',
    min: 1,
    max: 1_000_000,
    live: true,
    help: 'steps between host checkpoints (device-loss recovery)',
  },
  // reasoning RL (R1-style; spec §5–§6). With rl.mode "pipeline" a run is: pretrain (train.steps
  // on the task corpus) → optional cold-start SFT (rl.sft_steps; 0 = the R1-Zero path) → GRPO.
  {
    path: 'rl.mode',
    kind: 'enum',
    options: ['off', 'pipeline'],
    live: false,
    help: 'off: language-model training only; pipeline: pretrain → (SFT) → GRPO on rl.task',
  },
  {
    path: 'rl.task',
    kind: 'enum',
    options: ['addition', 'multiplication', 'countdown', 'chain-sum', 'sorting', 'modular'],
    live: false,
    help: 'Pipeline: the toy reasoning task (prompts, verifier, pretraining text)',
  },
  {
    path: 'rl.difficulty',
    kind: 'int',
    min: 1,
    max: 5,
    live: false,
    help: 'Pipeline: task difficulty (e.g. digits for addition)',
  },
  {
    path: 'rl.template_share',
    kind: 'float',
    min: 0,
    max: 1,
    live: false,
    help: 'Pipeline: pretraining: share of lines in the template with an empty <think> (what gives the base a small, non-zero success rate)',
  },
  {
    path: 'rl.sft_steps',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    live: false,
    help: 'Pipeline: cold-start SFT steps on worked solutions (0 = R1-Zero: straight to RL)',
  },
  {
    path: 'rl.sft_lr',
    kind: 'float',
    min: 0,
    max: 1,
    live: true,
    help: 'Pipeline: constant learning rate of the SFT stage',
  },
  {
    path: 'rl.sft_examples',
    kind: 'int',
    min: 1,
    max: 100_000,
    live: false,
    help: 'Pipeline: worked solutions in the cold-start set',
  },
  {
    path: 'rl.grpo_steps',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    live: false,
    help: 'Pipeline: GRPO steps (one rollout batch each)',
  },
  {
    path: 'rl.lr',
    kind: 'float',
    min: 0,
    max: 1,
    live: true,
    help: 'Pipeline: constant learning rate of the GRPO stage',
  },
  { path: 'rl.prompts_per_step', kind: 'int', min: 1, max: 256, live: true, help: 'Pipeline: prompts per GRPO step' },
  {
    path: 'rl.group_size',
    kind: 'int',
    min: 2,
    max: 64,
    live: true,
    help: 'Pipeline: G: completions sampled per prompt',
  },
  {
    path: 'rl.max_new_tokens',
    kind: 'int',
    min: 4,
    max: 1024,
    live: false,
    help: 'Pipeline: completion budget (L_max); a completion without </answer> by then is truncated',
  },
  {
    path: 'rl.temperature',
    kind: 'float',
    min: 0.05,
    max: 2,
    live: true,
    help: 'Pipeline: rollout sampling temperature (R1: 1)',
  },
  {
    path: 'rl.reward',
    kind: 'enum',
    options: ['r1', 'strict', 'partial'],
    live: true,
    help: 'Pipeline: r1: w_acc·accuracy + w_fmt·format; strict (Dr. GRPO): 1 only for a correct answer in the right format; partial (TinyZero): 1 correct, 0.1 wrong answer in tags, 0 none',
  },
  {
    path: 'rl.accuracy_weight',
    kind: 'float',
    min: 0,
    max: 10,
    live: true,
    help: 'Pipeline: r1 reward: weight of accuracy',
  },
  {
    path: 'rl.format_weight',
    kind: 'float',
    min: 0,
    max: 10,
    live: true,
    help: 'Pipeline: r1 reward: weight of the format reward',
  },
  {
    path: 'rl.overlong_penalty',
    kind: 'bool',
    live: true,
    help: 'Pipeline: DAPO soft overlong punishment over the last rl.overlong_cache tokens of the budget',
  },
  {
    path: 'rl.overlong_cache',
    kind: 'int',
    min: 1,
    max: 1024,
    live: true,
    help: 'Pipeline: DAPO L_cache: length of the punishment zone',
  },
  {
    path: 'rl.advantage',
    kind: 'enum',
    options: ['std', 'mean'],
    live: true,
    help: 'Pipeline: std: (r − mean)/(std + ε) (GRPO); mean: r − mean (Dr. GRPO)',
  },
  { path: 'rl.eps_low', kind: 'float', min: 0, max: 1, live: true, help: 'Pipeline: clip range below: ρ ≥ 1 − ε_low' },
  {
    path: 'rl.eps_high',
    kind: 'float',
    min: 0,
    max: 10,
    live: true,
    help: 'Pipeline: clip range above: ρ ≤ 1 + ε_high (DAPO clip-higher: 0.28)',
  },
  {
    path: 'rl.mu',
    kind: 'int',
    min: 1,
    max: 16,
    live: true,
    help: 'Pipeline: μ: policy updates per rollout batch (π_old fixed across them)',
  },
  {
    path: 'rl.beta',
    kind: 'float',
    min: 0,
    max: 1,
    live: true,
    help: 'Pipeline: β of the k3 KL penalty against the reference policy (DeepSeekMath 0.04, R1-Zero 0.001, DAPO/Dr. GRPO 0)',
  },
  {
    path: 'rl.ref_reset_every',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    live: true,
    help: 'Pipeline: replace the reference policy by the current one every N GRPO steps (0 = never; R1: 400)',
  },
  {
    path: 'rl.loss_norm',
    kind: 'enum',
    options: ['sequence', 'token', 'constant'],
    live: true,
    help: 'Pipeline: sequence: 1/|o_i| per completion (GRPO); token: 1/Σ|o_i| (DAPO); constant: 1/L_max (Dr. GRPO)',
  },
  {
    path: 'rl.dynamic_sampling',
    kind: 'bool',
    live: true,
    help: 'Pipeline: DAPO: drop groups whose completions are all right or all wrong',
  },
  {
    path: 'rl.eval_prompts',
    kind: 'int',
    min: 1,
    max: 4096,
    live: false,
    help: 'Pipeline: held-out prompts for accuracy (greedy and pass@k)',
  },
  {
    path: 'rl.pass_k',
    kind: 'int',
    min: 1,
    max: 64,
    live: false,
    help: 'Pipeline: k of pass@k on the held-out prompts (samples at rl.temperature)',
  },
];

export interface ModelSection {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  q_lora_rank: number;
  kv_lora_rank: number;
  qk_nope_head_dim: number;
  qk_rope_head_dim: number;
  v_head_dim: number;
  intermediate_size: number;
  n_routed_experts: number;
  n_shared_experts: number;
  num_experts_per_tok: number;
  n_group: number;
  topk_group: number;
  routed_scaling_factor: number;
  norm_topk_prob: boolean;
  scoring_func: 'sigmoid' | 'softmax';
  moe_intermediate_size: number;
  first_k_dense_replace: number;
  aux_loss_alpha: number;
  num_nextn_predict_layers: number;
  rope_theta: number;
  rms_norm_eps: number;
  initializer_range: number;
}

export interface ArchSection {
  attention: 'mha' | 'mla';
  ffn: 'dense' | 'moe';
}

export interface PrecisionSection {
  linear: 'f32' | 'lowp';
  format: 'e4m3' | 'e5m2' | 'e2m1';
  grad_format: 'e4m3' | 'e5m2';
  block: number;
  scale: 'f32' | 'ue8m0' | 'mx';
  weight_tiling: 'blocks' | 'rows';
  accum_bits: number;
  promote_every: number;
}

export interface RunConfig {
  model: ModelSection;
  arch: ArchSection;
  precision: PrecisionSection;
  optim: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weight_decay: number;
    clip_norm: number;
    schedule: 'cosine' | 'wsd';
    warmup_steps: number;
    min_lr_ratio: number;
    decay_fraction: number;
  };
  data: {
    corpus: 'grammar' | 'arith' | 'text' | 'task';
    text: string;
    corpus_chars: number;
    seq_len: number;
    batch_size: number;
    val_fraction: number;
  };
  train: {
    steps: number;
    log_every: number;
    eval_every: number;
    eval_batches: number;
    mtp_lambda: number;
    bias_update_speed: number;
    checkpoint_every: number;
  };
  rl: RlSection;
}

export type RlTaskName = 'addition' | 'multiplication' | 'countdown' | 'chain-sum' | 'sorting' | 'modular';

export interface RlSection {
  mode: 'off' | 'pipeline';
  task: RlTaskName;
  difficulty: number;
  template_share: number;
  sft_steps: number;
  sft_lr: number;
  sft_examples: number;
  grpo_steps: number;
  lr: number;
  prompts_per_step: number;
  group_size: number;
  max_new_tokens: number;
  temperature: number;
  reward: 'r1' | 'strict' | 'partial';
  accuracy_weight: number;
  format_weight: number;
  overlong_penalty: boolean;
  overlong_cache: number;
  advantage: 'std' | 'mean';
  eps_low: number;
  eps_high: number;
  mu: number;
  beta: number;
  ref_reset_every: number;
  loss_norm: 'sequence' | 'token' | 'constant';
  dynamic_sampling: boolean;
  eval_prompts: number;
  pass_k: number;
}

/**
 * The RL section's defaults (R1 / DeepSeekMath values where they fit a toy scale). Configs saved
 * before the section existed (links, run files, checkpoints) get these, with the mode off.
 */
export const RL_DEFAULTS: RlSection = {
  mode: 'off',
  task: 'addition',
  difficulty: 1,
  template_share: 0.1,
  sft_steps: 0,
  sft_lr: 1e-3,
  sft_examples: 256,
  grpo_steps: 0,
  lr: 1e-4,
  prompts_per_step: 4,
  group_size: 8,
  max_new_tokens: 32,
  temperature: 1,
  reward: 'r1',
  accuracy_weight: 1,
  format_weight: 1,
  overlong_penalty: false,
  overlong_cache: 8,
  advantage: 'std',
  eps_low: 0.2,
  eps_high: 0.2,
  mu: 1,
  beta: 0.04,
  ref_reset_every: 0,
  loss_norm: 'sequence',
  dynamic_sampling: false,
  eval_prompts: 32,
  pass_k: 4,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function fieldSchema(f: FieldSpec): z.ZodType {
  switch (f.kind) {
    case 'int':
      return z.number().int().min(f.min).max(f.max);
    case 'float':
      return z.number().finite().min(f.min).max(f.max);
    case 'enum':
      return z.enum(f.options as [string, ...string[]]);
    case 'bool':
      return z.boolean();
    case 'string':
      return z.string().max(f.maxLength);
  }
}

/** zod schema for the whole config, built from FIELDS (strict: unknown keys are errors). */
export const RunConfigSchema: z.ZodType<RunConfig> = (() => {
  const sections: Record<string, Record<string, z.ZodType>> = {};
  for (const f of FIELDS) {
    const [sec, key] = f.path.split('.');
    (sections[sec] ??= {})[key] = fieldSchema(f);
  }
  return z.strictObject(
    Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, z.strictObject(v)])),
  ) as unknown as z.ZodType<RunConfig>;
})();

/** The config with sections and keys in FIELDS order (stable JSON whatever built the object). */
export function canonicalConfig(c: RunConfig): RunConfig {
  const src = c as unknown as Record<string, Record<string, unknown>>;
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of FIELDS) {
    const [sec, key] = f.path.split('.');
    (out[sec] ??= {})[key] = src[sec]?.[key];
  }
  return out as unknown as RunConfig;
}

export function findField(path: string): FieldSpec | undefined {
  return FIELDS.find((f) => f.path === path);
}

/** Parse a value given as text (CLI, URL) for a field; errors name the field. */
export function parseFieldValue(path: string, raw: string | number | boolean): string | number | boolean {
  const f = findField(path);
  if (!f) {
    throw new ConfigError(`unknown config path "${path}" (known: ${FIELDS.map((x) => x.path).join(', ')})`);
  }
  if (f.kind === 'enum') {
    const s = String(raw);
    if (!f.options.includes(s)) throw new ConfigError(`${path}: "${s}" is not one of ${f.options.join(', ')}`);
    return s;
  }
  if (f.kind === 'string') return String(raw);
  if (f.kind === 'bool') {
    const b = String(raw).trim().toLowerCase();
    if (b === 'true' || b === '1') return true;
    if (b === 'false' || b === '0') return false;
    throw new ConfigError(`${path}: "${raw}" is not true or false`);
  }
  const s = String(raw).trim();
  const n = typeof raw === 'number' ? raw : s === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) throw new ConfigError(`${path}: "${raw}" is not a number`);
  if (f.kind === 'int' && !Number.isInteger(n)) throw new ConfigError(`${path}: ${raw} is not an integer`);
  if (n < f.min || n > f.max) throw new ConfigError(`${path}: ${n} is out of range [${f.min}, ${f.max}]`);
  return n;
}

/** A copy of cfg with dotted-path overrides applied and the result validated. */
export function applyOverrides(cfg: RunConfig, set: Record<string, string | number | boolean>): RunConfig {
  const out = structuredClone(cfg) as unknown as Record<string, Record<string, unknown>>;
  for (const [path, raw] of Object.entries(set)) {
    const v = parseFieldValue(path, raw);
    const [sec, key] = path.split('.');
    out[sec][key] = v;
  }
  return validateConfig(out);
}

/** Validate a whole config; the error names every bad field. Also checks cross-field rules. */
/** Optimizer steps of a whole run: train.steps, plus the SFT and GRPO stages of an RL pipeline. */
export function totalSteps(c: RunConfig): number {
  return c.train.steps + (c.rl.mode === 'pipeline' ? c.rl.sft_steps + c.rl.grpo_steps : 0);
}

export function validateConfig(raw: unknown): RunConfig {
  // Configs from before the RL section: add it with the defaults (RL off).
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('rl' in raw)) raw = { ...raw, rl: { ...RL_DEFAULTS } };
  const r = RunConfigSchema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid config: ${msgs.join('; ')}`);
  }
  const c = r.data;
  const m = c.model;
  const errs: string[] = [];
  if (c.arch.attention === 'mla' && m.qk_rope_head_dim % 2 !== 0)
    errs.push(`model.qk_rope_head_dim: ${m.qk_rope_head_dim} must be even for RoPE`);
  if (c.arch.attention === 'mha') {
    if (m.hidden_size % m.num_attention_heads !== 0)
      errs.push(
        `model.num_attention_heads: ${m.num_attention_heads} does not divide model.hidden_size ${m.hidden_size}`,
      );
    else if ((m.hidden_size / m.num_attention_heads) % 2 !== 0)
      errs.push(`model.num_attention_heads: head dim ${m.hidden_size / m.num_attention_heads} must be even for RoPE`);
    if (m.num_attention_heads % m.num_key_value_heads !== 0)
      errs.push(
        `model.num_key_value_heads: ${m.num_key_value_heads} does not divide model.num_attention_heads ${m.num_attention_heads}`,
      );
  }
  if (c.arch.ffn === 'moe') {
    const E = m.n_routed_experts;
    if (E % m.n_group !== 0) errs.push(`model.n_group: ${m.n_group} does not divide model.n_routed_experts ${E}`);
    else if (E / m.n_group < 2)
      errs.push(`model.n_group: ${m.n_group} groups of ${E} experts leave fewer than 2 experts per group`);
    else if (m.topk_group > m.n_group)
      errs.push(`model.topk_group: ${m.topk_group} is more than model.n_group ${m.n_group}`);
    else if (m.topk_group * (E / m.n_group) < m.num_experts_per_tok)
      errs.push(
        `model.num_experts_per_tok: ${m.num_experts_per_tok} is more than the ${m.topk_group * (E / m.n_group)} experts in the kept groups (topk_group·n_routed_experts/n_group)`,
      );
    if (m.first_k_dense_replace > m.num_hidden_layers)
      errs.push(
        `model.first_k_dense_replace: ${m.first_k_dense_replace} is more than model.num_hidden_layers ${m.num_hidden_layers}`,
      );
  }
  if (m.num_nextn_predict_layers >= c.data.seq_len)
    errs.push(
      `model.num_nextn_predict_layers: ${m.num_nextn_predict_layers} must be less than data.seq_len ${c.data.seq_len}`,
    );
  if (![32, 64, 128].includes(c.precision.block))
    errs.push(`precision.block: ${c.precision.block} is not one of 32, 64, 128`);
  if (c.data.corpus === 'text' && c.data.text.length === 0)
    errs.push('data.text: empty (data.corpus "text" needs your text)');
  if (c.rl.mode === 'pipeline' && c.data.corpus !== 'task')
    errs.push(
      `data.corpus: "${c.data.corpus}" — an RL pipeline pretrains on its task's text, so data.corpus must be "task"`,
    );
  if (c.data.corpus === 'task' && c.rl.mode === 'off')
    errs.push(
      'data.corpus: "task" is the RL pipeline\'s pretraining text; set rl.mode to "pipeline" (or pick another corpus)',
    );
  if (errs.length) throw new ConfigError(`invalid config: ${errs.join('; ')}`);
  return c;
}
