// Import: the files of a Hugging Face DeepSeek-V3 model directory → the lab's config, parameters
// and tokenizer, with validation. Order of checks (each failure is one ImportError naming the
// file, the field or the tensors):
//   1. every JSON file is bounded in size and parsed strictly (config.json, tokenizer.json,
//      v3lab.json when present);
//   2. config.json describes a model v3lab computes (hf.ts: modelFromHfConfig) and passes the
//      lab's own config validation; v3lab.json, if present, must agree with it;
//   3. model.safetensors: size bounded by what the config can need, header bounded and strict
//      (safetensors.ts), then every tensor's name, shape and dtype against the config — missing,
//      unexpected, wrong-shape and wrong-dtype tensors are all listed;
//   4. the CRC-32 and size of every file v3lab.json lists (a flipped bit in the weights is caught);
//   5. decoding: BF16/F16 widen exactly, FP8 multiplies by its block scales, experts are stacked
//      back to [E, out, in], the MTP layer's embed_tokens/shared_head.head copies must equal the
//      main model's tensors, and rope_interleave = false weights are permuted to the lab's
//      adjacent-pair RoPE layout.
// Nothing is allocated before the size checks, and decoding allocates at most 4 bytes per
// element of the (bounded) file, so a corrupt or hostile file cannot hang or exhaust memory.

import { ConfigError, validateConfig, type RunConfig } from '../config';
import { PRESETS } from '../config';
import { modelConfigOf, parameterShapes, type ModelConfig } from '../model/config';
import { ImportError, listNames } from './errors';
import { V3LAB_FORMAT, V3LAB_VERSION, type V3labManifest } from './export';
import { dequantizeBlocks, FP8_BLOCK, scaleShape } from './fp8';
import {
  ConfigJsonError,
  DEFAULT_PRECISION,
  hfConfigOf,
  type HfTensor,
  hfTensors,
  isFp8Weight,
  modelFromHfConfig,
  type ExportDtype,
} from './hf';
import {
  crc32Hex,
  DEFAULT_MAX_HEADER_BYTES,
  fmtShape,
  numel,
  readSafetensors,
  toFloat32,
  type RawTensor,
  type StDtype,
} from './safetensors';
import { parseTokenizerJson } from './tokenizer';
import type { RunInfo } from './torchtitan';

export const MAX_CONFIG_BYTES = 1 << 20;
export const MAX_TOKENIZER_BYTES = 16 << 20;
/** v3lab.json holds the run config, whose data.text may be 4M characters (escaped). */
export const MAX_MANIFEST_BYTES = 64 << 20;

export interface ImportedModel {
  /** The model (precision from v3lab.json, else f32 linears). */
  config: ModelConfig;
  /** Lab parameters (parameterShapes order and shapes), f32. */
  params: Map<string, Float32Array>;
  tokenizer: { chars: string[] };
  /** The run the export came from (v3lab.json); null for other DeepSeek-V3 directories. */
  run: RunInfo | null;
  /** Tensors in model.safetensors by dtype. */
  dtypes: Partial<Record<StDtype, number>>;
  tensorCount: number;
  /** The export dtype recorded in v3lab.json, if any. */
  exportDtype: ExportDtype | null;
  /** What import had to do beyond copying (e.g. a RoPE permutation). */
  notes: string[];
}

