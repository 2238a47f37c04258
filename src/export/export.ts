// Export: the lab's parameters → the files of a Hugging Face DeepSeek-V3 model directory.
//
//   config.json               DeepseekV3Config (hf.ts)
//   model.safetensors         weights under HF names (hf.ts: hfTensors), in the chosen dtype:
//                               f32:  every tensor F32 (bit-exact copy of the lab's f32 weights)
//                               bf16: BF16 (round to nearest even); the routing bias stays F32
//                               fp8:  block linears E4M3 + weight_scale_inv (fp8.ts); embedding,
//                                     head, router, norms and eh_proj BF16; routing bias F32
//                             metadata {"format": "pt"} (transformers refuses files without it)
//   tokenizer.json, tokenizer_config.json   the character vocabulary (tokenizer.ts)
//   deepseek_ref_config.json  ModelArgs for DeepSeek-V3's inference code (readme.ts)
//   README.md                 how to load this export (readme.ts)
//   torchtitan/train.toml, torchtitan/mapping.json   with trainer 'torchtitan' (torchtitan.ts)
//   v3lab.json                the lab's side: model config (precision included), the run
//                             (preset, seed, step, full config) and a CRC-32 + size of every
//                             other file, so import can tell a corrupted or edited file.
//
// Parameters may be Float32Array (what checkpoints hold) or Float64Array (CPU backend reads);
// f64 values are rounded to f32 first, since the format stores at most f32.

import { validateConfig, type RunConfig } from '../config';
import { modelConfigOf, parameterShapes, type ModelConfig } from '../model/config';
import { ExportError, listNames } from './errors';
import { quantizeBlocks, scaleShape } from './fp8';
import {
  checkExportable,
  hfConfigOf,
  hfTensors,
  isF32Always,
  isFp8Weight,
  MAX_POSITIONS,
  type ExportDtype,
  EXPORT_DTYPES,
} from './hf';
import { deepseekRefConfig, exportReadme } from './readme';
import { bf16Bytes, crc32Hex, f32Bytes, numel, writeSafetensors, type RawTensor } from './safetensors';
import { tokenizerConfigJson, tokenizerJson, type Vocabulary } from './tokenizer';
import { torchtitanMapping, torchtitanToml, type RunInfo } from './torchtitan';

export const V3LAB_FORMAT = 'v3lab-export';
export const V3LAB_VERSION = 1;

export interface ExportOptions {
  /** Weight dtype; default f32. */
  dtype?: ExportDtype;
  /** Also write the distributed-trainer handoff (torchtitan/train.toml + mapping.json). */
  trainer?: 'torchtitan' | null;
  /** The run these weights come from (README, v3lab.json, TorchTitan schedule). */
  run?: { preset: string; seed: number; step: number };
  /** Path of the export directory on the training machine, written into train.toml (default "."). */
  torchtitanPath?: string;
}

/** The v3lab.json manifest. */
export interface V3labManifest {
  format: typeof V3LAB_FORMAT;
  version: number;
  dtype: ExportDtype;
  model: ModelConfig;
  run: RunInfo | null;
  files: Record<string, { bytes: number; crc32: string }>;
}

function isRunConfig(x: RunConfig | ModelConfig): x is RunConfig {
  return typeof (x as RunConfig).model === 'object' && typeof (x as RunConfig).arch === 'object';
}

const encodeText = (s: string) => new TextEncoder().encode(s);
const jsonFile = (x: unknown) => encodeText(`${JSON.stringify(x, null, 2)}\n`);

