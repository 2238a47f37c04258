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
  intermediate_size: 128,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.02,
};

export const PRESETS: readonly Preset[] = [
  {
    name: 'micro-dense',
    description: 'dense pre-norm decoder, d=64, 2 layers, 4 heads, on the sentence grammar; learns in about a minute on a software adapter',
    config: {
      model: { ...MICRO_MODEL },
      optim: { ...BASE_OPTIM },
      data: { corpus: 'grammar', text: '', corpus_chars: 200_000, seq_len: 64, batch_size: 8, val_fraction: 0.1 },
      train: { steps: 300, log_every: 10, eval_every: 100, eval_batches: 4, checkpoint_every: 100 },
    },
  },
  {
    name: 'micro-arith',
    description: 'the micro-dense model on arithmetic lines (a+b=c); the answer digits are what it must learn',
    config: {
      model: { ...MICRO_MODEL },
      optim: { ...BASE_OPTIM },
      data: { corpus: 'arith', text: '', corpus_chars: 200_000, seq_len: 64, batch_size: 8, val_fraction: 0.1 },
      train: { steps: 600, log_every: 10, eval_every: 100, eval_batches: 4, checkpoint_every: 100 },
    },
  },
  {
    name: 'small-dense',
    description: 'dense decoder, d=128, 4 layers, 8 heads (GQA with 4 kv heads), seq 128: for real GPUs',
    config: {
      model: {
        hidden_size: 128,
        num_hidden_layers: 4,
        num_attention_heads: 8,
        num_key_value_heads: 4,
        intermediate_size: 352,
        rope_theta: 10000,
        rms_norm_eps: 1e-6,
        initializer_range: 0.02,
      },
      optim: { ...BASE_OPTIM, lr: 2e-3, warmup_steps: 100 },
      data: { corpus: 'grammar', text: '', corpus_chars: 1_000_000, seq_len: 128, batch_size: 32, val_fraction: 0.05 },
      train: { steps: 2000, log_every: 20, eval_every: 200, eval_batches: 8, checkpoint_every: 200 },
    },
  },
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}
