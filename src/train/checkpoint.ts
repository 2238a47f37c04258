// Checkpoints as safetensors files, written from the format's published description:
//
//   [8 bytes]  N, the header length, unsigned 64-bit little-endian
//   [N bytes]  UTF-8 JSON object: tensor name -> { dtype, shape, data_offsets: [begin, end] },
//              plus an optional "__metadata__": { string: string }. It starts with '{' and may
//              be padded at the end with spaces (we pad to a multiple of 8 so the data is aligned).
//   [rest]     the byte buffer: every tensor's elements, little-endian, row-major, tightly packed.
//              data_offsets are relative to the start of this buffer; the tensors cover it
//              exactly, with no gaps and no overlaps.
//
// A v3lab checkpoint is such a file with the model parameters under their Hugging Face names,
// the AdamW moments as `optimizer.m.<name>` / `optimizer.v.<name>`, and the run (preset, seed,
// step, config, sampler state) in the metadata. Reading is strict: every problem with a file
// becomes a CheckpointError whose message says what is wrong and with which tensor.

import type { Checkpoint } from '../config';
import { ConfigError, validateConfig, type RunConfig } from '../config';
import { modelConfigOf, parameterShapes } from '../model/config';
import {
  DEFAULT_MAX_HEADER_BYTES,
  f32Bytes,
  fmtShape,
  numel,
  readSafetensors,
  SafetensorsError,
  toFloat32,
  writeSafetensors,
  type RawTensor,
} from './safetensors';
import { isBuffer } from '../model/moe';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface TensorF32 {
  shape: number[];
  data: Float32Array;
}

export { DEFAULT_MAX_HEADER_BYTES };

/**
 * Cap used for v3lab checkpoints: the header carries the run config, whose `data.text` may hold
 * up to MAX_TEXT_CHARS characters, escaped twice (once in the config JSON, once in the header).
 */
export const CHECKPOINT_MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** Element types a checkpoint may hold: F32 is read bit-exactly, F16 and BF16 are widened. */
const CHECKPOINT_DTYPES = new Set(['F32', 'F16', 'BF16']);

function q(name: string): string {
  return JSON.stringify(name);
}

/**
 * Serialize f32 tensors (sorted by name, packed in that order) with optional string metadata.
 * The header is space-padded so the data starts at a multiple of 8 bytes. The float bits are
 * copied as they are, so NaN payloads, -0 and denormals survive.
 */
export function encodeSafetensors(tensors: Record<string, TensorF32>, metadata?: Record<string, string>): Uint8Array {
  try {
    return writeSafetensors(
      Object.entries(tensors).map(([name, { shape, data }]): [string, RawTensor] => {
        if (!(data instanceof Float32Array)) throw new CheckpointError(`tensor ${q(name)}: data is not a Float32Array`);
        if (
          Array.isArray(shape) &&
          shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
          data.length !== numel(shape)
        ) {
          throw new CheckpointError(
            `tensor ${q(name)}: shape ${fmtShape(shape)} has ${numel(shape)} elements but data has ${data.length}`,
          );
        }
        return [name, { dtype: 'F32', shape, bytes: f32Bytes(data) }];
      }),
      metadata,
    );
  } catch (e) {
    throw asCheckpointError(e);
  }
}

