// The README.md written into every export, and the config file for DeepSeek-V3's own inference
// code. The README is specific to the export: file list, the MTP layer index, the notes that apply
// to this config. docs/export.md is the general guide.

import { countParams, type ModelConfig } from '../model/config';
import type { ExportDtype, HfTensor } from './hf';
import { compatNotes } from './notes';
import type { RunConfig } from '../config';

/** What the README says about the run (the config only when the export had one). */
export interface ReadmeRun {
  preset: string;
  seed: number;
  step: number;
  config?: RunConfig;
}

/** ModelArgs of DeepSeek-V3's inference/model.py (the JSON its generate.py takes with --config). */
export function deepseekRefConfig(c: ModelConfig, dtype: ExportDtype): Record<string, unknown> {
  const moe = c.ffn === 'moe';
  return {
    vocab_size: c.vocab_size,
    dim: c.hidden_size,
    inter_dim: c.intermediate_size,
    moe_inter_dim: c.moe_intermediate_size,
    n_layers: c.num_hidden_layers,
    n_dense_layers: moe ? c.first_k_dense_replace : c.num_hidden_layers,
    n_heads: c.num_attention_heads,
    n_routed_experts: c.n_routed_experts,
    n_shared_experts: c.n_shared_experts,
    n_activated_experts: c.num_experts_per_tok,
    n_expert_groups: c.n_group,
    n_limited_groups: c.topk_group,
    score_func: c.scoring_func,
    route_scale: c.routed_scaling_factor,
    q_lora_rank: c.q_lora_rank,
    kv_lora_rank: c.kv_lora_rank,
    qk_nope_head_dim: c.qk_nope_head_dim,
    qk_rope_head_dim: c.qk_rope_head_dim,
    v_head_dim: c.v_head_dim,
    max_seq_len: 4096,
    original_seq_len: 4096,
    rope_theta: c.rope_theta,
    dtype: dtype === 'fp8' ? 'fp8' : 'bf16',
  };
}

function layerNames(tensors: HfTensor[], layer: number): string[] {
  const p = `model.layers.${layer}.`;
  return tensors.filter((t) => t.name.startsWith(p)).map((t) => `${t.name} [${t.shape.join(', ')}]`);
}

