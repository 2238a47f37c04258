// The run configuration: ONE zod schema, section by section. It drives validation, the CLI's
// `--set path=value`, presets, the page's panels and the share link; `RunConfig` and the section
// types are inferred from it. Model fields use Hugging Face DeepseekV3Config names; lab-only
// settings live in their own sections. Field order here is the order of canonical JSON.

import { z } from 'zod';
import { choice, type ConfigPanel, type FieldSpec, fieldMeta, flag, float, int, newFlag, text } from './fields';

/** Largest user text corpus accepted, in characters. */
export const MAX_TEXT_CHARS = 4_000_000;

/** The toy reasoning tasks of the RL pipeline (their code: src/rl/tasks/). */
export const TASK_NAMES = ['addition', 'multiplication', 'countdown', 'chain-sum', 'sorting', 'modular'] as const;
export type RlTaskName = (typeof TASK_NAMES)[number];

// Model (Hugging Face DeepseekV3Config names).
const modelSection = z.strictObject({
  hidden_size: int(8, 4096, 'model width d'),
  num_hidden_layers: int(1, 64, 'number of transformer blocks'),
  num_attention_heads: int(1, 128, 'query heads; must divide hidden_size'),
  num_key_value_heads: int(1, 128, 'key/value heads (GQA); must divide num_attention_heads'),
  q_lora_rank: int(0, 4096, 'MLA: rank of the low-rank query (0 = a direct q_proj)'),
  kv_lora_rank: int(1, 4096, 'MLA: width of the latent c that the KV cache stores'),
  qk_nope_head_dim: int(1, 512, 'MLA: per-head query/key dims without RoPE'),
  qk_rope_head_dim: int(2, 512, 'MLA: per-head query dims with RoPE (one shared RoPE key); even'),
  v_head_dim: int(1, 512, 'MLA: per-head value dims'),
  intermediate_size: int(4, 16_384, 'SwiGLU hidden width of the dense FFN'),
  n_routed_experts: int(2, 512, 'MoE: routed experts per layer'),
  n_shared_experts: int(0, 16, 'MoE: always-active shared experts (one MLP of n_shared·moe_intermediate_size)'),
  num_experts_per_tok: int(1, 64, 'MoE: routed experts per token (K)'),
  n_group: int(1, 64, 'MoE: expert groups for group-limited routing'),
  topk_group: int(1, 64, 'MoE: groups kept per token'),
  routed_scaling_factor: float(0.01, 100, "MoE: scale on the routed experts' weights"),
  norm_topk_prob: flag("MoE: normalize the chosen experts' scores to sum to 1"),
  scoring_func: choice(['sigmoid', 'softmax'], 'MoE: gate scores (V3: sigmoid; V2: softmax)'),
  moe_intermediate_size: int(1, 16_384, 'MoE: SwiGLU hidden width of each expert'),
  first_k_dense_replace: int(0, 64, 'MoE: the first k layers keep a dense FFN'),
  aux_loss_alpha: float(0, 1, 'MoE: weight α of the sequence-wise balance loss (0 = off)', { live: true }),
  num_nextn_predict_layers: int(0, 4, 'MTP: depth D of multi-token prediction modules (0 = off; V3: 1)'),
  rope_theta: float(1, 10_000_000, 'RoPE base θ'),
  rms_norm_eps: float(1e-12, 0.01, 'RMSNorm epsilon'),
  initializer_range: float(0.00001, 1, 'std of the normal init of weights'),
});

// Architecture choices (lab-only).
const archSection = z.strictObject({
  ffn: choice(
    ['dense', 'moe'],
    'dense: SwiGLU FFN in every layer; moe: DeepSeekMoE after the first_k_dense_replace layers',
  ),
  attention: choice(
    ['mha', 'mla'],
    'mha: standard attention (GQA/MQA via num_key_value_heads); mla: multi-head latent attention',
  ),
});

// Precision of the linear layers inside the blocks (lab-only; spec §3).
const precisionSection = z.strictObject({
  linear: choice(
    ['f32', 'lowp'],
    'f32, or block-scaled low precision (FP8 / MX) for every GEMM of the linear layers in the blocks',
  ),
  format: choice(['e4m3', 'e5m2', 'e2m1'], 'element format of activations and weights (e2m1 = FP4, for MXFP4)'),
  grad_format: choice(['e4m3', 'e5m2'], 'element format of output gradients in Dgrad and Wgrad (V3: e4m3)'),
  block: int(32, 128, 'tile/block edge B: 32, 64 or 128 (V3: 128; MX: 32)'),
  scale: choice(
    ['f32', 'ue8m0', 'mx'],
    'scale rule: amax/fmax in f32, rounded up to a power of two (UE8M0), or the OCP MX floor rule',
  ),
  weight_tiling: choice(['blocks', 'rows'], 'weights in B×B blocks (V3) or 1×B rows like activations (MX)'),
  accum_bits: int(
    0,
    23,
    'emulate an accumulator with this many mantissa bits (0 = f32; V3 reports ~14 for FP8 tensor cores)',
  ),
  promote_every: int(
    0,
    65_536,
    'with a limited accumulator: promote partial sums to f32 every N_C elements (0 = never; V3: 128)',
  ),
});

