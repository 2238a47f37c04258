// The run configuration: ONE zod schema, section by section. It drives validation, the CLI's
// `--set path=value`, presets, the page's panels and the share link; `RunConfig` and the section
// types are inferred from it. Model fields use Hugging Face DeepseekV3Config names; lab-only
// settings live in their own sections. Field order here is the order of canonical JSON.

import { z } from 'zod';
import {
  choice,
  newChoice,
  type ConfigPanel,
  type FieldSpec,
  fieldMeta,
  flag,
  float,
  int,
  newFlag,
  text,
} from './fields';

/** Largest user text corpus accepted, in characters. */
export const MAX_TEXT_CHARS = 4_000_000;

/** The toy reasoning tasks of the RL pipeline (their code: src/rl/tasks/). */
export const TASK_NAMES = ['addition', 'multiplication', 'countdown', 'chain-sum', 'sorting', 'modular'] as const;
export type RlTaskName = (typeof TASK_NAMES)[number];

// Model (Hugging Face DeepseekV3Config names).
const MLA = 'V3 eqs. 1–11';
const MOE = 'V3 eqs. 12–16';
const modelSection = z.strictObject({
  hidden_size: int(8, 4096, 'model width d', { label: 'model width', basic: true }),
  num_hidden_layers: int(1, 64, 'number of transformer blocks', { label: 'layers', basic: true }),
  num_attention_heads: int(1, 128, 'query heads; must divide hidden_size', { label: 'attention heads', basic: true }),
  num_key_value_heads: int(1, 128, 'key/value heads (GQA); must divide num_attention_heads', {
    label: 'key/value heads',
  }),
  q_lora_rank: int(0, 4096, 'MLA: rank of the low-rank query (0 = a direct q_proj)', {
    label: 'query compression rank',
    note: `queries pass through a low-rank bottleneck of this width, d_c′, and a norm (V3: 1536; 0 = none) · ${MLA}`,
  }),
  kv_lora_rank: int(1, 4096, 'MLA: width of the latent c that the KV cache stores', {
    label: 'KV latent width',
    basic: true,
    note: `keys and values are rebuilt from one latent c_KV of this width, all the cache stores (V3: 512) · ${MLA}`,
  }),
  qk_nope_head_dim: int(1, 512, 'MLA: per-head query/key dims without RoPE', {
    label: 'key dims (no position)',
    note: `per-head key/query dims up-projected from the latent, without RoPE (V3: 128) · ${MLA}`,
  }),
  qk_rope_head_dim: int(2, 512, 'MLA: per-head query dims with RoPE (one shared RoPE key); even', {
    label: 'key dims (RoPE)',
    note: `decoupled RoPE: one position key of this width, shared by all heads and cached beside the latent (V3: 64) · ${MLA}`,
  }),
  v_head_dim: int(1, 512, 'MLA: per-head value dims', {
    label: 'value dims per head',
    note: `per-head value width up-projected from the latent (V3: 128) · ${MLA}`,
  }),
  intermediate_size: int(4, 16_384, 'SwiGLU hidden width of the dense FFN', { label: 'dense FFN width' }),
  n_routed_experts: int(2, 512, 'MoE: routed experts per layer', {
    label: 'routed experts',
    basic: true,
    note: `fine-grained experts a token can be routed to (V3: 256 per layer) · ${MOE}`,
  }),
  n_shared_experts: int(0, 16, 'MoE: always-active shared experts (one MLP of n_shared·moe_intermediate_size)', {
    label: 'shared experts',
    basic: true,
    note: `experts every token passes through, beside the routed ones (V3: 1) · ${MOE}`,
  }),
  num_experts_per_tok: int(1, 64, 'MoE: routed experts per token (K)', {
    label: 'experts per token (top-K)',
    basic: true,
    note: `each token uses the K experts with the highest sigmoid score + balancing bias (V3: 8) · ${MOE}`,
  }),
  n_group: int(1, 64, 'MoE: expert groups for group-limited routing', {
    label: 'expert groups',
    note: "groups stand for the nodes of V3's node-limited routing: a token reaches few of them (V3: 8) · V3 §2.1.2",
  }),
  topk_group: int(1, 64, 'MoE: groups kept per token', {
    label: 'groups per token',
    note: 'a token may use only this many groups, ranked by the sum of their top-2 scores (V3: 4) · V3 §2.1.2',
  }),
  routed_scaling_factor: float(0.01, 100, "MoE: scale on the routed experts' weights", {
    label: 'routed output scale',
    note: `multiplies the routed experts' gate weights (V3 config: 2.5) · ${MOE}`,
  }),
  norm_topk_prob: flag("MoE: normalize the chosen experts' scores to sum to 1", {
    label: 'normalize top-K weights',
    note: `the chosen experts' sigmoid scores are divided by their sum (V3: on) · ${MOE}`,
  }),
  scoring_func: choice(['sigmoid', 'softmax'], 'MoE: gate scores (V3: sigmoid; V2: softmax)', {
    label: 'gate score function',
    note: `V3 scores each expert with an independent sigmoid; V2 used a softmax over experts · ${MOE}`,
  }),
  moe_intermediate_size: int(1, 16_384, 'MoE: SwiGLU hidden width of each expert', {
    label: 'expert FFN width',
    note: `each expert is a small SwiGLU MLP (V3: 2048, against 18432 for its dense layers) · ${MOE}`,
  }),
  first_k_dense_replace: int(0, 64, 'MoE: the first k layers keep a dense FFN', {
    label: 'dense layers first',
    note: 'V3 keeps a dense FFN in its first 3 of 61 layers, MoE after them · V3 config.json',
  }),
  aux_loss_alpha: float(0, 1, 'MoE: weight α of the sequence-wise balance loss (0 = off)', {
    label: 'balance loss weight α',
    live: true,
    note: 'a tiny complementary loss against imbalance within one sequence (V3: α = 1e-4) · V3 eqs. 17–20, §4.2',
  }),
  num_nextn_predict_layers: int(0, 4, 'MTP: depth D of multi-token prediction modules (0 = off; V3: 1)', {
    label: 'MTP depth',
    basic: true,
    note: 'D extra modules each predict one more token ahead, sharing embedding and head (V3: D = 1) · V3 §2.2, eqs. 21–25',
  }),
  rope_theta: float(1, 10_000_000, 'RoPE base θ', { label: 'RoPE base' }),
  rms_norm_eps: float(1e-12, 0.01, 'RMSNorm epsilon', { label: 'RMSNorm ε' }),
  initializer_range: float(0.00001, 1, 'std of the normal init of weights', { label: 'init std' }),
});

