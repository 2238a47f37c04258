// Export → import gives back the same model, and the exported file means the same model to a
// Hugging Face DeepSeek-V3 reader: an independent forward pass written here from transformers'
// conventions (rope_interleave de-interleave + rotate_half, q/kv splits, kv_b_proj layout,
// sigmoid routing with the correction bias, group masking with 0.0, per-expert weights), run on
// the exported tensors, gives the lab's CPU logits.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backends/cpu/backend';
import { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { modelConfigOf, parameterShapes, type ModelConfig } from '../model/config';
import { forward, initParams, lossOf, type Params } from '../model/model';
import { CharTokenizer } from '../train/data/tokenizer';
import { ExportError, ImportError } from './errors';
import { exportModel } from './export';
import { importModel } from './import';

const be = new CpuBackend();
const TOKENIZER = CharTokenizer.fromText('abcdefghij .\n');
const V = TOKENIZER.vocabSize;

/** A micro V3: MLA with q compression, a dense layer then MoE, one MTP module. */
function microV3(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    ...modelConfigOf(findPreset('micro-v3')!.config, V),
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 2,
    q_lora_rank: 6,
    kv_lora_rank: 8,
    qk_nope_head_dim: 4,
    qk_rope_head_dim: 4,
    v_head_dim: 5,
    intermediate_size: 20,
    n_routed_experts: 4,
    n_shared_experts: 1,
    num_experts_per_tok: 2,
    n_group: 2,
    topk_group: 1,
    moe_intermediate_size: 6,
    first_k_dense_replace: 1,
    num_nextn_predict_layers: 1,
    routed_scaling_factor: 1.5,
    initializer_range: 0.3,
    ...over,
  };
}

/** Seeded params as f32 (what a checkpoint holds), with a positive routing bias so it matters. */
function makeParams(c: ModelConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const p = initParams(be, c, rng);
  const out = new Map<string, Float32Array>();
  for (const [name, t] of p) {
    const d = Float32Array.from(be.data(t));
    if (name.endsWith('e_score_correction_bias')) for (let i = 0; i < d.length; i++) d[i] = 0.05 + 0.1 * rng.next();
    if (name.endsWith('norm.weight')) for (let i = 0; i < d.length; i++) d[i] = 1 + 0.2 * rng.normal();
    out.set(name, d);
  }
  return out;
}

function toParams(c: ModelConfig, w: Map<string, Float32Array>): Params {
  const p: Params = new Map();
  for (const [name, shape] of parameterShapes(c)) p.set(name, be.fromArray(w.get(name)!, shape));
  return p;
}

function ids(T: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: T }, () => rng.int(0, V - 1));
}

async function labLogits(c: ModelConfig, w: Map<string, Float32Array>, x: Int32Array): Promise<Float64Array> {
  return (await forward(toParams(c, w), c, be.fromArray(x, [1, x.length], 'i32')).read()) as Float64Array;
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// An independent reader + forward pass with transformers' DeepSeek-V3 conventions (float64).

interface T64 {
  shape: number[];
  data: Float64Array;
}

function readAll(bytes: Uint8Array): Map<string, T64> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, T64>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(e.dtype).toBe('F32');
    const [b0, b1] = e.data_offsets;
    const data = new Float64Array((b1 - b0) / 4);
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(8 + n + b0 + 4 * i, true);
    out.set(name, { shape: e.shape, data });
  }
  return out;
}

