// Presets: named starting configs. A run = preset + seed + overrides.

import { RL_DEFAULTS, type RunConfig } from './schema';

export interface Preset {
  name: string;
  description: string;
  config: RunConfig;
}

const BASE_OPTIM: RunConfig['optim'] = {
  lr: 3e-3,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weight_decay: 0.1,
  clip_norm: 1.0,
  schedule: 'cosine',
  warmup_steps: 20,
  min_lr_ratio: 0.1,
  decay_fraction: 0.2,
};

/** The micro model: small enough to learn in about a minute on a software adapter. */
const MICRO_MODEL: RunConfig['model'] = {
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  q_lora_rank: 0,
  kv_lora_rank: 32,
  qk_nope_head_dim: 16,
  qk_rope_head_dim: 8,
  v_head_dim: 16,
  intermediate_size: 128,
  n_routed_experts: 8,
  n_shared_experts: 1,
  num_experts_per_tok: 2,
  n_group: 2,
  topk_group: 1,
  routed_scaling_factor: 1,
  norm_topk_prob: true,
  scoring_func: 'sigmoid',
  moe_intermediate_size: 32,
  first_k_dense_replace: 1,
  aux_loss_alpha: 0,
  num_nextn_predict_layers: 0,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.02,
};

const MICRO_DATA: RunConfig['data'] = {
  corpus: 'grammar',
  text: '',
  corpus_chars: 200_000,
  seq_len: 64,
  batch_size: 8,
  val_fraction: 0.1,
};
const MICRO_TRAIN: RunConfig['train'] = {
  steps: 300,
  log_every: 10,
  eval_every: 100,
  eval_batches: 4,
  mtp_lambda: 0.3,
  bias_update_speed: 0.001,
  checkpoint_every: 100,
};

/** A browser-sized model for real GPUs; the MHA and MLA variants differ only in attention. */
const SMALL_MODEL: RunConfig['model'] = {
  hidden_size: 128,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 8,
  q_lora_rank: 64,
  kv_lora_rank: 64,
  qk_nope_head_dim: 16,
  qk_rope_head_dim: 16,
  v_head_dim: 16,
  intermediate_size: 352,
  n_routed_experts: 16,
  n_shared_experts: 1,
  num_experts_per_tok: 4,
  n_group: 4,
  topk_group: 2,
  routed_scaling_factor: 1,
  norm_topk_prob: true,
  scoring_func: 'sigmoid',
  moe_intermediate_size: 88,
  first_k_dense_replace: 1,
  aux_loss_alpha: 0,
  num_nextn_predict_layers: 0,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.02,
};
const SMALL_DATA: RunConfig['data'] = {
  corpus: 'grammar',
  text: '',
  corpus_chars: 1_000_000,
  seq_len: 128,
  batch_size: 32,
  val_fraction: 0.05,
};
const SMALL_TRAIN: RunConfig['train'] = {
  steps: 2000,
  log_every: 20,
  eval_every: 200,
  eval_batches: 8,
  mtp_lambda: 0.3,
  bias_update_speed: 0.001,
  checkpoint_every: 200,
};