/** The lab's parameters as f32 arrays, checked by name and size against the config. */
function checkedParams(params: Map<string, Float32Array | Float64Array>, c: ModelConfig): Map<string, Float32Array> {
  const shapes = parameterShapes(c);
  const missing: string[] = [];
  const wrong: string[] = [];
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const data = params.get(name);
    if (!data) {
      missing.push(name);
      continue;
    }
    if (data.length !== numel(shape)) {
      wrong.push(`"${name}" has ${data.length} values, [${shape.join(', ')}] needs ${numel(shape)}`);
      continue;
    }
    out.set(name, data instanceof Float32Array ? data : Float32Array.from(data));
  }
  const known = new Set(shapes.map(([n]) => n));
  const unexpected = [...params.keys()].filter((n) => !known.has(n));
  if (missing.length || wrong.length || unexpected.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing parameters: ${listNames(missing)}`);
    if (unexpected.length) parts.push(`unexpected parameters: ${listNames(unexpected)}`);
    if (wrong.length)
      parts.push(
        `wrong sizes: ${wrong.slice(0, 4).join('; ')}${wrong.length > 4 ? ` and ${wrong.length - 4} more` : ''}`,
      );
    throw new ExportError(`the parameters do not match the config: ${parts.join('; ')}`);
  }
  return out;
}

/** The tensors of model.safetensors (name → dtype, shape, bytes). */
export function exportTensors(
  params: Map<string, Float32Array>,
  c: ModelConfig,
  dtype: ExportDtype,
): Array<[string, RawTensor]> {
  const out: Array<[string, RawTensor]> = [];
  for (const t of hfTensors(c)) {
    let data: Float32Array;
    switch (t.source.kind) {
      case 'param':
      case 'copy':
        data = params.get(t.source.name)!;
        break;
      case 'expert': {
        const n = numel(t.shape);
        data = params.get(t.source.name)!.subarray(t.source.expert * n, (t.source.expert + 1) * n);
        break;
      }
      case 'empty':
        data = new Float32Array(0);
        break;
    }
    if (dtype === 'f32' || isF32Always(t.name)) {
      out.push([t.name, { dtype: 'F32', shape: t.shape, bytes: f32Bytes(data) }]);
    } else if (dtype === 'fp8' && isFp8Weight(t.name, t.shape)) {
      const [rows, cols] = t.shape;
      let q: ReturnType<typeof quantizeBlocks>;
      try {
        q = quantizeBlocks(data, rows, cols);
      } catch (e) {
        throw new ExportError(`tensor "${t.name}": ${(e as Error).message}`);
      }
      out.push([t.name, { dtype: 'F8_E4M3', shape: t.shape, bytes: q.codes }]);
      out.push([`${t.name}_scale_inv`, { dtype: 'F32', shape: scaleShape(rows, cols), bytes: f32Bytes(q.scaleInv) }]);
    } else {
      out.push([t.name, { dtype: 'BF16', shape: t.shape, bytes: bf16Bytes(data) }]);
    }
  }
  return out;
}

/**
 * Export a model: its parameters (lab names, parameterShapes order not required), its config
 * (a run config, or a model config that includes vocab_size) and its tokenizer. Returns
 * filename → bytes (paths use "/"). Throws ExportError when the model cannot be expressed.
 */
export function exportModel(
  params: Map<string, Float32Array | Float64Array>,
  config: RunConfig | ModelConfig,
  tokenizer: Vocabulary,
  opts: ExportOptions = {},
): Map<string, Uint8Array> {
  const dtype = opts.dtype ?? 'f32';
  if (!EXPORT_DTYPES.includes(dtype))
    throw new ExportError(`dtype "${dtype}" is not one of ${EXPORT_DTYPES.join(', ')}`);
  const vocab = tokenizer.chars.length;
  let c: ModelConfig;
  let runConfig: RunConfig | null = null;
  if (isRunConfig(config)) {
    runConfig = validateConfig(structuredClone(config));
    c = modelConfigOf(runConfig, vocab);
  } else {
    c = structuredClone(config);
    if (c.vocab_size !== vocab)
      throw new ExportError(`the tokenizer has ${vocab} characters but the model's vocab_size is ${c.vocab_size}`);
  }
  checkExportable(c);
  const f32 = checkedParams(params, c);
  const run: RunInfo | null = runConfig && opts.run ? { ...opts.run, config: runConfig } : null;

  const files = new Map<string, Uint8Array>();
  files.set('config.json', jsonFile(hfConfigOf(c, dtype)));
  files.set('model.safetensors', writeSafetensors(exportTensors(f32, c, dtype), { format: 'pt' }));
  files.set('tokenizer.json', encodeText(tokenizerJson(tokenizer)));
  files.set('tokenizer_config.json', encodeText(tokenizerConfigJson(runConfig?.data.seq_len ?? MAX_POSITIONS)));
  files.set('deepseek_ref_config.json', jsonFile(deepseekRefConfig(c, dtype)));
  const withTitan = opts.trainer === 'torchtitan';
  if (withTitan) {
    files.set('torchtitan/train.toml', encodeText(torchtitanToml(c, run, opts.torchtitanPath ?? '.')));
    files.set('torchtitan/mapping.json', jsonFile(torchtitanMapping(c, run)));
  }
  const names = [...files.keys(), 'README.md', 'v3lab.json'];
  files.set('README.md', encodeText(exportReadme(c, dtype, hfTensors(c), names, run ?? opts.run ?? null, withTitan)));

  const manifest: V3labManifest = { format: V3LAB_FORMAT, version: V3LAB_VERSION, dtype, model: c, run, files: {} };
  for (const [name, bytes] of files) manifest.files[name] = { bytes: bytes.length, crc32: crc32Hex(bytes) };
  files.set('v3lab.json', jsonFile(manifest));
  return files;
}