function hfLogits(files: Map<string, Uint8Array>, x: Int32Array): Float64Array {
  const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
  const w = readAll(files.get('model.safetensors')!);
  const get = (name: string) => {
    const t = w.get(name);
    if (!t) throw new Error(`reference forward: no tensor ${name}`);
    return t;
  };
  const d: number = cfg.hidden_size;
  const H: number = cfg.num_attention_heads;
  const dn: number = cfg.qk_nope_head_dim;
  const dr: number = cfg.qk_rope_head_dim;
  const dv: number = cfg.v_head_dim;
  const dc: number = cfg.kv_lora_rank;
  const eps: number = cfg.rms_norm_eps;
  const qk = dn + dr;
  const T = x.length;
  expect(cfg.rope_interleave).toBe(true);
  expect(cfg.rope_scaling).toBe(null);

  const linear = (v: Float64Array, name: string): Float64Array => {
    const W = get(name);
    const [o, i] = W.shape;
    expect(i).toBe(v.length);
    const y = new Float64Array(o);
    for (let r = 0; r < o; r++) {
      let s = 0;
      for (let k = 0; k < i; k++) s += W.data[r * i + k] * v[k];
      y[r] = s;
    }
    return y;
  };
  const rms = (v: Float64Array, name: string): Float64Array => {
    const g = get(name).data;
    let ms = 0;
    for (const a of v) ms += a * a;
    const r = 1 / Math.sqrt(ms / v.length + eps);
    return v.map((a, i) => a * r * g[i]);
  };
  const silu = (a: number) => a / (1 + Math.exp(-a));
  const mlp = (v: Float64Array, p: string) => {
    const g = linear(v, `${p}.gate_proj.weight`);
    const u = linear(v, `${p}.up_proj.weight`);
    return linear(
      g.map((a, i) => silu(a) * u[i]),
      `${p}.down_proj.weight`,
    );
  };
  // transformers' apply_rotary_pos_emb_interleave: view (d/2, 2) → transpose → (d), then the
  // half-split rotation with inv_freq[j] = θ^(−2j/d), cos/sin = cat(freqs, freqs).
  const rope = (v: Float64Array, pos: number): Float64Array => {
    const half = dr / 2;
    const de = new Float64Array(dr);
    for (let j = 0; j < half; j++) {
      de[j] = v[2 * j];
      de[half + j] = v[2 * j + 1];
    }
    const out = new Float64Array(dr);
    for (let j = 0; j < dr; j++) {
      const f = pos / Math.pow(cfg.rope_theta, (2 * (j % half)) / dr);
      const rot = j < half ? -de[j + half] : de[j - half];
      out[j] = de[j] * Math.cos(f) + rot * Math.sin(f);
    }
    return out;
  };

  let h = Array.from(x, (id) => get('model.embed_tokens.weight').data.slice(id * d, (id + 1) * d));
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const xs = h.map((v) => rms(v, `${p}.input_layernorm.weight`));
    const q = xs.map((v) =>
      cfg.q_lora_rank === null
        ? linear(v, `${p}.self_attn.q_proj.weight`)
        : linear(
            rms(linear(v, `${p}.self_attn.q_a_proj.weight`), `${p}.self_attn.q_a_layernorm.weight`),
            `${p}.self_attn.q_b_proj.weight`,
          ),
    );
    const ckv = xs.map((v) => linear(v, `${p}.self_attn.kv_a_proj_with_mqa.weight`));
    const kv = ckv.map((v) =>
      linear(rms(v.slice(0, dc), `${p}.self_attn.kv_a_layernorm.weight`), `${p}.self_attn.kv_b_proj.weight`),
    );
    const kRot = ckv.map((v, t) => rope(v.slice(dc, dc + dr), t));
    const attn = new Array<Float64Array>(T);
    for (let t = 0; t < T; t++) {
      const o = new Float64Array(H * dv);
      for (let hh = 0; hh < H; hh++) {
        const qPass = q[t].slice(hh * qk, hh * qk + dn);
        const qRot = rope(q[t].slice(hh * qk + dn, (hh + 1) * qk), t);
        const sc: number[] = [];
        for (let s = 0; s <= t; s++) {
          let a = 0;
          for (let j = 0; j < dn; j++) a += qPass[j] * kv[s][hh * (dn + dv) + j];
          for (let j = 0; j < dr; j++) a += qRot[j] * kRot[s][j];
          sc.push(a / Math.sqrt(qk));
        }
        const m = Math.max(...sc);
        const e = sc.map((a) => Math.exp(a - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++)
          for (let j = 0; j < dv; j++) o[hh * dv + j] += (e[s] / z) * kv[s][hh * (dn + dv) + dn + j];
      }
      attn[t] = linear(o, `${p}.self_attn.o_proj.weight`);
    }
    h = h.map((v, t) => v.map((a, i) => a + attn[t][i]));
    h = h.map((v) => {
      const xn = rms(v, `${p}.post_attention_layernorm.weight`);
      let y: Float64Array;
      if (l >= cfg.first_k_dense_replace) {
        const E: number = cfg.n_routed_experts;
        const s = linear(xn, `${p}.mlp.gate.weight`).map((a) => 1 / (1 + Math.exp(-a)));
        const bias = get(`${p}.mlp.gate.e_score_correction_bias`).data;
        const choice = s.map((a, i) => a + bias[i]);
        const G: number = cfg.n_group;
        const per = E / G;
        const gScore = Array.from({ length: G }, (_, g) => {
          const top = [...choice.slice(g * per, (g + 1) * per)].sort((a, b) => b - a);
          return top[0] + top[1];
        });
        const keep = new Set([...gScore.keys()].sort((a, b) => gScore[b] - gScore[a]).slice(0, cfg.topk_group));
        const masked = Array.from(choice, (a, i) => (keep.has(Math.floor(i / per)) ? a : 0.0));
        const idx = [...masked.keys()].sort((a, b) => masked[b] - masked[a]).slice(0, cfg.num_experts_per_tok);
        let wts = idx.map((i) => s[i]);
        if (cfg.norm_topk_prob) {
          const sum = wts.reduce((a, b) => a + b, 0) + 1e-20;
          wts = wts.map((a) => a / sum);
        }
        wts = wts.map((a) => a * cfg.routed_scaling_factor);
        y = mlp(xn, `${p}.mlp.shared_experts`);
        idx.forEach((e, k) => {
          const ye = mlp(xn, `${p}.mlp.experts.${e}`);
          y = y.map((a, i) => a + wts[k] * ye[i]);
        });
      } else {
        y = mlp(xn, `${p}.mlp`);
      }
      return v.map((a, i) => a + y[i]);
    });
  }
  const V2: number = cfg.vocab_size;
  const out = new Float64Array(T * V2);
  h.forEach((v, t) => {
    out.set(linear(rms(v, 'model.norm.weight'), 'lm_head.weight'), t * V2);
  });
  return out;
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

// ---------------------------------------------------------------------------------------------

describe('export → import round trip (f32)', () => {
  const configs: Array<[string, ModelConfig]> = [
    ['MLA (q rank) + MoE + MTP', microV3()],
    [
      'MLA without q compression (q_proj) + MoE, no MTP, 2 groups kept',
      microV3({ q_lora_rank: 0, num_nextn_predict_layers: 0, topk_group: 2, n_shared_experts: 2 }),
    ],
    ['dense FFN everywhere + MTP', microV3({ ffn: 'dense' })],
    ['MoE without shared experts, MoE from layer 0', microV3({ n_shared_experts: 0, first_k_dense_replace: 0 })],
  ];

  for (const [what, c] of configs) {
    it(`${what}: bit-identical weights, same logits, same MTP loss`, async () => {
      const w = makeParams(c, 7);
      const files = exportModel(w, c, TOKENIZER, { dtype: 'f32' });
      const imp = importModel(files);
      expect(imp.config).toEqual(c);
      expect(imp.tokenizer.chars).toEqual(TOKENIZER.chars);
      expect(imp.exportDtype).toBe('f32');
      expect([...imp.params.keys()]).toEqual(parameterShapes(c).map(([n]) => n));
      for (const [name, data] of w) expect(bitsEqual(imp.params.get(name)!, data), name).toBe(true);

      const x = ids(9, 3);
      const a = await labLogits(c, w, x);
      const b = await labLogits(imp.config, imp.params, x);
      expect(b).toEqual(a);

      if (c.num_nextn_predict_layers > 0) {
        const T = 9;
        const xs = ids(T + 1, 5);
        const inp = be.fromArray(xs.subarray(0, T), [1, T], 'i32');
        const tg = be.fromArray(xs.subarray(1), [1, T], 'i32');
        const mtp = (p: Params) => ({
          inputs: {
            ids: [be.fromArray(xs.subarray(1, T), [1, T - 1], 'i32')],
            targets: [be.fromArray(xs.subarray(2), [1, T - 1], 'i32')],
          },
          lambda: 0.3,
        });
        const l1 = await lossOf(toParams(c, w), c, inp, tg, null, mtp(toParams(c, w))).mtp!.read();
        const l2 = await lossOf(
          toParams(c, imp.params),
          imp.config,
          inp,
          tg,
          null,
          mtp(toParams(c, imp.params)),
        ).mtp!.read();
        expect(l2[0]).toBe(l1[0]);
      }

      // The file read with transformers' conventions computes the lab's logits.
      const ref = hfLogits(files, x);
      expect(relErr(ref, a)).toBeLessThan(1e-12);
    });
  }

  it('imports a directory without v3lab.json (a plain HF DeepSeek-V3 model) the same way', async () => {
    const c = microV3();
    const w = makeParams(c, 8);
    const files = exportModel(w, c, TOKENIZER);
    files.delete('v3lab.json');
    const imp = importModel(files);
    expect(imp.run).toBeNull();
    expect(imp.config).toEqual(c);
    for (const [name, data] of w) expect(bitsEqual(imp.params.get(name)!, data), name).toBe(true);
  });

  it('carries the run (preset, seed, step, config) through v3lab.json', () => {
    const cfg = findPreset('micro-v3')!.config;
    const c = modelConfigOf(cfg, V);
    const w = makeParams(c, 9);
    const files = exportModel(w, cfg, TOKENIZER, { run: { preset: 'micro-v3', seed: 42, step: 17 } });
    const imp = importModel(files);
    expect(imp.run).toEqual({ preset: 'micro-v3', seed: 42, step: 17, config: cfg });
    expect(imp.config).toEqual(c);
  });

  it('rope_interleave = false (half-split layout) is permuted back: same logits', async () => {
    const c = microV3();
    const w = makeParams(c, 10);
    const files = exportModel(w, c, TOKENIZER);
    files.delete('v3lab.json');
    // Write the half-split layout: file row i = lab row 2i, file row i + dr/2 = lab row 2i+1.
    const dr = c.qk_rope_head_dim;
    const toHalf = (m: Float32Array, cols: number, starts: number[]) => {
      const out = m.slice();
      for (const r0 of starts) {
        for (let i = 0; i < dr / 2; i++) {
          out.set(m.subarray((r0 + 2 * i) * cols, (r0 + 2 * i + 1) * cols), (r0 + i) * cols);
          out.set(m.subarray((r0 + 2 * i + 1) * cols, (r0 + 2 * i + 2) * cols), (r0 + i + dr / 2) * cols);
        }
      }
      return out;
    };
    const w2 = new Map(w);
    for (const l of [0, 1, 2]) {
      const qb = `model.layers.${l}.self_attn.q_b_proj.weight`;
      w2.set(
        qb,
        toHalf(
          w.get(qb)!,
          c.q_lora_rank,
          [0, 1].map((h) => h * (c.qk_nope_head_dim + dr) + c.qk_nope_head_dim),
        ),
      );
      const kva = `model.layers.${l}.self_attn.kv_a_proj_with_mqa.weight`;
      w2.set(kva, toHalf(w.get(kva)!, c.hidden_size, [c.kv_lora_rank]));
    }
    const half = exportModel(w2, c, TOKENIZER);
    const cfg = JSON.parse(new TextDecoder().decode(half.get('config.json')!));
    cfg.rope_interleave = false;
    const filesHalf = new Map([...half].filter(([n]) => n !== 'v3lab.json'));
    filesHalf.set('config.json', new TextEncoder().encode(JSON.stringify(cfg)));
    const imp = importModel(filesHalf);
    expect(imp.notes.join(' ')).toMatch(/rope_interleave is false/);
    for (const [name, data] of w) expect(bitsEqual(imp.params.get(name)!, data), name).toBe(true);
  });
});

describe('bf16 and fp8 exports', () => {
  const c = microV3({ intermediate_size: 130 }); // dense gate/up [130, 16], down [16, 130]: partial 128-blocks

  /** Round-to-nearest-even to bf16, written independently: the nearer of the two bf16 neighbours. */
  function bf16Round(x: number): number {
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer);
    const lo = u[0] & 0xffff0000;
    const a = new Float32Array(new Uint32Array([lo]).buffer)[0];
    const b = new Float32Array(new Uint32Array([(lo + 0x10000) >>> 0]).buffer)[0];
    const da = Math.abs(x - a);
    const db = Math.abs(b - x);
    if (da < db) return a;
    if (db < da) return b;
    return (lo >>> 16) & 1 ? b : a;
  }

  it('bf16: every value is the nearest-even bf16 of the f32 weight; the routing bias stays exact; re-export is byte-identical', () => {
    const w = makeParams(c, 11);
    const files = exportModel(w, c, TOKENIZER, { dtype: 'bf16' });
    const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    expect(cfg.torch_dtype).toBe('bfloat16');
    const imp = importModel(files);
    expect(imp.dtypes).toEqual({ BF16: expect.any(Number), F32: 2 }); // the two routing biases
    for (const [name, data] of w) {
      const got = imp.params.get(name)!;
      if (name.endsWith('e_score_correction_bias')) expect(bitsEqual(got, data)).toBe(true);
      else for (let i = 0; i < data.length; i++) expect(got[i], `${name}[${i}]`).toBe(bf16Round(data[i]));
    }
    const again = exportModel(imp.params, imp.config, imp.tokenizer, { dtype: 'bf16' });
    expect(again.get('model.safetensors')).toEqual(files.get('model.safetensors'));
  });

  it('fp8: block linears are E4M3 with 128×128 weight_scale_inv (V3 rule), the rest bf16; dequantized error within E4M3 rounding', async () => {
    const w = makeParams(c, 12);
    const files = exportModel(w, c, TOKENIZER, { dtype: 'fp8' });
    const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    expect(cfg.quantization_config).toEqual({
      activation_scheme: 'dynamic',
      fmt: 'e4m3',
      quant_method: 'fp8',
      weight_block_size: [128, 128],
    });
    const st = files.get('model.safetensors')!;
    const n = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + n)));
    const fp8 = /\.(q_a_proj|q_b_proj|kv_a_proj_with_mqa|kv_b_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;
    for (const [name, e] of Object.entries(header) as Array<
      [string, { dtype: string; shape: number[]; data_offsets: number[] }]
    >) {
      if (name === '__metadata__' || name.endsWith('_scale_inv')) continue;
      const want = fp8.test(name) ? 'F8_E4M3' : name.endsWith('e_score_correction_bias') ? 'F32' : 'BF16';
      expect(e.dtype, name).toBe(want);
      if (want === 'F8_E4M3') {
        const s = header[`${name}_scale_inv`];
        expect(s.dtype).toBe('F32');
        expect(s.shape).toEqual([Math.ceil(e.shape[0] / 128), Math.ceil(e.shape[1] / 128)]);
      }
    }
    expect(header['model.layers.2.eh_proj.weight'].dtype).toBe('BF16');
    expect(header['model.layers.0.mlp.gate_proj.weight_scale_inv'].shape).toEqual([2, 1]);
    expect(header['model.layers.0.mlp.down_proj.weight_scale_inv'].shape).toEqual([1, 2]);

    const imp = importModel(files);
    expect(imp.exportDtype).toBe('fp8');
    for (const [name, data] of w) {
      const got = imp.params.get(name)!;
      const shape = parameterShapes(c).find(([x]) => x === name)![1];
      if (!fp8.test(name) || name.includes('eh_proj')) continue;
      // Per 128×128 block (experts: per expert matrix): s = max(amax, 1e-4)/448, and the E4M3
      // rounding error is ≤ 2^-4 relative (normal) or 2^-10·s (subnormal), plus f32 rounding.
      const [rows, cols] = shape.slice(-2);
      const mats = data.length / (rows * cols);
      for (let m = 0; m < mats; m++) {
        for (let bi = 0; bi < Math.ceil(rows / 128); bi++) {
          for (let bj = 0; bj < Math.ceil(cols / 128); bj++) {
            let amax = 0;
            const cells: number[] = [];
            for (let r = bi * 128; r < Math.min(rows, bi * 128 + 128); r++) {
              for (let k = bj * 128; k < Math.min(cols, bj * 128 + 128); k++) {
                const i = m * rows * cols + r * cols + k;
                cells.push(i);
                amax = Math.max(amax, Math.abs(data[i]));
              }
            }
            const s = Math.max(amax, 1e-4) / 448;
            for (const i of cells) {
              const bound = Math.abs(data[i]) * 2 ** -4 + s * 2 ** -10 + Math.abs(data[i]) * 2 ** -22;
              expect(Math.abs(got[i] - data[i]), `${name}[${i}]`).toBeLessThanOrEqual(bound);
            }
          }
        }
      }
    }
    // And the model still computes nearly the same thing (E4M3 keeps ~2^-4 relative precision per
    // weight; a few tokens may also switch experts, so the bound is loose).
    const x = ids(9, 4);
    const a = await labLogits(c, w, x);
    const b = await labLogits(imp.config, imp.params, x);
    expect(relErr(b, a)).toBeLessThan(0.15);
  });
});