/** Every preset's default: f32 linears; the low-precision settings are V3's recipe, ready to switch on. */
const F32: RunConfig['precision'] = {
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

function preset(
  name: string,
  description: string,
  c: Omit<RunConfig, 'precision' | 'rl'> & { precision?: RunConfig['precision']; rl?: RunConfig['rl'] },
): Preset {
  return { name, description, config: { ...c, precision: c.precision ?? { ...F32 }, rl: c.rl ?? { ...RL_DEFAULTS } } };
}

/**
 * The balancing experiment of V3 / loss-free balancing, on micro-moe with the same seed:
 * loss-free (bias, γ = 0.001, no aux loss), aux-loss only (no bias, α = 0.001: the classic
 * baseline at [HFC]'s α), and neither.
 */
function balancingAblation(): Preset[] {
  const arms: Array<[string, string, number, number]> = [
    ['balance-lossfree', 'balancing ablation 1/3: loss-free bias updates (γ=0.001), no aux loss', 0.001, 0],
    ['balance-aux', 'balancing ablation 2/3: sequence-wise aux loss only (α=0.001), no bias', 0, 0.001],
    ['balance-none', 'balancing ablation 3/3: no balancing at all (γ=0, α=0)', 0, 0],
  ];
  return arms.map(([name, description, gamma, alpha]) =>
    preset(
      name,
      description,
      micro(
        { attention: 'mha', ffn: 'moe' },
        { model: { first_k_dense_replace: 0, aux_loss_alpha: alpha }, train: { bias_update_speed: gamma } },
      ),
    ),
  );
}

/**
 * The RL pipeline at micro size: the micro dense model, short task sequences, and GRPO settings
 * from R1 / DeepSeekMath where they fit (G = 8 rather than 16–64, a constant lr).
 */
function grpoMicro(over: {
  model?: Partial<RunConfig['model']>;
  rl?: Partial<RunConfig['rl']>;
  train?: Partial<RunConfig['train']>;
}): RunConfig {
  return micro(
    { attention: 'mha', ffn: 'dense' },
    {
      model: over.model,
      data: { corpus: 'task', corpus_chars: 60_000, seq_len: 48, batch_size: 16 },
      // 250 pretraining steps on plain sums with 2% answer-only template lines: the base knows its
      // sums (plain lines) better than it answers them in the template, so greedy accuracy starts
      // near 0.6 and GRPO has something to elicit. With 10% template lines and 200 steps the base
      // answered 0.7–0.93 greedy and GRPO could add little (README, "GRPO: why it did not learn").
      train: { steps: 250, log_every: 5, eval_every: 50, eval_batches: 2, checkpoint_every: 50, ...over.train },
      rl: {
        mode: 'pipeline',
        task: 'addition',
        difficulty: 1,
        template_share: 0.02,
        grpo_steps: 80,
        // 16 prompts × G = 8: an 8-prompt step is mostly noise once AdamW has normalized it (its sign
        // agrees with the full-batch GRPO direction at cosine 0.11–0.18). Twice the prompts halve the
        // noise's variance, which is what lets lr 1e-4 move the policy without a random walk.
        prompts_per_step: 16,
        group_size: 8,
        max_new_tokens: 16,
        // GRPO's useful step is small: along the full-batch GRPO direction the expected reward rises
        // only up to an RMS weight change of ~1e-4 and falls beyond it. With 8 prompts, 2e-4 overshot
        // (held-out accuracy drifted down) and 5e-5 moved too little to change a greedy answer; with
        // 16 prompts, 1e-4 (issue 17).
        lr: 1e-4,
        // 128 held-out prompts: the standard error of a greedy accuracy near 0.6 is ≈ 0.04 (≈ 0.09 at 32).
        eval_prompts: 128,
        pass_k: 4,
        ...over.rl,
      },
    },
  );
}

/** A micro-sized config: the micro model, optimizer, data and loop, with the given changes. */
function micro(
  arch: RunConfig['arch'],
  over: {
    model?: Partial<RunConfig['model']>;
    precision?: Partial<RunConfig['precision']>;
    optim?: Partial<RunConfig['optim']>;
    data?: Partial<RunConfig['data']>;
    train?: Partial<RunConfig['train']>;
    rl?: Partial<RunConfig['rl']>;
  } = {},
): RunConfig {
  return {
    model: { ...MICRO_MODEL, ...over.model },
    arch,
    precision: { ...F32, ...over.precision },
    optim: { ...BASE_OPTIM, ...over.optim },
    data: { ...MICRO_DATA, ...over.data },
    train: { ...MICRO_TRAIN, ...over.train },
    rl: { ...RL_DEFAULTS, ...over.rl },
  };
}

export const PRESETS: readonly Preset[] = [
  preset(
    'micro-dense',
    'dense pre-norm decoder, d=64, 2 layers, 4 heads (MHA), on the sentence grammar; learns in about a minute on a software adapter',
    micro({ attention: 'mha', ffn: 'dense' }),
  ),
  preset(
    'micro-mla',
    'micro-dense with multi-head latent attention (latent 32 + RoPE key 8 cached per token instead of 128): compare with micro-dense',
    micro({ attention: 'mla', ffn: 'dense' }),
  ),
  preset(
    'micro-moe',
    'micro-dense with DeepSeekMoE in both layers: 8 routed experts in 2 groups (top-1 group), top-2, 1 shared expert, sigmoid gate, loss-free balancing γ=0.001',
    micro({ attention: 'mha', ffn: 'moe' }, { model: { first_k_dense_replace: 0 } }),
  ),
  ...balancingAblation(),
  preset(
    'micro-v3',
    'every V3 part at CI size: MLA + DeepSeekMoE (8 routed experts in 2 groups, top-2, 1 shared, sigmoid gate, loss-free balancing; first layer dense) + one MTP module (λ=0.3)',
    micro({ attention: 'mla', ffn: 'moe' }, { model: { first_k_dense_replace: 1, num_nextn_predict_layers: 1 } }),
  ),
  preset(
    'v3-tiny',
    'browser-sized V3 for a laptop GPU: d=256, 6 layers, 8 heads, MLA (q rank 96, latent 64, RoPE 32), 16 routed experts in 4 groups (top-2 groups, top-4) + 1 shared, first layer dense, MTP depth 1; set precision.linear=lowp for FP8',
    {
      model: {
        ...SMALL_MODEL,
        hidden_size: 256,
        num_hidden_layers: 6,
        num_attention_heads: 8,
        num_key_value_heads: 8,
        q_lora_rank: 96,
        kv_lora_rank: 64,
        qk_nope_head_dim: 32,
        qk_rope_head_dim: 32,
        v_head_dim: 32,
        intermediate_size: 704,
        moe_intermediate_size: 96,
        num_nextn_predict_layers: 1,
      },
      arch: { attention: 'mla', ffn: 'moe' },
      optim: { ...BASE_OPTIM, lr: 2e-3, warmup_steps: 100 },
      data: { ...SMALL_DATA },
      train: { ...SMALL_TRAIN, steps: 3000 },
    },
  ),
  preset(
    'micro-fp8',
    "micro-dense with V3's FP8 recipe: E4M3, 1×128 activation tiles, 128×128 weight blocks, f32 scales, for all three GEMMs of every linear in the blocks; compare with micro-dense (same seed)",
    micro({ attention: 'mha', ffn: 'dense' }, { precision: { linear: 'lowp' } }),
  ),
  preset(
    'micro-mxfp8',
    'micro-dense with MXFP8: E4M3 elements in 1×32 blocks with power-of-two (E8M0) scales by the OCP floor rule',
    micro(
      { attention: 'mha', ffn: 'dense' },
      { precision: { linear: 'lowp', block: 32, scale: 'mx', weight_tiling: 'rows' } },
    ),
  ),
  preset(
    'micro-mxfp4',
    'micro-dense with MXFP4: E2M1 elements (values 0, ±0.5 … ±6) in 1×32 blocks with E8M0 floor-rule scales; gradients in E4M3',
    micro(
      { attention: 'mha', ffn: 'dense' },
      { precision: { linear: 'lowp', format: 'e2m1', block: 32, scale: 'mx', weight_tiling: 'rows' } },
    ),
  ),
  preset(
    'micro-arith',
    'the micro-dense model on arithmetic lines (a+b=c); the answer digits are what it must learn',
    micro({ attention: 'mha', ffn: 'dense' }, { data: { corpus: 'arith' }, train: { steps: 600 } }),
  ),
  preset(
    'grpo-micro',
    'R1-style RL at CI size on addition (1 digit): pretrain 250 steps on task text (2% answer-only template lines), then 80 GRPO steps (16 prompts × G=8, R1 reward accuracy + format, β=0.04, lr 1e-4); the R1-Zero path',
    grpoMicro({}),
  ),
  preset(
    'r1-zero',
    'the R1-Zero arm of r1-zero vs r1: grpo-micro with a weaker base — 0.5% answer-only template lines, so the base knows its sums but seldom answers them in the template (≈ 5–30% correct) — then GRPO straight away; overlay with r1 (same pretraining and seed)',
    grpoMicro({ rl: { template_share: 0.005 } }),
  ),
  preset(
    'r1',
    'the R1 arm of r1-zero vs r1: the same pretraining, then 100 cold-start SFT steps (lr 1e-3) on worked solutions in the template, then the same GRPO',
    grpoMicro({ rl: { template_share: 0.005, sft_steps: 100 } }),
  ),
  preset(
    'distill-vs-rl',
    "the student of distillation vs RL: a smaller V3-shaped model (d=48, 1 layer) on 1-digit addition, pretrained 150 steps; one arm SFTs on a grpo-micro teacher's verified completions, the other runs 20 GRPO steps, at equal student tokens (npm run lab -- distill)",
    grpoMicro({
      model: {
        hidden_size: 48,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        num_key_value_heads: 4,
        intermediate_size: 96,
      },
      // Its own pretraining mix (10% template lines, as before the grpo-micro retune): the small
      // student's base answers ≈ 0.4–0.5 of the sums, so both arms start from a base worth improving.
      rl: { grpo_steps: 20, sft_examples: 64, template_share: 0.1 },
      train: { steps: 150, eval_every: 5 },
    }),
  ),
  preset('small-mha', 'd=128, 4 layers, 8 heads, MHA, seq 128: the dense half of the MHA-vs-MLA pair, for real GPUs', {
    model: { ...SMALL_MODEL },
    arch: { attention: 'mha', ffn: 'dense' },
    optim: { ...BASE_OPTIM, lr: 2e-3, warmup_steps: 100 },
    data: { ...SMALL_DATA },
    train: { ...SMALL_TRAIN },
  }),
  preset('small-mla', 'small-mha with MLA (q rank 64, latent 64, RoPE key 16): the other half of the pair', {
    model: { ...SMALL_MODEL },
    arch: { attention: 'mla', ffn: 'dense' },
    optim: { ...BASE_OPTIM, lr: 2e-3, warmup_steps: 100 },
    data: { ...SMALL_DATA },
    train: { ...SMALL_TRAIN },
  }),
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}