// Architecture choices (lab-only).
const archSection = z.strictObject({
  ffn: choice(
    ['dense', 'moe'],
    'dense: SwiGLU FFN in every layer; moe: DeepSeekMoE after the first_k_dense_replace layers',
    {
      label: 'feed-forward',
      basic: true,
      note: `DeepSeekMoE: shared experts plus K of many small routed experts per token · ${MOE}`,
    },
  ),
  attention: choice(
    ['mha', 'mla'],
    'mha: standard attention (GQA/MQA via num_key_value_heads); mla: multi-head latent attention',
    {
      label: 'attention type',
      basic: true,
      note: `MLA caches one compressed latent and one shared RoPE key per token instead of every head's K and V · ${MLA}`,
    },
  ),
});

// Precision of the linear layers inside the blocks (lab-only; spec §3).
const FP8 = 'V3 §3.3.2';
const precisionSection = z.strictObject({
  linear: choice(
    ['f32', 'lowp'],
    'f32, or block-scaled low precision (FP8 / MX) for every GEMM of the linear layers in the blocks',
    {
      label: 'linear-layer precision',
      basic: true,
      note: 'V3 runs the GEMMs of its linear layers in FP8 with fine-grained scaling, master weights in FP32 · V3 §3.3',
    },
  ),
  format: choice(['e4m3', 'e5m2', 'e2m1'], 'element format of activations and weights (e2m1 = FP4, for MXFP4)', {
    label: 'number format',
    basic: true,
    note: `V3 uses E4M3 (more mantissa, max 448) for every GEMM input, not E5M2 · ${FP8}`,
  }),
  grad_format: choice(['e4m3', 'e5m2'], 'element format of output gradients in Dgrad and Wgrad (V3: e4m3)', {
    label: 'gradient format',
    note: `V3 keeps E4M3 for the gradients of the backward GEMMs too · ${FP8}`,
  }),
  block: int(32, 128, 'tile/block edge B: 32, 64 or 128 (V3: 128; MX: 32)', {
    label: 'scaling block size',
    basic: true,
    note: `one scale per 1×128 activation tile and 128×128 weight block (V3), or per 32 values (MX) · ${FP8}`,
  }),
  scale: choice(
    ['f32', 'ue8m0', 'mx'],
    'scale rule: amax/fmax in f32, rounded up to a power of two (UE8M0), or the OCP MX floor rule',
    {
      label: 'scale rule',
      basic: true,
      note: `amax/448 per block, computed online (V3), rounded up to a power of two (V3.1), or MX's floor rule · ${FP8}`,
    },
  ),
  weight_tiling: choice(['blocks', 'rows'], 'weights in B×B blocks (V3) or 1×B rows like activations (MX)', {
    label: 'weight scaling tiles',
    note: `V3 scales weights per 128×128 block, so one scale serves a block of outputs and inputs · ${FP8}`,
  }),
  accum_bits: int(
    0,
    23,
    'emulate an accumulator with this many mantissa bits (0 = f32; V3 reports ~14 for FP8 tensor cores)',
    {
      label: 'accumulator mantissa bits',
      note: 'FP8 tensor cores keep about 14 bits of the sum: ~2% error at K = 4096 · V3 §3.3.2, §3.5.2',
    },
  ),
  promote_every: int(
    0,
    65_536,
    'with a limited accumulator: promote partial sums to f32 every N_C elements (0 = never; V3: 128)',
    {
      label: 'promote sums to f32 every N',
      note: `partial sums are copied to FP32 registers every N_C = 128 elements, which restores the accuracy · ${FP8}`,
    },
  ),
  compute: newChoice(
    ['f32', 'f16'],
    'f32',
    'tiles of the f32 matmul kernel: f32, or f16 inputs with f32 sums where the adapter has shader-f16 (no loss scaling)',
    {
      label: 'matmul tile precision',
      note: 'half-precision GEMM inputs with f32 accumulation, like the BF16 baseline V3 measures FP8 against · V3 §3.3',
    },
  ),
});