describe('export refuses what DeepSeek-V3 cannot hold', () => {
  it('MHA attention, mismatched parameters or tokenizer: one-line ExportError', () => {
    const mha = { ...microV3(), attention: 'mha' as const };
    expect(() => exportModel(new Map(), mha, TOKENIZER)).toThrow(ExportError);
    expect(() => exportModel(new Map(), mha, TOKENIZER)).toThrow(/arch.attention is "mha"/);
    const c = microV3();
    const w = makeParams(c, 1);
    w.delete('lm_head.weight');
    w.set('extra.weight', new Float32Array(1));
    expect(() => exportModel(w, c, TOKENIZER)).toThrow(
      /missing parameters: "lm_head.weight"; unexpected parameters: "extra.weight"/,
    );
    expect(() => exportModel(makeParams(c, 1), c, CharTokenizer.fromText('ab'))).toThrow(
      /tokenizer has 2 characters but the model's vocab_size is 13/,
    );
    const bad = makeParams(c, 1);
    bad.get('model.layers.0.mlp.up_proj.weight')![3] = NaN;
    expect(() => exportModel(bad, c, TOKENIZER, { dtype: 'fp8' })).toThrow(
      /"model.layers.0.mlp.up_proj.weight": non-finite weight NaN at \[0, 3\]/,
    );
  });
});