const optimSection = z.strictObject({
  lr: float(0, 1, 'peak learning rate', { live: true }),
  beta1: float(0, 0.9999, 'AdamW β1', { live: true }),
  beta2: float(0, 0.99999, 'AdamW β2', { live: true }),
  eps: float(1e-12, 0.01, 'AdamW ε', { live: true }),
  weight_decay: float(0, 1, 'decoupled weight decay', { live: true }),
  clip_norm: float(0, 1_000_000, 'global grad-norm clip (0 = off)', { live: true }),
  schedule: choice(['cosine', 'wsd'], 'warmup+cosine, or warmup-stable-decay', { live: true }),
  warmup_steps: int(0, 1_000_000, 'linear warmup steps', { live: true }),
  min_lr_ratio: float(0, 1, 'final lr as a fraction of the peak', { live: true }),
  decay_fraction: float(0, 1, 'WSD: fraction of steps spent decaying', { live: true }),
});

const dataSection = z.strictObject({
  corpus: choice(
    ['grammar', 'arith', 'text', 'task'],
    "built-in synthetic corpus, your own text, or the RL task's pretraining text (rl.task)",
  ),
  text: text(MAX_TEXT_CHARS, 'the text for corpus "text"'),
  corpus_chars: int(1000, MAX_TEXT_CHARS, 'size of a generated corpus'),
  seq_len: int(2, 4096, 'tokens per training sequence'),
  batch_size: int(1, 4096, 'sequences per step'),
  val_fraction: float(0.01, 0.5, 'held-out share of the corpus'),
});

const trainSection = z.strictObject({
  steps: int(1, 10_000_000, 'optimizer steps'),
  log_every: int(1, 100_000, 'steps between metric readbacks', { live: true }),
  eval_every: int(1, 100_000, 'steps between validation losses', { live: true }),
  eval_batches: int(1, 1000, 'batches per validation loss'),
  mtp_lambda: float(0, 10, 'MTP: weight λ of the MTP losses, L = L_main + (λ/D)·Σ L_k (V3: 0.3, later 0.1)', {
    live: true,
  }),
  bias_update_speed: float(0, 1, 'MoE loss-free balancing: γ in b += γ·sign(mean load − load) (0 = off)', {
    live: true,
  }),
  checkpoint_every: int(1, 1_000_000, 'steps between host checkpoints (device-loss recovery)', { live: true }),
});