const optimSection = z.strictObject({
  lr: float(0, 1, 'peak learning rate', { label: 'learning rate', basic: true, live: true }),
  beta1: float(0, 0.9999, 'AdamW β1', { label: 'momentum β1', live: true }),
  beta2: float(0, 0.99999, 'AdamW β2', { label: 'second moment β2', live: true }),
  eps: float(1e-12, 0.01, 'AdamW ε', { label: 'AdamW ε', live: true }),
  weight_decay: float(0, 1, 'decoupled weight decay', { label: 'decoupled weight decay', basic: true, live: true }),
  clip_norm: float(0, 1_000_000, 'global grad-norm clip (0 = off)', { label: 'gradient clip', live: true }),
  schedule: choice(['cosine', 'wsd'], 'warmup+cosine, or warmup-stable-decay', {
    label: 'LR schedule',
    basic: true,
    live: true,
  }),
  warmup_steps: int(0, 1_000_000, 'linear warmup steps', { label: 'LR warmup steps', basic: true, live: true }),
  min_lr_ratio: float(0, 1, 'final lr as a fraction of the peak', { label: 'final LR / peak', live: true }),
  decay_fraction: float(0, 1, 'WSD: fraction of steps spent decaying', { label: 'decay share', live: true }),
});

const dataSection = z.strictObject({
  corpus: choice(
    ['grammar', 'arith', 'text', 'task'],
    "built-in synthetic corpus, your own text, or the RL task's pretraining text (rl.task)",
    { label: 'training text', basic: true },
  ),
  text: text(MAX_TEXT_CHARS, 'the text for corpus "text"', { label: 'your text', basic: true }),
  corpus_chars: int(1000, MAX_TEXT_CHARS, 'size of a generated corpus', { label: 'generated characters' }),
  seq_len: int(2, 4096, 'tokens per training sequence', { label: 'context length', basic: true }),
  batch_size: int(1, 4096, 'sequences per step', { label: 'sequences per step', basic: true }),
  val_fraction: float(0.01, 0.5, 'held-out share of the corpus', { label: 'validation share' }),
});

const trainSection = z.strictObject({
  steps: int(1, 10_000_000, 'optimizer steps', { label: 'training steps', basic: true }),
  log_every: int(1, 100_000, 'steps between metric readbacks', { label: 'metrics every N steps', live: true }),
  eval_every: int(1, 100_000, 'steps between validation losses', { label: 'validation every N steps', live: true }),
  eval_batches: int(1, 1000, 'batches per validation loss', { label: 'validation batches' }),
  mtp_lambda: float(0, 10, 'MTP: weight λ of the MTP losses, L = L_main + (λ/D)·Σ L_k (V3: 0.3, later 0.1)', {
    label: 'MTP loss weight λ',
    basic: true,
    live: true,
    note: 'how much the extra-token predictions count in the loss (V3: 0.3, then 0.1) · V3 §2.2, §4.2',
  }),
  bias_update_speed: float(0, 1, 'MoE loss-free balancing: γ in b += γ·sign(mean load − load) (0 = off)', {
    label: 'bias update speed γ',
    basic: true,
    live: true,
    note: "after each step a busy expert's routing bias drops by γ, an idle one's rises; no loss (V3: 0.001) · V3 §4.2; arXiv 2408.15664 Alg. 1",
  }),
  checkpoint_every: int(1, 1_000_000, 'steps between host checkpoints (device-loss recovery)', {
    label: 'checkpoint every N steps',
    live: true,
  }),
});

