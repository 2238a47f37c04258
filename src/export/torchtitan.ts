// The trainer handoff: the run's settings in TorchTitan's terms, so an experiment that outgrew the
// browser continues in a distributed trainer that has a DeepSeek-V3 model.
//
// Two files go under torchtitan/:
//   - mapping.json: each v3lab setting, the TorchTitan field it becomes (DeepSeekV3ModelArgs /
//     MoEArgs for the model, the job-config TOML for the rest), and what has no counterpart;
//   - train.toml: a job config (TorchTitan's TOML sections [job] [model] [optimizer]
//     [lr_scheduler] [training] [parallelism] [checkpoint]) that loads this export's weights
//     through TorchTitan's Hugging Face state-dict adapter (checkpoint.initial_load_in_hf).
// TorchTitan selects model sizes by `flavor`, defined in Python; the README shows the flavor
// entry to add (model_args in mapping.json, spelled as DeepSeekV3ModelArgs keywords).
// TorchTitan's config surface moves between releases; the names here are those of its
// DeepSeek-V3 model with MoEArgs (2025) — docs/export.md says what to check.

import type { RunConfig } from '../config';
import type { ModelConfig } from '../model/config';

export interface RunInfo {
  preset: string;
  seed: number;
  step: number;
  config: RunConfig;
}

/** DeepSeekV3ModelArgs keyword arguments (moe_args: MoEArgs keywords) for this model. */
export function torchtitanModelArgs(c: ModelConfig, seqLen: number): Record<string, unknown> {
  const moe = c.ffn === 'moe';
  return {
    vocab_size: c.vocab_size,
    dim: c.hidden_size,
    inter_dim: c.intermediate_size,
    moe_inter_dim: c.moe_intermediate_size,
    n_layers: c.num_hidden_layers,
    n_dense_layers: moe ? c.first_k_dense_replace : c.num_hidden_layers,
    n_heads: c.num_attention_heads,
    norm_eps: c.rms_norm_eps,
    moe_args: {
      num_experts: c.n_routed_experts,
      num_shared_experts: c.n_shared_experts,
      top_k: c.num_experts_per_tok,
      score_func: c.scoring_func,
      route_norm: c.norm_topk_prob,
      route_scale: c.routed_scaling_factor,
      score_before_experts: false,
    },
    n_expert_groups: c.n_group,
    n_limited_groups: c.topk_group,
    q_lora_rank: c.q_lora_rank,
    kv_lora_rank: c.kv_lora_rank,
    qk_nope_head_dim: c.qk_nope_head_dim,
    qk_rope_head_dim: c.qk_rope_head_dim,
    v_head_dim: c.v_head_dim,
    max_seq_len: seqLen,
    original_seq_len: 4096,
    rope_theta: c.rope_theta,
    mscale: 1.0,
  };
}

/** The plain mapping of our config to TorchTitan's (mapping.json). */
export function torchtitanMapping(c: ModelConfig, run: RunInfo | null): Record<string, unknown> {
  const seqLen = run?.config.data.seq_len ?? 4096;
  const args = torchtitanModelArgs(c, seqLen);
  if (run && c.ffn === 'moe')
    (args.moe_args as Record<string, unknown>).load_balance_coeff =
      run.config.train.bias_update_speed > 0 ? run.config.train.bias_update_speed : null;
  const fields: Array<[string, string, string?]> = [
    ['model.vocab_size', 'vocab_size'],
    ['model.hidden_size', 'dim'],
    ['model.intermediate_size', 'inter_dim'],
    ['model.moe_intermediate_size', 'moe_inter_dim'],
    ['model.num_hidden_layers', 'n_layers'],
    ['model.first_k_dense_replace', 'n_dense_layers', 'arch.ffn = dense → n_dense_layers = n_layers'],
    ['model.num_attention_heads', 'n_heads'],
    ['model.rms_norm_eps', 'norm_eps', "TorchTitan's default is 1e-5; v3lab's 1e-6 must be set"],
    ['model.n_routed_experts', 'moe_args.num_experts'],
    ['model.n_shared_experts', 'moe_args.num_shared_experts'],
    ['model.num_experts_per_tok', 'moe_args.top_k'],
    ['model.scoring_func', 'moe_args.score_func'],
    ['model.norm_topk_prob', 'moe_args.route_norm'],
    ['model.routed_scaling_factor', 'moe_args.route_scale'],
    ['(routing weights scale expert outputs)', 'moe_args.score_before_experts = false'],
    ['train.bias_update_speed', 'moe_args.load_balance_coeff', 'loss-free balancing coefficient γ (null = off)'],
    ['model.n_group', 'n_expert_groups'],
    ['model.topk_group', 'n_limited_groups'],
    ['model.q_lora_rank', 'q_lora_rank', '0 = direct wq (HF q_proj)'],
    ['model.kv_lora_rank', 'kv_lora_rank'],
    ['model.qk_nope_head_dim', 'qk_nope_head_dim'],
    ['model.qk_rope_head_dim', 'qk_rope_head_dim'],
    ['model.v_head_dim', 'v_head_dim'],
    ['model.rope_theta', 'rope_theta'],
    ['data.seq_len', 'training.seq_len (sets max_seq_len); original_seq_len = 4096 keeps YaRN off'],
    ['data.batch_size', 'training.local_batch_size'],
    ['optim.lr / beta1 / beta2 / eps / weight_decay', 'optimizer.lr / beta1 / beta2 / eps / weight_decay'],
    ['optim.clip_norm', 'training.max_norm'],
    ['optim.warmup_steps', 'lr_scheduler.warmup_steps'],
    ['optim.schedule = cosine', 'lr_scheduler.decay_type = "cosine", decay_ratio unset (decay from the end of warmup)'],
    ['optim.schedule = wsd, optim.decay_fraction', 'lr_scheduler.decay_type = "linear", decay_ratio = decay_fraction'],
    ['optim.min_lr_ratio', 'lr_scheduler.min_lr_factor'],
    ['train.steps', 'training.steps'],
  ];
  return {
    torchtitan_model: 'deepseek_v3',
    flavor: 'v3lab',
    model_args: args,
    fields: fields.map(([ours, theirs, note]) => ({ v3lab: ours, torchtitan: theirs, ...(note ? { note } : {}) })),
    not_carried: [
      "model.num_nextn_predict_layers: multi-token prediction. The MTP layer is in model.safetensors (DeepSeek layout), but TorchTitan's HF adapter loads only the main model",
      "model.aux_loss_alpha: the sequence-wise balance loss has no field in TorchTitan's DeepSeek-V3 MoEArgs",
      "precision.*: v3lab's emulated FP8/MX linears; TorchTitan has its own float8 converters ([model] converters / [quantize.*])",
      'the AdamW moments and the data sampler position: TorchTitan loads HF weights model-only, so the optimizer starts fresh',
      'data.*: the corpus; point training.dataset at your data with the same tokenizer (tokenizer.json)',
    ],
  };
}

function tomlValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v); // 3, 0.001, 1e-8: all valid TOML
  throw new Error(`toml: cannot write ${JSON.stringify(v)}`);
}

function section(name: string, rows: Array<[string, unknown, string?]>): string {
  const lines = [`[${name}]`];
  for (const [k, v, comment] of rows) lines.push(`${k} = ${tomlValue(v)}${comment ? `  # ${comment}` : ''}`);
  return lines.join('\n');
}

/**
 * A TorchTitan job config continuing the run: the remaining steps of its schedule, on this
 * export's weights. `exportPath` is where the export directory will be on the training machine.
 */
export function torchtitanToml(c: ModelConfig, run: RunInfo | null, exportPath = '.'): string {
  const cfg = run?.config;
  const o = cfg?.optim;
  const totalSteps = cfg?.train.steps ?? 1000;
  const done = run?.step ?? 0;
  const remaining = Math.max(1, totalSteps - done);
  const head = [
    '# TorchTitan job config written by v3lab (npm run lab -- export --trainer torchtitan).',
    run
      ? `# Run: preset ${run.preset}, seed ${run.seed}, exported at step ${done} of ${totalSteps}.`
      : '# Model exported without a run (no optimizer/data settings: defaults below).',
    '# Before use: add the "v3lab" flavor to TorchTitan\'s deepseek_v3 model (README.md, "Continue in TorchTitan"),',
    '# set checkpoint.initial_load_path / model.hf_assets_path to this directory, and training.dataset to your data.',
    '',
  ].join('\n');
  const sched: Array<[string, unknown, string?]> = [
    ['warmup_steps', Math.max(0, (o?.warmup_steps ?? 0) - done), "the rest of v3lab's warmup"],
  ];
  if (!o || o.schedule === 'cosine')
    sched.push(['decay_type', 'cosine', 'half cosine from the end of warmup to min_lr_factor·lr']);
  else
    sched.push(
      ['decay_ratio', o.decay_fraction, 'WSD: decay over the last decay_fraction of the steps'],
      ['decay_type', 'linear'],
    );
  sched.push(['min_lr_factor', o?.min_lr_ratio ?? 0.1]);
  const parts = [
    section('job', [
      ['dump_folder', `./outputs/v3lab-${run?.preset ?? 'model'}`],
      ['description', run ? `v3lab ${run.preset} (seed ${run.seed}) continued from step ${done}` : 'v3lab model'],
    ]),
    section('model', [
      ['name', 'deepseek_v3'],
      ['flavor', 'v3lab', 'see README.md: the DeepSeekV3ModelArgs to register under this name'],
      ['hf_assets_path', exportPath, 'tokenizer.json + config.json of this export'],
    ]),
    section('optimizer', [
      ['name', 'AdamW'],
      ['lr', o?.lr ?? 3e-4],
      ['beta1', o?.beta1 ?? 0.9],
      ['beta2', o?.beta2 ?? 0.95],
      ['eps', o?.eps ?? 1e-8],
      ['weight_decay', o?.weight_decay ?? 0.1],
    ]),
    section('lr_scheduler', sched),
    section('training', [
      ['local_batch_size', cfg?.data.batch_size ?? 8],
      ['seq_len', cfg?.data.seq_len ?? 2048],
      [
        'max_norm',
        o && o.clip_norm > 0 ? o.clip_norm : 1e9,
        o && o.clip_norm > 0 ? 'global grad-norm clip' : 'v3lab ran without clipping',
      ],
      ['steps', remaining, run ? `v3lab's train.steps ${totalSteps} − ${done} done` : undefined],
      ['dataset', 'c4_test', 'replace with your corpus (same tokenizer)'],
    ]),
    section('parallelism', [
      ['data_parallel_replicate_degree', 1],
      ['data_parallel_shard_degree', -1],
      ['tensor_parallel_degree', 1],
      ['expert_parallel_degree', 1],
    ]),
    section('checkpoint', [
      ['enable', true],
      ['folder', 'checkpoint'],
      ['interval', 500],
      ['initial_load_path', exportPath, 'this export (HF safetensors)'],
      ['initial_load_model_only', true],
      ['initial_load_in_hf', true],
      ['last_save_model_only', true],
      ['last_save_in_hf', true, 'come back as an HF checkpoint (v3lab can import it)'],
      ['export_dtype', 'float32'],
    ]),
  ];
  return `${head}${parts.join('\n\n')}\n`;
}