// Reasoning RL (R1-style; spec §5–§6). With rl.mode "pipeline" a run is: pretrain (train.steps
// on the task corpus) → optional cold-start SFT (rl.sft_steps; 0 = the R1-Zero path) → GRPO.
const rlSection = z.strictObject({
  mode: choice(['off', 'pipeline'], 'off: language-model training only; pipeline: pretrain → (SFT) → GRPO on rl.task'),
  task: choice(TASK_NAMES, 'Pipeline: the toy reasoning task (prompts, verifier, pretraining text)'),
  difficulty: int(1, 5, 'Pipeline: task difficulty (e.g. digits for addition)'),
  template_share: float(
    0,
    1,
    'Pipeline: pretraining: share of lines in the template with an empty <think> (what gives the base a small, non-zero success rate)',
  ),
  sft_steps: int(0, 1_000_000, 'Pipeline: cold-start SFT steps on worked solutions (0 = R1-Zero: straight to RL)'),
  reset_optimizer: newFlag(
    false,
    "Pipeline: fresh AdamW moments at the start of the SFT and GRPO stages (off, the default: pretraining's moments carry over; on grpo-micro a fresh start made no difference at lr 2e-4 or 5e-5 and collapsed faster at 1e-3)",
  ),
  sft_lr: float(0, 1, 'Pipeline: constant learning rate of the SFT stage', { live: true }),
  sft_examples: int(1, 100_000, 'Pipeline: worked solutions in the cold-start set'),
  grpo_steps: int(0, 1_000_000, 'Pipeline: GRPO steps (one rollout batch each)'),
  lr: float(0, 1, 'Pipeline: constant learning rate of the GRPO stage', { live: true }),
  prompts_per_step: int(1, 256, 'Pipeline: prompts per GRPO step', { live: true }),
  group_size: int(2, 64, 'Pipeline: G: completions sampled per prompt', { live: true }),
  max_new_tokens: int(
    4,
    1024,
    'Pipeline: completion budget (L_max); a completion without </answer> by then is truncated',
  ),
  temperature: float(0.05, 2, 'Pipeline: rollout sampling temperature (R1: 1)', { live: true }),
  reward: choice(
    ['r1', 'strict', 'partial'],
    'Pipeline: r1: w_acc·accuracy + w_fmt·format; strict (Dr. GRPO): 1 only for a correct answer in the right format; partial (TinyZero): 1 correct, 0.1 wrong answer in tags, 0 none',
    { live: true },
  ),
  accuracy_weight: float(0, 10, 'Pipeline: r1 reward: weight of accuracy', { live: true }),
  format_weight: float(0, 10, 'Pipeline: r1 reward: weight of the format reward', { live: true }),
  overlong_penalty: flag(
    'Pipeline: DAPO soft overlong punishment over the last rl.overlong_cache tokens of the budget',
    { live: true },
  ),
  overlong_cache: int(1, 1024, 'Pipeline: DAPO L_cache: length of the punishment zone', { live: true }),
  advantage: choice(['std', 'mean'], 'Pipeline: std: (r − mean)/(std + ε) (GRPO); mean: r − mean (Dr. GRPO)', {
    live: true,
  }),
  eps_low: float(0, 1, 'Pipeline: clip range below: ρ ≥ 1 − ε_low', { live: true }),
  eps_high: float(0, 10, 'Pipeline: clip range above: ρ ≤ 1 + ε_high (DAPO clip-higher: 0.28)', { live: true }),
  mu: int(1, 16, 'Pipeline: μ: policy updates per rollout batch (π_old fixed across them)', { live: true }),
  beta: float(
    0,
    1,
    'Pipeline: β of the k3 KL penalty against the reference policy (DeepSeekMath 0.04, R1-Zero 0.001, DAPO/Dr. GRPO 0)',
    { live: true },
  ),
  ref_reset_every: int(
    0,
    1_000_000,
    'Pipeline: replace the reference policy by the current one every N GRPO steps (0 = never; R1: 400)',
    { live: true },
  ),
  loss_norm: choice(
    ['sequence', 'token', 'constant'],
    'Pipeline: sequence: 1/|o_i| per completion (GRPO); token: 1/Σ|o_i| (DAPO); constant: 1/L_max (Dr. GRPO)',
    { live: true },
  ),
  dynamic_sampling: flag('Pipeline: DAPO: drop groups whose completions are all right or all wrong', { live: true }),
  eval_prompts: int(1, 4096, 'Pipeline: held-out prompts for accuracy (greedy and pass@k)'),
  pass_k: int(1, 64, 'Pipeline: k of pass@k on the held-out prompts (samples at rl.temperature)'),
});

/** The whole config (strict: unknown sections and keys are errors). */
export const RunConfigSchema = z.strictObject({
  model: modelSection,
  arch: archSection,
  precision: precisionSection,
  optim: optimSection,
  data: dataSection,
  train: trainSection,
  rl: rlSection,
});

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type ModelSection = RunConfig['model'];
export type ArchSection = RunConfig['arch'];
export type PrecisionSection = RunConfig['precision'];
export type RlSection = RunConfig['rl'];
export type SectionName = keyof RunConfig;
/** A dotted config path, e.g. "optim.lr". */
export type FieldPath = { [S in SectionName]: `${S}.${keyof RunConfig[S] & string}` }[SectionName];

const PANEL_OF_SECTION: Record<SectionName, ConfigPanel> = {
  model: 'model',
  arch: 'model',
  precision: 'precision',
  optim: 'optim',
  train: 'optim',
  data: 'data',
  rl: 'rl',
};

/** Every field, in schema order, with its path, metadata and panel. */
export const FIELDS: readonly FieldSpec[] = Object.entries(RunConfigSchema.shape).flatMap(([sec, section]) =>
  Object.entries(section.shape).map(([key, schema]) => {
    const meta = fieldMeta.get(schema);
    if (!meta) throw new Error(`config schema: ${sec}.${key} was not built with a field builder`);
    return { ...meta, path: `${sec}.${key}`, panel: PANEL_OF_SECTION[sec as SectionName] };
  }),
);

export function findField(path: string): FieldSpec | undefined {
  return FIELDS.find((f) => f.path === path);
}

/** The fields of one panel, in schema order. */
export function panelFields(panel: ConfigPanel): FieldSpec[] {
  return FIELDS.filter((f) => f.panel === panel);
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
  reset_optimizer: false,
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
