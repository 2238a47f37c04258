// The exported model.safetensors, parsed by a minimal reader written here from the format's
// description (not the export's reader), checked against a tensor list written out by hand for
// one small config: layer 0 dense, layer 1 MoE, layer 2 the MTP module. Also the config.json
// fields, the offsets (contiguous, aligned), the dtypes of each export option, and the bytes.

import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import { modelConfigOf, type ModelConfig } from '../model/config';
import { Rng } from '../engine/rng';
import { CharTokenizer } from '../train/data/tokenizer';
import { exportModel } from './export';
import { parameterShapes } from '../model/config';

const TOKENIZER = CharTokenizer.fromText('abcdefgh .\n'); // 11 characters
const c: ModelConfig = {
  ...modelConfigOf(findPreset('micro-v3')!.config, 11),
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  q_lora_rank: 6,
  kv_lora_rank: 4,
  qk_nope_head_dim: 2,
  qk_rope_head_dim: 2,
  v_head_dim: 3,
  intermediate_size: 12,
  n_routed_experts: 4,
  n_shared_experts: 1,
  num_experts_per_tok: 2,
  n_group: 2,
  topk_group: 1,
  moe_intermediate_size: 5,
  first_k_dense_replace: 1,
  num_nextn_predict_layers: 1,
  routed_scaling_factor: 2.5,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  initializer_range: 0.02,
  aux_loss_alpha: 0,
};

// Written out by hand from the HF DeepSeek-V3 / DeepSeek checkpoint layout for this config
// (d 8, 2 heads, q rank 6, latent 4, nope 2, rope 2, v 3, dense 12, 4 experts of 5, 1 shared).
const ATTENTION = (l: number): Array<[string, number[]]> => [
  [`model.layers.${l}.self_attn.q_a_proj.weight`, [6, 8]],
  [`model.layers.${l}.self_attn.q_a_layernorm.weight`, [6]],
  [`model.layers.${l}.self_attn.q_b_proj.weight`, [8, 6]], // 2 heads × (2 nope + 2 rope)
  [`model.layers.${l}.self_attn.kv_a_proj_with_mqa.weight`, [6, 8]], // latent 4 + rope key 2
  [`model.layers.${l}.self_attn.kv_a_layernorm.weight`, [4]],
  [`model.layers.${l}.self_attn.kv_b_proj.weight`, [10, 4]], // 2 heads × (2 k_nope + 3 v)
  [`model.layers.${l}.self_attn.o_proj.weight`, [8, 6]], // 2 heads × 3 v
];

const DENSE_LAYER_0: Array<[string, number[]]> = [
  ['model.layers.0.input_layernorm.weight', [8]],
  ...ATTENTION(0),
  ['model.layers.0.post_attention_layernorm.weight', [8]],
  ['model.layers.0.mlp.gate_proj.weight', [12, 8]],
  ['model.layers.0.mlp.up_proj.weight', [12, 8]],
  ['model.layers.0.mlp.down_proj.weight', [8, 12]],
];

const MOE = (l: number): Array<[string, number[]]> => [
  [`model.layers.${l}.mlp.gate.weight`, [4, 8]],
  [`model.layers.${l}.mlp.gate.e_score_correction_bias`, [4]],
  [`model.layers.${l}.mlp.experts.0.gate_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.1.gate_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.2.gate_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.3.gate_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.0.up_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.1.up_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.2.up_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.3.up_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.experts.0.down_proj.weight`, [8, 5]],
  [`model.layers.${l}.mlp.experts.1.down_proj.weight`, [8, 5]],
  [`model.layers.${l}.mlp.experts.2.down_proj.weight`, [8, 5]],
  [`model.layers.${l}.mlp.experts.3.down_proj.weight`, [8, 5]],
  [`model.layers.${l}.mlp.shared_experts.gate_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.shared_experts.up_proj.weight`, [5, 8]],
  [`model.layers.${l}.mlp.shared_experts.down_proj.weight`, [8, 5]],
];