export function exportReadme(
  c: ModelConfig,
  dtype: ExportDtype,
  tensors: HfTensor[],
  files: string[],
  run: ReadmeRun | null,
  withTorchtitan: boolean,
): string {
  const L = c.num_hidden_layers;
  const D = c.num_nextn_predict_layers;
  const moe = c.ffn === 'moe';
  const params = countParams(c);
  const dtypeText =
    dtype === 'f32'
      ? 'float32'
      : dtype === 'bf16'
        ? 'bfloat16 (the routing bias stays float32)'
        : 'FP8 E4M3 block linears with 128×128 weight_scale_inv, the rest bfloat16 (routing bias float32)';
  const notes = compatNotes(c, dtype);
  const example: string[] = [];
  const add = (title: string, layer: number) =>
    example.push(
      `${title} (model.layers.${layer}):`,
      ...compactExperts(layerNames(tensors, layer), c.n_routed_experts).map((n) => `  ${n}`),
    );
  if (!moe || c.first_k_dense_replace > 0) add('Dense layer', 0);
  if (moe && c.first_k_dense_replace < L) add('MoE layer', c.first_k_dense_replace);
  if (D > 0) add('MTP layer', L);
  const lines: string[] = [
    '# v3lab export (Hugging Face DeepSeek-V3 format)',
    '',
    run ? `Run: preset \`${run.preset}\`, seed ${run.seed}, step ${run.step}.` : 'A model exported from v3lab.',
    `Model: ${params.toLocaleString('en-US')} parameters; hidden_size ${c.hidden_size}, ${L} layers (${moe ? `${Math.min(c.first_k_dense_replace, L)} dense, then DeepSeekMoE with ${c.n_routed_experts} routed + ${c.n_shared_experts} shared experts, top-${c.num_experts_per_tok}` : 'dense SwiGLU FFN'}), ${c.num_attention_heads} MLA heads, vocabulary ${c.vocab_size} characters${D > 0 ? `, ${D} MTP module${D > 1 ? 's' : ''}` : ''}.`,
    `Weights: ${dtypeText}.`,
    '',
    '## Files',
    '',
    ...files.map((f) => `- \`${f}\`${FILE_NOTES[f] ? `: ${FILE_NOTES[f]}` : ''}`),
    '',
    '## Load in transformers',
    '',
    'Needs a transformers release with native DeepSeek-V3 (`DeepseekV3ForCausalLM`); no `trust_remote_code`.',
    '',
    '```python',
    'import torch',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    'path = "."  # this directory',
    'tok = AutoTokenizer.from_pretrained(path)',
    `model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)`,
    'ids = tok("the cat ", return_tensors="pt").input_ids',
    'out = model.generate(ids, max_new_tokens=80, do_sample=False)',
    'print(tok.decode(out[0]))',
    '```',
    '',
    dtype === 'fp8'
      ? "The FP8 files carry `quantization_config` (quant_method fp8, weight_block_size [128, 128]) like DeepSeek's checkpoints; transformers loads them with its fine-grained FP8 support, which needs a GPU that has FP8 kernels. Otherwise export with `--dtype bf16` or `f32`."
      : 'The tokenizer is one character per token with no special tokens; `generate` stops at `max_new_tokens`.',
    '',
    "## Load in DeepSeek-V3's reference inference code",
    '',
    'In a checkout of deepseek-ai/DeepSeek-V3, `inference/`:',
    '',
    `1. ${moe ? 'Patch `Gate.__init__` in `model.py` to always create `self.bias` (it does only when `dim == 7168`).' : 'No MoE layers: nothing to patch in `model.py`.'}`,
    `2. ${D > 0 ? `In \`convert.py\`, change the skipped layer \`"model.layers.61"\` to \`"model.layers.${L}"\` (this export's MTP layer), then` : 'Convert:'} \`python convert.py --hf-ckpt-path . --save-path ./ref --n-experts ${c.n_routed_experts} --model-parallel 1\``,
    '3. `torchrun --nproc-per-node 1 generate.py --ckpt-path ./ref --config deepseek_ref_config.json --interactive` (deepseek_ref_config.json is in this directory).',
    '',
    "RoPE: the rope dims rotate adjacent pairs (x[2i], x[2i+1]) — the reference code's layout; `config.json` says `rope_interleave: true`, which makes transformers compute the same thing. Nothing is permuted.",
    '',
    '## Tensor names',
    '',
    "HF DeepSeek-V3 names, [out, in] linear weights. Routed experts are one tensor per expert. MTP layers hold `embed_tokens` and `shared_head.head` as copies of `model.embed_tokens.weight` and `lm_head.weight`, as DeepSeek's checkpoints do.",
    '',
    '```',
    ...example,
    '```',
  ];
  if (notes.length) {
    lines.push(
      '',
      '## Notes for this model',
      '',
      ...notes.map((n) => `- ${n.level === 'warn' ? '**Logits differ:** ' : ''}${n.text}.`),
    );
  }
  if (withTorchtitan) {
    lines.push(
      '',
      '## Continue in TorchTitan',
      '',
      "`torchtitan/train.toml` is a job config for TorchTitan's `deepseek_v3` model that loads these weights (`checkpoint.initial_load_in_hf`), and `torchtitan/mapping.json` maps every v3lab setting to TorchTitan's (and lists what has no counterpart).",
      '',
      '1. Register the model size as a flavor named `v3lab` in `torchtitan/models/deepseek_v3/__init__.py` (the dict of `DeepSeekV3ModelArgs` flavors), with the keywords of `model_args` in mapping.json:',
      '',
      '```python',
      ...pythonFlavor(c, run),
      '```',
      '',
      '2. Put this directory on the training machine; set `model.hf_assets_path` and `checkpoint.initial_load_path` in train.toml to its path, and `training.dataset` to your data (tokenized with this tokenizer.json).',
      '3. `CONFIG_FILE=path/to/torchtitan/train.toml ./run_train.sh`',
      '',
      'The optimizer starts fresh (HF weights load model-only) and the schedule runs the remaining steps. With `last_save_in_hf = true` the final checkpoint comes back in this format, which `npm run lab -- import DIR` validates.',
    );
  }
  return `${lines.join('\n')}\n`;
}