/**
 * Parse and validate a safetensors file. F32 is read bit-exactly; F16 and BF16 are converted to
 * f32. Any problem with the bytes throws a CheckpointError naming it (and the tensor); nothing
 * else is thrown.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  opts: { maxHeaderBytes?: number } = {},
): { tensors: Record<string, TensorF32>; metadata: Record<string, string> } {
  try {
    const file = readSafetensors(bytes, opts);
    const tensors: Record<string, TensorF32> = {};
    for (const [name, t] of file.tensors) {
      if (!CHECKPOINT_DTYPES.has(t.dtype))
        throw new CheckpointError(
          `tensor ${q(name)} has dtype ${t.dtype}; v3lab reads F32 (and converts F16 and BF16) in a checkpoint`,
        );
      tensors[name] = { shape: t.shape, data: toFloat32(t) };
    }
    return { tensors, metadata: file.metadata };
  } catch (e) {
    throw asCheckpointError(e);
  }
}

function asCheckpointError(e: unknown): CheckpointError {
  if (e instanceof CheckpointError) return e;
  if (e instanceof SafetensorsError) return new CheckpointError(e.message);
  const msg = e instanceof Error ? e.message : String(e);
  return new CheckpointError(`unreadable checkpoint: ${msg}`);
}

// ---------------------------------------------------------------------------------------------
// v3lab checkpoints

const FORMAT = 'v3lab-checkpoint';
const VERSION = 1;
const M_PREFIX = 'optimizer.m.';
const V_PREFIX = 'optimizer.v.';

/** Serialize a Checkpoint (parameters, optional AdamW moments, run metadata). */
export function checkpointToSafetensors(ckpt: Checkpoint): Uint8Array {
  const tensors: Record<string, TensorF32> = {};
  for (const [name, t] of Object.entries(ckpt.params)) {
    if (name.startsWith('optimizer.'))
      throw new CheckpointError(`parameter ${q(name)}: names starting with "optimizer." are reserved`);
    tensors[name] = t;
  }
  const metadata: Record<string, string> = {
    format: FORMAT,
    version: String(VERSION),
    preset: ckpt.preset,
    seed: String(ckpt.seed),
    step: String(ckpt.step),
    config: JSON.stringify(ckpt.config),
  };
  if (ckpt.optimizer) {
    const opt = ckpt.optimizer;
    for (const [kind, prefix, moments] of [
      ['m', M_PREFIX, opt.m],
      ['v', V_PREFIX, opt.v],
    ] as const) {
      for (const [name, data] of Object.entries(moments)) {
        const p = ckpt.params[name];
        if (!p) throw new CheckpointError(`optimizer.${kind} has a moment for ${q(name)}, which is not a parameter`);
        tensors[prefix + name] = { shape: p.shape, data };
      }
    }
    metadata.optimizer_step = String(opt.step);
  }
  if (ckpt.samplerState) metadata.sampler_state = JSON.stringify(ckpt.samplerState);
  return encodeSafetensors(tensors, metadata);
}

function parseIntMeta(meta: Record<string, string>, key: string, min: number): number {
  const raw = meta[key];
  if (raw === undefined) throw new CheckpointError(`metadata ${q(key)} is missing`);
  const v = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isSafeInteger(v) || v < min)
    throw new CheckpointError(`metadata ${q(key)} is ${JSON.stringify(raw)}; expected an integer ≥ ${min}`);
  return v;
}