const MOE_LAYER_1: Array<[string, number[]]> = [
  ['model.layers.1.input_layernorm.weight', [8]],
  ...ATTENTION(1),
  ['model.layers.1.post_attention_layernorm.weight', [8]],
  ...MOE(1),
];

const MTP_LAYER_2: Array<[string, number[]]> = [
  ['model.layers.2.enorm.weight', [8]],
  ['model.layers.2.hnorm.weight', [8]],
  ['model.layers.2.eh_proj.weight', [8, 16]],
  ['model.layers.2.input_layernorm.weight', [8]],
  ...ATTENTION(2),
  ['model.layers.2.post_attention_layernorm.weight', [8]],
  ...MOE(2),
  ['model.layers.2.shared_head.norm.weight', [8]],
  ['model.layers.2.embed_tokens.weight', [11, 8]], // copy of model.embed_tokens.weight
  ['model.layers.2.shared_head.head.weight', [11, 8]], // copy of lm_head.weight
];

const ALL: Array<[string, number[]]> = [
  ['model.embed_tokens.weight', [11, 8]],
  ...DENSE_LAYER_0,
  ...MOE_LAYER_1,
  ['model.norm.weight', [8]],
  ['lm_head.weight', [11, 8]],
  ...MTP_LAYER_2,
];

const FP8_NAMES = /\.(q_a_proj|q_b_proj|kv_a_proj_with_mqa|kv_b_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;

/** Minimal safetensors reader: u64 header length, JSON, then the raw data buffer. */
function parse(bytes: Uint8Array) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  expect(hi).toBe(0);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + lo));
  const header = JSON.parse(headerText) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  > & { __metadata__?: Record<string, string> };
  return { headerLen: lo, headerText, header, data: bytes.subarray(8 + lo) };
}

const SIZE: Record<string, number> = { F32: 4, BF16: 2, F8_E4M3: 1 };

function makeParams(seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(c))
    out.set(
      name,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    );
  return out;
}

