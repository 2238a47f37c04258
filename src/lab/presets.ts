// Presets: named starting configs. A run = preset + seed + overrides.

import type { RunConfig } from './config';

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
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.02,
};

const MICRO_DATA: RunConfig['data'] = { corpus: 'grammar', text: '', corpus_chars: 200_000, seq_len: 64, batch_size: 8, val_fraction: 0.1 };
const MICRO_TRAIN: RunConfig['train'] = { steps: 300, log_every: 10, eval_every: 100, eval_batches: 4, checkpoint_every: 100 };

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
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.02,
};
const SMALL_DATA: RunConfig['data'] = { corpus: 'grammar', text: '', corpus_chars: 1_000_000, seq_len: 128, batch_size: 32, val_fraction: 0.05 };
const SMALL_TRAIN: RunConfig['train'] = { steps: 2000, log_every: 20, eval_every: 200, eval_batches: 8, checkpoint_every: 200 };

function preset(name: string, description: string, c: RunConfig): Preset {
  return { name, description, config: c };
}

export const PRESETS: readonly Preset[] = [
  preset('micro-dense', 'dense pre-norm decoder, d=64, 2 layers, 4 heads (MHA), on the sentence grammar; learns in about a minute on a software adapter', {
    model: { ...MICRO_MODEL },
    arch: { attention: 'mha' },
    optim: { ...BASE_OPTIM },
    data: { ...MICRO_DATA },
    train: { ...MICRO_TRAIN },
  }),
  preset('micro-mla', 'micro-dense with multi-head latent attention (latent 32 + RoPE key 8 cached per token instead of 128): compare with micro-dense', {
    model: { ...MICRO_MODEL },
    arch: { attention: 'mla' },
    optim: { ...BASE_OPTIM },
    data: { ...MICRO_DATA },
    train: { ...MICRO_TRAIN },
  }),
  preset('micro-arith', 'the micro-dense model on arithmetic lines (a+b=c); the answer digits are what it must learn', {
    model: { ...MICRO_MODEL },
    arch: { attention: 'mha' },
    optim: { ...BASE_OPTIM },
    data: { ...MICRO_DATA, corpus: 'arith' },
    train: { ...MICRO_TRAIN, steps: 600 },
  }),
  preset('small-mha', 'd=128, 4 layers, 8 heads, MHA, seq 128: the dense half of the MHA-vs-MLA pair, for real GPUs', {
    model: { ...SMALL_MODEL },
    arch: { attention: 'mha' },
    optim: { ...BASE_OPTIM, lr: 2e-3, warmup_steps: 100 },
    data: { ...SMALL_DATA },
    train: { ...SMALL_TRAIN },
  }),
  preset('small-mla', 'small-mha with MLA (q rank 64, latent 64, RoPE key 16): the other half of the pair', {
    model: { ...SMALL_MODEL },
    arch: { attention: 'mla' },
    optim: { ...BASE_OPTIM, lr: 2e-3, warmup_steps: 100 },
    data: { ...SMALL_DATA },
    train: { ...SMALL_TRAIN },
  }),
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}