/** "a", "b", "c" and 4 more — keeps messages readable when a whole model mismatches. */
function listNames(names: string[], max = 8): string {
  const shown = names.slice(0, max).map(q).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function checkpointFromStrict(bytes: Uint8Array): Checkpoint {
  const { tensors, metadata: meta } = decodeSafetensors(bytes, { maxHeaderBytes: CHECKPOINT_MAX_HEADER_BYTES });

  if (meta.format !== FORMAT) {
    const found = meta.format === undefined ? 'has no "format" metadata' : `has format ${JSON.stringify(meta.format)}`;
    throw new CheckpointError(`not a v3lab checkpoint: the file ${found} (expected ${JSON.stringify(FORMAT)})`);
  }
  if (meta.version !== String(VERSION)) {
    throw new CheckpointError(
      `checkpoint version ${JSON.stringify(meta.version ?? null)} is not supported (this v3lab reads version ${VERSION})`,
    );
  }
  const preset = meta.preset;
  if (typeof preset !== 'string' || preset === '') throw new CheckpointError('metadata "preset" is missing');
  const seed = parseIntMeta(meta, 'seed', Number.MIN_SAFE_INTEGER);
  const step = parseIntMeta(meta, 'step', 0);

  if (meta.config === undefined) throw new CheckpointError('metadata "config" is missing');
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(meta.config);
  } catch (e) {
    throw new CheckpointError(`metadata "config" is not valid JSON: ${(e as Error).message}`);
  }
  let config: RunConfig;
  try {
    config = validateConfig(rawConfig);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`checkpoint config: ${e.message}`);
    throw e;
  }

  // The vocabulary is not in the config (it comes from the corpus): read it off the embedding.
  const embed = tensors['model.embed_tokens.weight'];
  if (!embed)
    throw new CheckpointError('tensor "model.embed_tokens.weight" is missing (needed to know the vocabulary size)');
  if (embed.shape.length !== 2 || embed.shape[0] < 1) {
    throw new CheckpointError(
      `tensor "model.embed_tokens.weight" has shape ${fmtShape(embed.shape)}; expected [vocab_size, ${config.model.hidden_size}]`,
    );
  }
  const expected = parameterShapes(modelConfigOf(config, embed.shape[0]));
  const expectedMap = new Map(expected);

  // Sort every tensor into parameter / moment, and collect every mismatch before reporting.
  const missing: string[] = [];
  const unexpected: string[] = [];
  const wrongShape: string[] = [];
  const checkShape = (name: string, want: number[] | undefined) => {
    const t = tensors[name];
    if (!want) unexpected.push(name);
    else if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) {
      wrongShape.push(`${q(name)} is ${fmtShape(t.shape)}, expected ${fmtShape(want)}`);
    }
  };
  let momentCount = 0;
  for (const name of Object.keys(tensors)) {
    if (name.startsWith(M_PREFIX) || name.startsWith(V_PREFIX)) {
      momentCount++;
      // Both prefixes have the same length, so one slice strips either.
      checkShape(name, expectedMap.get(name.slice(M_PREFIX.length)));
    } else {
      checkShape(name, expectedMap.get(name));
    }
  }
  const hasOptStep = meta.optimizer_step !== undefined;
  const wantMoments = momentCount > 0 || hasOptStep;
  for (const [name] of expected) {
    if (!Object.hasOwn(tensors, name)) missing.push(name);
    // State such as the MoE routing bias is not optimized, so it has no moments.
    if (wantMoments && !isBuffer(name)) {
      if (!Object.hasOwn(tensors, M_PREFIX + name)) missing.push(M_PREFIX + name);
      if (!Object.hasOwn(tensors, V_PREFIX + name)) missing.push(V_PREFIX + name);
    }
  }
  if (missing.length || unexpected.length || wrongShape.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing tensors: ${listNames(missing)}`);
    if (unexpected.length) parts.push(`unexpected tensors: ${listNames(unexpected)}`);
    if (wrongShape.length) {
      const shown = wrongShape.slice(0, 8).join('; ');
      parts.push(`wrong shapes: ${shown}${wrongShape.length > 8 ? ` and ${wrongShape.length - 8} more` : ''}`);
    }
    const arch = `hidden_size ${config.model.hidden_size}, ${config.model.num_hidden_layers} layers, vocab ${embed.shape[0]}`;
    throw new CheckpointError(`checkpoint tensors do not match its config (${arch}): ${parts.join('; ')}`);
  }

  const params: Checkpoint['params'] = {};
  for (const [name] of expected) params[name] = tensors[name];
  const ckpt: Checkpoint = { format: FORMAT, version: VERSION, preset, seed, step, config, params };

  if (wantMoments) {
    if (!hasOptStep) throw new CheckpointError('the file has optimizer moments but no "optimizer_step" metadata');
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name] of expected) {
      if (isBuffer(name)) continue;
      m[name] = tensors[M_PREFIX + name].data;
      v[name] = tensors[V_PREFIX + name].data;
    }
    ckpt.optimizer = { step: parseIntMeta(meta, 'optimizer_step', 0), m, v };
  }

  if (meta.sampler_state !== undefined) {
    let s: unknown;
    try {
      s = JSON.parse(meta.sampler_state);
    } catch (e) {
      throw new CheckpointError(`metadata "sampler_state" is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(s) || !s.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new CheckpointError('metadata "sampler_state" is not a list of numbers');
    }
    ckpt.samplerState = s;
  }
  return ckpt;
}

/**
 * Read a v3lab checkpoint: the metadata, the config (validated), every parameter checked by name
 * and shape against the config, and the optimizer moments if present (weights-only files are
 * fine). Throws CheckpointError naming each problem; nothing else.
 */
export function checkpointFromSafetensors(bytes: Uint8Array): Checkpoint {
  try {
    return checkpointFromStrict(bytes);
  } catch (e) {
    throw asCheckpointError(e);
  }
}