function parseJson(name: string, bytes: Uint8Array, limit: number): unknown {
  if (bytes.length > limit)
    throw new ImportError(
      `${name} is ${bytes.length} bytes, more than the ${limit} this file can need: not a v3lab/DeepSeek-V3 ${name}`,
    );
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportError(`${name} is not valid UTF-8 (corrupt file)`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ImportError(`${name} is not valid JSON: ${(e as Error).message.split('\n')[0].slice(0, 120)}`);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Cross-field validation through the lab's own config schema (same messages as everywhere). */
function validatedRunConfig(
  model: RunConfig['model'],
  arch: RunConfig['arch'],
  precision: RunConfig['precision'],
  where: string,
): RunConfig {
  const base = structuredClone(PRESETS[0].config);
  const raw = { ...base, model, arch, precision, data: { ...base.data, seq_len: 4096 } };
  try {
    return validateConfig(raw);
  } catch (e) {
    // config.json uses the bare HF names; the lab's messages say model.<name>.
    if (e instanceof ConfigError)
      throw new ImportError(
        `${where}: ${e.message.replace(/^invalid config: /, '').replace(where === 'config.json' ? /\bmodel\./g : /^$/, '')}`,
      );
    throw e;
  }
}

/** The config.json keys that define the architecture (what config.json and v3lab.json must agree on). */
const ARCH_KEYS = [
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'moe_intermediate_size',
  'num_hidden_layers',
  'num_nextn_predict_layers',
  'num_attention_heads',
  'n_shared_experts',
  'n_routed_experts',
  'routed_scaling_factor',
  'kv_lora_rank',
  'q_lora_rank',
  'qk_rope_head_dim',
  'v_head_dim',
  'qk_nope_head_dim',
  'n_group',
  'topk_group',
  'num_experts_per_tok',
  'first_k_dense_replace',
  'norm_topk_prob',
  'scoring_func',
  'rms_norm_eps',
  'rope_theta',
];

/** Upper bound on model.safetensors' size for a config: every tensor at 4 bytes, scales, header. */
export function modelBytesLimit(c: ModelConfig): number {
  let n = 8 + DEFAULT_MAX_HEADER_BYTES;
  for (const t of hfTensors(c)) {
    n += numel(t.shape) * 4;
    // FP8 weights take 1 byte per element plus scales; even 1×1 blocks stay under 4 more bytes.
    if (isFp8Weight(t.name, t.shape)) n += numel(t.shape) * 4;
  }
  return n;
}

/** The model config of an export directory from config.json (+ v3lab.json); no weights read. */
export function importConfig(files: ReadonlyMap<string, Uint8Array>): {
  config: ModelConfig;
  run: RunInfo | null;
  manifest: V3labManifest | null;
  ropeInterleave: boolean;
  fp8Block: [number, number];
} {
  const cfgBytes = files.get('config.json');
  if (!cfgBytes) throw new ImportError('config.json is missing: not a Hugging Face model directory');
  const json = parseJson('config.json', cfgBytes, MAX_CONFIG_BYTES);
  if (!isObject(json)) throw new ImportError('config.json is not a JSON object');
  let hf: ReturnType<typeof modelFromHfConfig>;
  try {
    hf = modelFromHfConfig(json);
  } catch (e) {
    if (e instanceof ConfigJsonError) throw new ImportError(`config.json: ${e.message}`);
    throw e;
  }
  const fromJson = validatedRunConfig(
    hf.model,
    { attention: 'mla', ffn: hf.ffn },
    { ...DEFAULT_PRECISION },
    'config.json',
  );
  let config = modelConfigOf(fromJson, hf.vocabSize);
  let run: RunInfo | null = null;
  let manifest: V3labManifest | null = null;

  const mBytes = files.get('v3lab.json');
  if (mBytes) {
    const m = parseJson('v3lab.json', mBytes, MAX_MANIFEST_BYTES);
    if (!isObject(m) || m.format !== V3LAB_FORMAT)
      throw new ImportError(
        `v3lab.json: format is ${JSON.stringify(isObject(m) ? (m.format ?? null) : null)}, expected "${V3LAB_FORMAT}"`,
      );
    if (m.version !== V3LAB_VERSION)
      throw new ImportError(
        `v3lab.json: version ${JSON.stringify(m.version ?? null)} is not supported (this v3lab reads version ${V3LAB_VERSION})`,
      );
    if (!isObject(m.model)) throw new ImportError('v3lab.json: "model" is missing');
    if (
      !isObject(m.files) ||
      !Object.values(m.files).every((f) => isObject(f) && Number.isSafeInteger(f.bytes) && typeof f.crc32 === 'string')
    ) {
      throw new ImportError('v3lab.json: "files" is not a map of file → { bytes, crc32 }');
    }
    const mm = m.model as Record<string, unknown>;
    const section: Record<string, unknown> = {};
    for (const k of Object.keys(fromJson.model)) section[k] = mm[k];
    const fromManifest = validatedRunConfig(
      section as unknown as RunConfig['model'],
      { attention: mm.attention as 'mla', ffn: mm.ffn as 'moe' },
      mm.precision as RunConfig['precision'],
      'v3lab.json model',
    );
    if (fromManifest.arch.attention !== 'mla') throw new ImportError('v3lab.json model: attention is not mla');
    const lab = modelConfigOf(fromManifest, hf.vocabSize);
    // The architecture in v3lab.json must be what config.json says (an edited config.json would
    // otherwise load under the wrong shapes).
    const a = hfConfigOf(lab, 'f32');
    for (const k of ARCH_KEYS) {
      const want = json[k] === undefined && k === 'q_lora_rank' ? null : json[k];
      if (
        JSON.stringify(a[k]) !== JSON.stringify(want ?? null) &&
        !(k === 'num_nextn_predict_layers' && want === undefined && a[k] === 0)
      ) {
        throw new ImportError(
          `config.json and v3lab.json disagree on ${k} (${JSON.stringify(want ?? null)} vs ${JSON.stringify(a[k])}): was config.json edited after export?`,
        );
      }
    }
    config = lab;
    if (m.run !== null && m.run !== undefined) {
      const r = m.run;
      if (
        !isObject(r) ||
        typeof r.preset !== 'string' ||
        !Number.isSafeInteger(r.seed) ||
        !Number.isSafeInteger(r.step) ||
        (r.step as number) < 0
      ) {
        throw new ImportError('v3lab.json: "run" needs preset (string), seed and step (integers)');
      }
      let rc: RunConfig;
      try {
        rc = validateConfig(r.config);
      } catch (e) {
        if (e instanceof ConfigError)
          throw new ImportError(`v3lab.json run config: ${e.message.replace(/^invalid config: /, '')}`);
        throw e;
      }
      if (rc.arch.attention !== 'mla') throw new ImportError('v3lab.json run config: arch.attention is not mla');
      if (JSON.stringify(hfConfigOf(modelConfigOf(rc, hf.vocabSize), 'f32')) !== JSON.stringify(a))
        throw new ImportError('v3lab.json: the run config and the model config describe different models');
      run = { preset: r.preset, seed: r.seed as number, step: r.step as number, config: rc };
    }
    manifest = m as unknown as V3labManifest;
  }
  return { config, run, manifest, ropeInterleave: hf.ropeInterleave, fp8Block: hf.fp8Block ?? [...FP8_BLOCK] };
}

const FLOAT_DTYPES: StDtype[] = ['F32', 'BF16', 'F16'];

/**
 * Validate and read an export directory given as filename → bytes. Required: config.json,
 * model.safetensors, tokenizer.json; v3lab.json adds the run and file checksums.
 */
export function importModel(input: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>): ImportedModel {
  try {
    return importStrict(input instanceof Map ? input : new Map(Object.entries(input)));
  } catch (e) {
    // Every problem with the files is an ImportError already; anything else is a bug here, still
    // reported as one line (the fuzz test asserts this never happens).
    if (e instanceof ImportError) throw e;
    throw new ImportError(`internal error while reading the export: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The checks and decoding of importModel, in the order the header lists (the first failure throws). */
function importStrict(files: ReadonlyMap<string, Uint8Array>): ImportedModel {
  const { config: c, run, manifest, ropeInterleave, fp8Block } = importConfig(files);
  const notes: string[] = [];
  const chars = readTokenizer(files, c);

  // Weights: structure first.
  const tensors = readWeights(files, c);
  const expected = hfTensors(c);
  checkTensorList(tensors, expected, c, fp8Block);
  if (manifest) checkFileSums(files, manifest);

  // Decode.
  const params = decodeParams(tensors, expected, c, fp8Block);
  checkMtpCopies(tensors, expected, params, fp8Block);
  if (!ropeInterleave) {
    permuteRopeRows(params, c);
    notes.push(
      'rope_interleave is false: the RoPE rows of q and kv_a_proj_with_mqa were permuted from the half-split layout to the adjacent-pair layout v3lab computes',
    );
  }

  const dtypes: Partial<Record<StDtype, number>> = {};
  for (const t of tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  return {
    config: c,
    params,
    tokenizer: { chars },
    run,
    dtypes,
    tensorCount: tensors.size,
    exportDtype: manifest ? manifest.dtype : null,
    notes,
  };
}

/** The vocabulary of tokenizer.json (required), checked against the config's vocab_size. */
function readTokenizer(files: ReadonlyMap<string, Uint8Array>, c: ModelConfig): string[] {
  const tokBytes = files.get('tokenizer.json');
  if (!tokBytes) throw new ImportError('tokenizer.json is missing (v3lab needs the vocabulary)');
  return parseTokenizerJson(parseJson('tokenizer.json', tokBytes, MAX_TOKENIZER_BYTES), c.vocab_size);
}

/** The tensors of model.safetensors (one file, bounded by what the config can need), undecoded. */
function readWeights(files: ReadonlyMap<string, Uint8Array>, c: ModelConfig): Map<string, RawTensor> {
  const st = files.get('model.safetensors');
  if (!st) {
    const sharded = files.has('model.safetensors.index.json');
    throw new ImportError(
      sharded
        ? 'model.safetensors is missing: sharded checkpoints (model.safetensors.index.json) are not supported; merge the shards into one file'
        : 'model.safetensors is missing',
    );
  }
  const limit = modelBytesLimit(c);
  if (st.length > limit)
    throw new ImportError(
      `model.safetensors is ${st.length} bytes, more than the ${limit} a model of this config.json can need`,
    );
  let tensors: Map<string, RawTensor>;
  let metadata: Record<string, string>;
  try {
    ({ tensors, metadata } = readSafetensors(st));
  } catch (e) {
    if (e instanceof ImportError) throw new ImportError(`model.safetensors: ${e.message}`);
    throw e;
  }
  if (metadata.format !== undefined && metadata.format !== 'pt')
    throw new ImportError(
      `model.safetensors: metadata format is ${JSON.stringify(metadata.format)}; transformers writes and reads "pt"`,
    );
  return tensors;
}

/** Every tensor's name, shape and dtype against the config; one ImportError lists all that is missing, unexpected or wrong. */
function checkTensorList(
  tensors: Map<string, RawTensor>,
  expected: HfTensor[],
  c: ModelConfig,
  fp8Block: [number, number],
): void {
  const missing: string[] = [];
  const unexpected: string[] = [];
  const wrongShape: string[] = [];
  const wrongDtype: string[] = [];
  const sameShape = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const scaleNames = new Set<string>();
  for (const t of expected) {
    const f = tensors.get(t.name);
    if (!f) {
      if (t.source.kind === 'param' || t.source.kind === 'expert') missing.push(t.name);
      continue;
    }
    if (!sameShape(f.shape, t.shape)) {
      wrongShape.push(`"${t.name}" is ${fmtShape(f.shape)}, expected ${fmtShape(t.shape)}`);
      continue;
    }
    if (f.dtype === 'F8_E4M3') {
      if (!isFp8Weight(t.name, t.shape)) {
        wrongDtype.push(`"${t.name}" is F8_E4M3, but only the block linears may be FP8`);
        continue;
      }
      const sName = `${t.name}_scale_inv`;
      scaleNames.add(sName);
      const s = tensors.get(sName);
      const want = scaleShape(t.shape[0], t.shape[1], fp8Block);
      if (!s) missing.push(sName);
      else if (s.dtype !== 'F32') wrongDtype.push(`"${sName}" is ${s.dtype}, expected F32`);
      else if (!sameShape(s.shape, want))
        wrongShape.push(
          `"${sName}" is ${fmtShape(s.shape)}, expected ${fmtShape(want)} (blocks of ${fp8Block[0]}×${fp8Block[1]})`,
        );
    } else if (!FLOAT_DTYPES.includes(f.dtype)) {
      wrongDtype.push(`"${t.name}" is ${f.dtype}`);
    }
  }
  const known = new Set(expected.map((t) => t.name));
  for (const name of tensors.keys()) if (!known.has(name) && !scaleNames.has(name)) unexpected.push(name);
  if (missing.length || unexpected.length || wrongShape.length || wrongDtype.length) {
    const parts: string[] = [];
    const few = (xs: string[]) => `${xs.slice(0, 6).join('; ')}${xs.length > 6 ? ` and ${xs.length - 6} more` : ''}`;
    if (missing.length) parts.push(`missing tensors: ${listNames(missing)}`);
    if (unexpected.length) parts.push(`unexpected tensors: ${listNames(unexpected)}`);
    if (wrongShape.length) parts.push(`wrong shapes: ${few(wrongShape)}`);
    if (wrongDtype.length) parts.push(`wrong dtypes: ${few(wrongDtype)}`);
    const arch = `hidden_size ${c.hidden_size}, ${c.num_hidden_layers} layers${c.num_nextn_predict_layers ? ` + ${c.num_nextn_predict_layers} MTP` : ''}, vocab ${c.vocab_size}`;
    throw new ImportError(`model.safetensors does not match config.json (${arch}): ${parts.join('; ')}`);
  }
}

/** Integrity: every file the manifest lists that is here must be byte-identical to the export. */
function checkFileSums(files: ReadonlyMap<string, Uint8Array>, manifest: V3labManifest): void {
  for (const [name, want] of Object.entries(manifest.files)) {
    const bytes = files.get(name);
    if (!bytes) continue;
    if (bytes.length !== want.bytes)
      throw new ImportError(
        `${name} is ${bytes.length} bytes but v3lab.json recorded ${want.bytes}: the file is truncated, corrupt or was changed after export`,
      );
    const got = crc32Hex(bytes);
    if (got !== want.crc32)
      throw new ImportError(
        `${name} fails its checksum (CRC-32 ${got}, v3lab.json recorded ${want.crc32}): the file is corrupt or was changed after export`,
      );
  }
}

/** One tensor of the file as f32: floats widened, FP8 multiplied by its (checked) block scales. */
function decodeTensor(tensors: Map<string, RawTensor>, name: string, fp8Block: [number, number]): Float32Array {
  const t = tensors.get(name)!;
  if (t.dtype !== 'F8_E4M3') return refuseNonFinite(name, t.shape, toFloat32(t));
  const s = toFloat32(tensors.get(`${name}_scale_inv`)!);
  if (!s.every((x) => Number.isFinite(x) && x >= 0))
    throw new ImportError(`model.safetensors: "${name}_scale_inv" holds a negative or non-finite scale`);
  return refuseNonFinite(name, t.shape, dequantizeBlocks(t.bytes, s, t.shape[0], t.shape[1], fp8Block));
}

/**
 * A weight that is NaN or ±Inf anywhere would load, sample garbage and train to a NaN loss: refuse
 * the file, naming the tensor, how many values are bad and where the first one is.
 */
function refuseNonFinite(name: string, shape: readonly number[], data: Float32Array): Float32Array {
  const first = data.findIndex((x) => !Number.isFinite(x));
  if (first < 0) return data;
  let bad = 0;
  for (let i = first; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  const index: number[] = [];
  let rest = first;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  throw new ImportError(
    `model.safetensors: "${name}" has ${bad} non-finite value${bad > 1 ? 's' : ''} (NaN or ±Inf), the first ${data[first]} at [${index.join(', ')}]: the weights come from a diverged run or are corrupt`,
  );
}

/** The lab's parameters in parameterShapes order, per-expert tensors stacked back to [E, out, in]. */
function decodeParams(
  tensors: Map<string, RawTensor>,
  expected: HfTensor[],
  c: ModelConfig,
  fp8Block: [number, number],
): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  const byParam = new Map<string, HfTensor[]>();
  for (const t of expected) {
    if (t.source.kind === 'param' || t.source.kind === 'expert') {
      const list = byParam.get(t.source.name) ?? [];
      list.push(t);
      byParam.set(t.source.name, list);
    }
  }
  for (const [name, shape] of parameterShapes(c)) {
    const parts = byParam.get(name)!;
    if (parts.length === 1 && parts[0].source.kind === 'param') {
      params.set(name, decodeTensor(tensors, parts[0].name, fp8Block));
    } else {
      const out = new Float32Array(numel(shape));
      const per = numel(shape) / shape[0];
      for (const p of parts)
        out.set(decodeTensor(tensors, p.name, fp8Block), (p.source as { expert: number }).expert * per);
      params.set(name, out);
    }
  }
  return params;
}

/** The MTP layer's copies of the embedding and head must be the shared tensors. */
function checkMtpCopies(
  tensors: Map<string, RawTensor>,
  expected: HfTensor[],
  params: Map<string, Float32Array>,
  fp8Block: [number, number],
): void {
  for (const t of expected) {
    if (t.source.kind !== 'copy' || !tensors.has(t.name)) continue;
    const a = new Uint32Array(decodeTensor(tensors, t.name, fp8Block).buffer);
    const b = new Uint32Array(params.get(t.source.name)!.buffer);
    let same = a.length === b.length;
    for (let i = 0; same && i < a.length; i++) same = a[i] === b[i];
    if (!same)
      throw new ImportError(
        `model.safetensors: "${t.name}" differs from "${t.source.name}"; v3lab's MTP modules share the main model's embedding and head, so the copies must be identical`,
      );
  }
}

/**
 * Half-split RoPE (pairs (i, i + dr/2)) → adjacent pairs (2i, 2i+1): lab row 2i = file row i,
 * lab row 2i+1 = file row i + dr/2, for the RoPE rows of each query head and of the shared key.
 */
function permuteRopeRows(params: Map<string, Float32Array>, c: ModelConfig): void {
  const dn = c.qk_nope_head_dim;
  const dr = c.qk_rope_head_dim;
  const permute = (name: string, starts: number[]) => {
    const w = params.get(name)!;
    const cols = c.q_lora_rank > 0 && name.endsWith('q_b_proj.weight') ? c.q_lora_rank : c.hidden_size;
    const src = w.slice();
    for (const r0 of starts) {
      for (let i = 0; i < dr / 2; i++) {
        w.set(src.subarray((r0 + i) * cols, (r0 + i + 1) * cols), (r0 + 2 * i) * cols);
        w.set(src.subarray((r0 + i + dr / 2) * cols, (r0 + i + dr / 2 + 1) * cols), (r0 + 2 * i + 1) * cols);
      }
    }
  };
  for (const [name] of parameterShapes(c)) {
    if (/\.self_attn\.(q_proj|q_b_proj)\.weight$/.test(name))
      permute(
        name,
        Array.from({ length: c.num_attention_heads }, (_, h) => h * (dn + dr) + dn),
      );
    else if (name.endsWith('.self_attn.kv_a_proj_with_mqa.weight')) permute(name, [c.kv_lora_rank]);
  }
}