describe('import names every problem', () => {
  const c = microV3();
  const w = makeParams(c, 2);
  const good = () => exportModel(w, c, TOKENIZER);
  const rewrite = (files: Map<string, Uint8Array>, edit: (h: Record<string, unknown>) => Record<string, unknown>) => {
    // Re-serialize model.safetensors through the export writer with an edited tensor set.
    const st = files.get('model.safetensors')!;
    const n = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + n)));
    const tensors: Record<string, unknown> = {};
    for (const [name, e] of Object.entries(header) as Array<
      [string, { dtype: string; shape: number[]; data_offsets: number[] }]
    >) {
      if (name === '__metadata__') continue;
      tensors[name] = {
        dtype: e.dtype,
        shape: e.shape,
        bytes: st.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]),
      };
    }
    const edited = edit(tensors);
    const out = new Map(files);
    out.delete('v3lab.json');
    return import('./safetensors').then(({ writeSafetensors }) => {
      out.set('model.safetensors', writeSafetensors(Object.entries(edited) as never, { format: 'pt' }));
      return out;
    });
  };
  const fails = (files: Map<string, Uint8Array>, pattern: RegExp) => {
    let err: unknown = null;
    try {
      importModel(files);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImportError);
    expect((err as Error).message).toMatch(pattern);
    expect((err as Error).message).not.toMatch(/\n/);
  };

  it('NaN or ±Inf weights are refused, naming the tensor, the count and the first index', async () => {
    const poisoned = (name: string, at: number[], value: number) =>
      rewrite(good(), (t) => {
        const src = t[name] as { dtype: string; shape: number[]; bytes: Uint8Array };
        const bytes = src.bytes.slice();
        const f = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
        for (const i of at) f[i] = value;
        return { ...t, [name]: { ...src, bytes } };
      });
    fails(
      await poisoned('model.norm.weight', [5], Number.NaN),
      /"model.norm.weight" has 1 non-finite value \(NaN or ±Inf\), the first NaN at \[5\]/,
    );
    // 2-D: the first bad value's row and column; every bad value counted.
    fails(
      await poisoned('model.layers.0.mlp.up_proj.weight', [17, 40, 41], Number.POSITIVE_INFINITY),
      /"model.layers.0.mlp.up_proj.weight" has 3 non-finite values \(NaN or ±Inf\), the first Infinity at \[1, 1\]/,
    );
  });

  it('missing, unexpected, wrong-shape and wrong-dtype tensors are listed by name', async () => {
    fails(
      await rewrite(good(), (t) => {
        const { ['model.layers.1.mlp.experts.3.up_proj.weight']: _gone, ...rest } = t;
        return {
          ...rest,
          'model.layers.1.mlp.experts.4.up_proj.weight': t['model.layers.1.mlp.experts.3.up_proj.weight'],
        };
      }),
      /missing tensors: "model.layers.1.mlp.experts.3.up_proj.weight"; unexpected tensors: "model.layers.1.mlp.experts.4.up_proj.weight"/,
    );
    fails(
      await rewrite(good(), (t) => ({
        ...t,
        'model.norm.weight': {
          dtype: 'F32',
          shape: [4, 4],
          bytes: (t['model.norm.weight'] as { bytes: Uint8Array }).bytes,
        },
      })),
      /wrong shapes: "model.norm.weight" is \[4, 4\], expected \[16\]/,
    );
    fails(
      await rewrite(good(), (t) => ({
        ...t,
        'model.norm.weight': { dtype: 'F8_E4M3', shape: [16], bytes: new Uint8Array(16) },
      })),
      /wrong dtypes: "model.norm.weight" is F8_E4M3, but only the block linears may be FP8/,
    );
    fails(
      await rewrite(good(), (t) => ({
        ...t,
        'model.layers.0.mlp.up_proj.weight': { dtype: 'F8_E4M3', shape: [20, 16], bytes: new Uint8Array(320) },
      })),
      /missing tensors: "model.layers.0.mlp.up_proj.weight_scale_inv"/,
    );
    fails(
      await rewrite(good(), (t) => ({
        ...t,
        'model.layers.2.shared_head.head.weight': t['model.embed_tokens.weight'],
      })),
      /"model.layers.2.shared_head.head.weight" differs from "lm_head.weight"/,
    );
  });

  it('config.json problems name the field; an edited config.json disagrees with v3lab.json; a wrong tokenizer is caught', () => {
    const edit = (f: (j: Record<string, unknown>) => void) => {
      const files = good();
      const j = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
      f(j);
      files.set('config.json', new TextEncoder().encode(JSON.stringify(j)));
      return files;
    };
    fails(
      edit((j) => (j.hidden_size = 32)),
      /config.json and v3lab.json disagree on hidden_size \(32 vs 16\)/,
    );
    const noManifest = (f: Map<string, Uint8Array>) => (f.delete('v3lab.json'), f);
    fails(
      noManifest(edit((j) => (j.hidden_size = 32))),
      /model.safetensors does not match config.json \(hidden_size 32.*wrong shapes: "model.embed_tokens.weight" is \[13, 16\], expected \[13, 32\]/,
    );
    fails(
      edit((j) => (j.model_type = 'llama')),
      /config.json: model_type is "llama"/,
    );
    fails(
      edit((j) => (j.hidden_act = 'gelu')),
      /config.json: hidden_act is "gelu"/,
    );
    fails(
      edit((j) => (j.rope_scaling = { type: 'yarn', factor: 40 })),
      /config.json: rope_scaling is set/,
    );
    fails(
      edit((j) => (j.num_key_value_heads = 1)),
      /num_key_value_heads = 1/,
    );
    fails(
      edit((j) => (j.hidden_size = 1e9)),
      /config.json: hidden_size = 1000000000 is outside what v3lab trains/,
    );
    fails(
      edit((j) => (j.n_group = 3)),
      /config.json: n_group: 3 does not divide n_routed_experts 4/,
    );
    const files = good();
    files.set(
      'tokenizer.json',
      new TextEncoder().encode(JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [] } })),
    );
    fails(files, /tokenizer.json: has 2 tokens but config.json's vocab_size is 13/);
    const f2 = good();
    f2.delete('model.safetensors');
    fails(f2, /model.safetensors is missing/);
  });
});