describe('exported model.safetensors layout (independent reader, written-down names)', () => {
  const params = makeParams(1);

  for (const dtype of ['f32', 'bf16', 'fp8'] as const) {
    it(`${dtype}: names, shapes, dtypes, offsets`, () => {
      const files = exportModel(params, c, TOKENIZER, { dtype });
      const { headerLen, header, data } = parse(files.get('model.safetensors')!);
      expect(headerLen % 8).toBe(0); // data starts 8-aligned
      expect(header.__metadata__).toEqual({ format: 'pt' });

      const expectedNames = ALL.map(([n]) => n);
      const scaleNames = dtype === 'fp8' ? ALL.filter(([n]) => FP8_NAMES.test(n)).map(([n]) => `${n}_scale_inv`) : [];
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      expect([...names].sort()).toEqual([...expectedNames, ...scaleNames].sort());

      for (const [name, shape] of ALL) {
        const e = header[name];
        expect(e.shape, name).toEqual(shape);
        const want =
          dtype === 'f32' || name.endsWith('e_score_correction_bias')
            ? 'F32'
            : dtype === 'fp8' && FP8_NAMES.test(name)
              ? 'F8_E4M3'
              : 'BF16';
        expect(e.dtype, name).toBe(want);
        if (want === 'F8_E4M3') {
          const s = header[`${name}_scale_inv`];
          expect(s.dtype).toBe('F32');
          expect(s.shape).toEqual([Math.ceil(shape[0] / 128), Math.ceil(shape[1] / 128)]);
        }
      }

      // Offsets: each entry spans numel × element size, entries tile the buffer, each aligned.
      const entries = names.map((n) => ({ n, ...header[n] })).sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
      let pos = 0;
      for (const e of entries) {
        const size = SIZE[e.dtype];
        expect(e.data_offsets[0], e.n).toBe(pos);
        expect(e.data_offsets[1] - e.data_offsets[0], e.n).toBe(e.shape.reduce((a, b) => a * b, 1) * size);
        expect(e.data_offsets[0] % size, e.n).toBe(0);
        pos = e.data_offsets[1];
      }
      expect(pos).toBe(data.length);

      if (dtype === 'f32') {
        // The bytes are the parameters: experts are slices of the stacked lab tensor, the MTP
        // copies equal the shared embedding/head.
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const f32 = (name: string) => {
          const [b0, b1] = header[name].data_offsets;
          return Float32Array.from({ length: (b1 - b0) / 4 }, (_, i) => dv.getFloat32(b0 + 4 * i, true));
        };
        expect(f32('model.layers.1.mlp.experts.2.up_proj.weight')).toEqual(
          params.get('model.layers.1.mlp.experts.up_proj.weight')!.subarray(2 * 40, 3 * 40),
        );
        expect(f32('model.layers.2.mlp.experts.3.down_proj.weight')).toEqual(
          params.get('model.layers.2.mlp.experts.down_proj.weight')!.subarray(3 * 40, 4 * 40),
        );
        expect(f32('model.layers.2.embed_tokens.weight')).toEqual(params.get('model.embed_tokens.weight'));
        expect(f32('model.layers.2.shared_head.head.weight')).toEqual(params.get('lm_head.weight'));
        expect(f32('model.layers.0.self_attn.kv_b_proj.weight')).toEqual(
          params.get('model.layers.0.self_attn.kv_b_proj.weight'),
        );
      }
    });
  }

  it('config.json holds every DeepseekV3Config field with our values', () => {
    const files = exportModel(params, c, TOKENIZER, { dtype: 'f32' });
    const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    expect(cfg).toEqual({
      architectures: ['DeepseekV3ForCausalLM'],
      model_type: 'deepseek_v3',
      vocab_size: 11,
      hidden_size: 8,
      intermediate_size: 12,
      moe_intermediate_size: 5,
      num_hidden_layers: 2,
      num_nextn_predict_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      n_shared_experts: 1,
      n_routed_experts: 4,
      routed_scaling_factor: 2.5,
      kv_lora_rank: 4,
      q_lora_rank: 6,
      qk_rope_head_dim: 2,
      v_head_dim: 3,
      qk_nope_head_dim: 2,
      n_group: 2,
      topk_group: 1,
      num_experts_per_tok: 2,
      first_k_dense_replace: 1,
      moe_layer_freq: 1,
      norm_topk_prob: true,
      scoring_func: 'sigmoid',
      topk_method: 'noaux_tc',
      seq_aux: true,
      aux_loss_alpha: 0,
      ep_size: 1,
      hidden_act: 'silu',
      max_position_embeddings: 4096,
      initializer_range: 0.02,
      rms_norm_eps: 1e-6,
      use_cache: true,
      pad_token_id: null,
      bos_token_id: null,
      eos_token_id: null,
      pretraining_tp: 1,
      tie_word_embeddings: false,
      rope_theta: 10000,
      rope_scaling: null,
      rope_interleave: true,
      attention_bias: false,
      attention_dropout: 0,
      torch_dtype: 'float32',
    });
    // q_lora_rank 0 is written as null (transformers builds q_proj then).
    const noQ = exportModel(makeQless(), { ...c, q_lora_rank: 0 }, TOKENIZER);
    expect(JSON.parse(new TextDecoder().decode(noQ.get('config.json')!)).q_lora_rank).toBeNull();
  });

  it('tokenizer.json is a tokenizers BPE model over the characters, ids in the lab order', () => {
    const files = exportModel(params, c, TOKENIZER);
    const tok = JSON.parse(new TextDecoder().decode(files.get('tokenizer.json')!));
    expect(tok.model.type).toBe('BPE');
    expect(tok.model.merges).toEqual([]);
    expect(tok.decoder).toEqual({ type: 'Fuse' });
    expect(tok.model.vocab).toEqual(Object.fromEntries(TOKENIZER.chars.map((ch, i) => [ch, i])));
    expect(JSON.parse(new TextDecoder().decode(files.get('tokenizer_config.json')!)).tokenizer_class).toBe(
      'PreTrainedTokenizerFast',
    );
  });
});

function makeQless(): Map<string, Float32Array> {
  const cq = { ...c, q_lora_rank: 0 };
  const rng = new Rng(2);
  return new Map(
    parameterShapes(cq).map(([n, s]) => [
      n,
      Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    ]),
  );
}