const FILE_NOTES: Record<string, string> = {
  'config.json': 'DeepseekV3Config (model_type deepseek_v3)',
  'model.safetensors': 'the weights, HF names',
  'tokenizer.json': 'the character vocabulary (tokenizers format)',
  'tokenizer_config.json': 'lets AutoTokenizer load tokenizer.json',
  'deepseek_ref_config.json': "ModelArgs for DeepSeek-V3's inference/generate.py",
  'v3lab.json': "v3lab's run config and a checksum of every file (for `npm run lab -- import`)",
  'README.md': 'this file',
  'torchtitan/train.toml': 'TorchTitan job config',
  'torchtitan/mapping.json': 'v3lab config → TorchTitan config',
};

/** Collapse experts 1..E−2 of each projection in a layer listing into one "…" line. */
function compactExperts(names: string[], E: number): string[] {
  if (E <= 3) return names;
  const out: string[] = [];
  for (const n of names) {
    const m = /\.experts\.(\d+)\./.exec(n);
    const e = m ? Number(m[1]) : -1;
    if (e > 0 && e < E - 1) {
      if (e === 1) out.push(`  ... (experts 1..${E - 2} alike)`);
      continue;
    }
    out.push(n);
  }
  return out;
}

function pythonFlavor(c: ModelConfig, run: ReadmeRun | null): string[] {
  const moe = c.ffn === 'moe';
  const py = (v: unknown) =>
    typeof v === 'boolean'
      ? v
        ? 'True'
        : 'False'
      : v === null
        ? 'None'
        : typeof v === 'string'
          ? JSON.stringify(v)
          : String(v);
  const speed = run?.config?.train.bias_update_speed ?? 0;
  const gamma = speed > 0 ? speed : null;
  return [
    '"v3lab": DeepSeekV3ModelArgs(',
    `    vocab_size=${c.vocab_size}, dim=${c.hidden_size}, inter_dim=${c.intermediate_size}, moe_inter_dim=${c.moe_intermediate_size},`,
    `    n_layers=${c.num_hidden_layers}, n_dense_layers=${moe ? c.first_k_dense_replace : c.num_hidden_layers}, n_heads=${c.num_attention_heads}, norm_eps=${c.rms_norm_eps},`,
    `    moe_args=MoEArgs(num_experts=${c.n_routed_experts}, num_shared_experts=${c.n_shared_experts}, top_k=${c.num_experts_per_tok}, score_func=${py(c.scoring_func)},`,
    `                     route_norm=${py(c.norm_topk_prob)}, route_scale=${c.routed_scaling_factor}, score_before_experts=False, load_balance_coeff=${py(gamma)}),`,
    `    n_expert_groups=${c.n_group}, n_limited_groups=${c.topk_group},`,
    `    q_lora_rank=${c.q_lora_rank}, kv_lora_rank=${c.kv_lora_rank}, qk_nope_head_dim=${c.qk_nope_head_dim}, qk_rope_head_dim=${c.qk_rope_head_dim}, v_head_dim=${c.v_head_dim},`,
    `    original_seq_len=4096, rope_theta=${c.rope_theta}, mscale=1.0,`,
    '),',
  ];
}