// Reasoning RL (R1-style; spec §5–§6). With rl.mode "pipeline" a run is: pretrain (train.steps
// on the task corpus) → optional cold-start SFT (rl.sft_steps; 0 = the R1-Zero path) → GRPO.
const R1 = 'R1 (Nature) Methods';
const DSM = 'DeepSeekMath eqs. 3–4';
const rlSection = z.strictObject({
  mode: choice(['off', 'pipeline'], 'off: language-model training only; pipeline: pretrain → (SFT) → GRPO on rl.task', {
    label: 'reasoning RL',
    basic: true,
    note: `R1's recipe at toy size: a base model, then RL with rule-based rewards and no reward model · ${R1}`,
  }),
  task: choice(TASK_NAMES, 'Pipeline: the toy reasoning task (prompts, verifier, pretraining text)', {
    label: 'toy reasoning task',
    basic: true,
  }),
  difficulty: int(1, 5, 'Pipeline: task difficulty (e.g. digits for addition)', {
    label: 'task difficulty',
    basic: true,
  }),
  template_share: float(
    0,
    1,
    'Pipeline: pretraining: share of lines in the template with an empty <think> (what gives the base a small, non-zero success rate)',
    { label: 'template lines in pretraining' },
  ),
  sft_steps: int(0, 1_000_000, 'Pipeline: cold-start SFT steps on worked solutions (0 = R1-Zero: straight to RL)', {
    label: 'cold-start SFT steps',
    basic: true,
    note: `0 is R1-Zero: RL straight from the base model; more is a cold start on worked solutions first · ${R1}`,
  }),
  reset_optimizer: newFlag(
    false,
    "Pipeline: fresh AdamW moments at the start of the SFT and GRPO stages (off, the default: pretraining's moments carry over; on grpo-micro a fresh start made no difference at lr 2e-4 or 5e-5 and collapsed faster at 1e-3)",
    { label: 'fresh optimizer per stage' },
  ),
  sft_lr: float(0, 1, 'Pipeline: constant learning rate of the SFT stage', { label: 'SFT learning rate', live: true }),
  sft_examples: int(1, 100_000, 'Pipeline: worked solutions in the cold-start set', {
    label: 'worked solutions for SFT',
  }),
  grpo_steps: int(0, 1_000_000, 'Pipeline: GRPO steps (one rollout batch each)', {
    label: 'RL (GRPO) steps',
    basic: true,
    note: `one rollout batch and update each (R1-Zero: 10,400 steps of 32 questions) · ${R1}`,
  }),
  lr: float(0, 1, 'Pipeline: constant learning rate of the GRPO stage', {
    label: 'GRPO learning rate',
    basic: true,
    live: true,
    note: `R1-Zero: 3e-6, DeepSeekMath: 1e-6; a toy model needs far more · ${R1}; DeepSeekMath §4.2`,
  }),
  prompts_per_step: int(1, 256, 'Pipeline: prompts per GRPO step', {
    label: 'questions per RL step',
    live: true,
    note: `questions per rollout batch (R1-Zero: 32) · ${R1}`,
  }),
  group_size: int(2, 64, 'Pipeline: G: completions sampled per prompt', {
    label: 'group size G',
    basic: true,
    live: true,
    note: `G answers per prompt, each scored against its group's mean: no critic needed (R1-Zero: 16) · ${DSM}; ${R1}`,
  }),
  max_new_tokens: int(
    4,
    1024,
    'Pipeline: completion budget (L_max); a completion without </answer> by then is truncated',
    { label: 'completion length', note: `R1-Zero: 32,768 tokens, later 65,536 · ${R1}` },
  ),
  temperature: float(0.05, 2, 'Pipeline: rollout sampling temperature (R1: 1)', {
    label: 'sampling temperature',
    live: true,
    note: `rollouts are sampled at temperature 1 in R1-Zero · ${R1}`,
  }),
  reward: choice(
    ['r1', 'strict', 'partial'],
    'Pipeline: r1: w_acc·accuracy + w_fmt·format; strict (Dr. GRPO): 1 only for a correct answer in the right format; partial (TinyZero): 1 correct, 0.1 wrong answer in tags, 0 none',
    {
      label: 'reward rule',
      basic: true,
      live: true,
      note: `rules, not a reward model: R1 adds accuracy and format with the same weight · ${R1}`,
    },
  ),
  accuracy_weight: float(0, 10, 'Pipeline: r1 reward: weight of accuracy', {
    label: 'accuracy reward weight',
    live: true,
    note: `R1 weighs accuracy and format the same · ${R1}`,
  }),
  format_weight: float(0, 10, 'Pipeline: r1 reward: weight of the format reward', {
    label: 'format reward weight',
    live: true,
    note: `the reward for <think>…</think><answer>…</answer> in R1's template · ${R1}; R1 Table 1`,
  }),
  overlong_penalty: flag(
    'Pipeline: DAPO soft overlong punishment over the last rl.overlong_cache tokens of the budget',
    {
      label: 'soft length penalty',
      live: true,
      note: 'DAPO: a penalty growing linearly over the last L_c tokens of the budget, instead of a cliff · DAPO §3, eq. 13',
    },
  ),
  overlong_cache: int(1, 1024, 'Pipeline: DAPO L_cache: length of the punishment zone', {
    label: 'overlong zone L_c',
    live: true,
    note: 'length of the penalty zone (DAPO: 4096 of 20480) · DAPO §3, eq. 13',
  }),
  advantage: choice(['std', 'mean'], 'Pipeline: std: (r − mean)/(std + ε) (GRPO); mean: r − mean (Dr. GRPO)', {
    label: 'advantage estimate',
    live: true,
    note: `GRPO divides by the group's std; Dr. GRPO only subtracts the mean · ${DSM}; Dr. GRPO`,
  }),
  eps_low: float(0, 1, 'Pipeline: clip range below: ρ ≥ 1 − ε_low', {
    label: 'clip ε (low)',
    live: true,
    note: `PPO clip: the objective stops rewarding a token's probability ratio below 1 − ε · ${DSM}`,
  }),
  eps_high: float(0, 10, 'Pipeline: clip range above: ρ ≤ 1 + ε_high (DAPO clip-higher: 0.28)', {
    label: 'clip ε (high)',
    live: true,
    note: 'clip-higher: a looser upper clip leaves unlikely tokens room to grow (DAPO: 0.28) · DAPO §3',
  }),
  mu: int(1, 16, 'Pipeline: μ: policy updates per rollout batch (π_old fixed across them)', {
    label: 'updates per batch μ',
    live: true,
    note: 'DeepSeekMath: 1 (on-policy); more reuses a batch off-policy (DAPO: 16) · DeepSeekMath §4.2; DAPO §4.1',
  }),
  beta: float(
    0,
    1,
    'Pipeline: β of the k3 KL penalty against the reference policy (DeepSeekMath 0.04, R1-Zero 0.001, DAPO/Dr. GRPO 0)',
    {
      label: 'KL weight β',
      basic: true,
      live: true,
      note: `keeps the policy near the reference model (DeepSeekMath 0.04, R1-Zero 0.001, DAPO 0) · ${DSM}; ${R1}`,
    },
  ),
  ref_reset_every: int(
    0,
    1_000_000,
    'Pipeline: replace the reference policy by the current one every N GRPO steps (0 = never; R1: 400)',
    {
      label: 'reset KL reference every N',
      live: true,
      note: `R1-Zero replaced the KL reference by the current policy every 400 steps · ${R1}`,
    },
  ),
  loss_norm: choice(
    ['sequence', 'token', 'constant'],
    'Pipeline: sequence: 1/|o_i| per completion (GRPO); token: 1/Σ|o_i| (DAPO); constant: 1/L_max (Dr. GRPO)',
    {
      label: 'loss averaging',
      live: true,
      note: `per completion (GRPO), per token of the batch (DAPO), or by a constant (Dr. GRPO) · ${DSM}; DAPO §3`,
    },
  ),
  dynamic_sampling: flag('Pipeline: DAPO: drop groups whose completions are all right or all wrong', {
    label: 'skip uninformative groups',
    live: true,
    note: 'groups all right or all wrong have zero advantage and teach nothing: DAPO drops them · DAPO §3',
  }),
  eval_prompts: int(1, 4096, 'Pipeline: held-out prompts for accuracy (greedy and pass@k)', {
    label: 'held-out prompts',
  }),
  pass_k: int(1, 64, 'Pipeline: k of pass@k on the held-out prompts (samples at rl.temperature)', {
    label: 'pass@k: k',
  }),
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

/** Fields split into the basic group (shown) and the advanced one (folded), each in the given order. */
export function fieldGroups(fields: readonly FieldSpec[]): { basic: FieldSpec[]; advanced: FieldSpec[] } {
  return { basic: fields.filter((f) => f.basic), advanced: fields.filter((f) => !f.basic) };
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
