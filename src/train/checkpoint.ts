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

import type { Checkpoint } from '../lab/api';
import { ConfigError, validateConfig, type RunConfig } from '../lab/config';
import { modelConfigOf, parameterShapes } from '../model/config';
import { isBuffer } from '../model/moe';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface TensorF32 {
  shape: number[];
  data: Float32Array;
}

/** Default cap on the JSON header; a larger claimed length is refused before reading it. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Cap used for v3lab checkpoints: the header carries the run config, whose `data.text` may hold
 * up to MAX_TEXT_CHARS characters, escaped twice (once in the config JSON, once in the header).
 */
const CHECKPOINT_MAX_HEADER_BYTES = 64 * 1024 * 1024;

const METADATA_KEY = '__metadata__';

/** Bytes per element of the dtypes we can read; others are refused by name. */
const READABLE_DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** Every dtype the format defines, so an unsupported one gets a precise message. */
const KNOWN_DTYPES = new Set([
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64',
]);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

function fmtShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

function q(name: string): string {
  return JSON.stringify(name);
}

/** Compare names by UTF-16 code units: the same order on every machine (no locale). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Serialize f32 tensors (sorted by name, packed in that order) with optional string metadata.
 * The header is space-padded so the data starts at a multiple of 8 bytes. The float bits are
 * copied as they are, so NaN payloads, -0 and denormals survive.
 */
export function encodeSafetensors(tensors: Record<string, TensorF32>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort(byName);
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (k === '__proto__') throw new CheckpointError('metadata key "__proto__" is not allowed');
      if (typeof v !== 'string') throw new CheckpointError(`metadata ${q(k)} is a ${typeof v}; metadata values must be strings`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY || name === '__proto__') throw new CheckpointError(`a tensor cannot be named ${q(name)}`);
    const { shape, data } = tensors[name];
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new CheckpointError(`tensor ${q(name)}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!(data instanceof Float32Array)) throw new CheckpointError(`tensor ${q(name)}: data is not a Float32Array`);
    if (data.length !== numel(shape)) {
      throw new CheckpointError(`tensor ${q(name)}: shape ${fmtShape(shape)} has ${numel(shape)} elements but data has ${data.length}`);
    }
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // space padding
  let p = 8 + headerLen;
  for (const name of names) {
    const data = tensors[name].data;
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), p);
    } else {
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < bits.length; i++) dv.setUint32(p + 4 * i, bits[i], true);
    }
    p += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** f16 bits -> f32 bits (exact: every half value, incl. subnormals, NaN and inf, is an f32). */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal half: shift the mantissa up until its leading 1 becomes the implicit bit.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Copy one tensor's bytes out of the buffer into a fresh (aligned) Float32Array. */
function readF32(bytes: Uint8Array, begin: number, n: number, dtype: string): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + begin, n * READABLE_DTYPES[dtype]);
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + 4 * n));
    else for (let i = 0; i < n; i++) bits[i] = dv.getUint32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of an f32.
    for (let i = 0; i < n; i++) bits[i] = (dv.getUint16(2 * i, true) << 16) >>> 0;
  } else {
    for (let i = 0; i < n; i++) bits[i] = halfToFloatBits(dv.getUint16(2 * i, true));
  }
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return `a ${typeof x}`;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, raw: unknown, dataLen: number): Entry {
  const t = `tensor ${q(name)}`;
  if (!isPlainObject(raw)) throw new CheckpointError(`${t}: header entry is ${describe(raw)}, expected an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offs } = raw;
  if (typeof dtype !== 'string') throw new CheckpointError(`${t}: dtype is ${describe(dtype)}, expected a string such as "F32"`);
  if (!(dtype in READABLE_DTYPES)) {
    const what = KNOWN_DTYPES.has(dtype) ? `dtype ${dtype}` : `unknown dtype ${JSON.stringify(dtype)}`;
    throw new CheckpointError(`${t} has ${what}; v3lab reads F32 (and converts F16 and BF16)`);
  }
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0)) {
    throw new CheckpointError(`${t}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
    throw new CheckpointError(`${t}: data_offsets ${JSON.stringify(offs)} is not a pair [begin, end] of non-negative integers`);
  }
  const [begin, end] = offs as number[];
  if (begin > end) throw new CheckpointError(`${t}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) {
    throw new CheckpointError(`${t}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes after the header)`);
  }
  const need = numel(shape) * READABLE_DTYPES[dtype];
  if (end - begin !== need) {
    throw new CheckpointError(
      `${t}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${fmtShape(shape)} of ${dtype} needs ${need}`,
    );
  }
  return { name, dtype, shape: [...shape], begin, end };
}

function decodeStrict(bytes: Uint8Array, maxHeaderBytes: number): { tensors: Record<string, TensorF32>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new CheckpointError(`expected the file's bytes (Uint8Array), got ${describe(bytes)}`);
  if (bytes.length < 8) {
    throw new CheckpointError(`file is ${bytes.length} bytes: too short for a safetensors file (it starts with an 8-byte header length)`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const avail = bytes.length - 8;
  if (n64 > BigInt(maxHeaderBytes)) {
    throw new CheckpointError(`header length ${n64} is larger than the limit of ${maxHeaderBytes} bytes (not a safetensors file, or corrupt)`);
  }
  const n = Number(n64);
  if (n > avail) throw new CheckpointError(`header length ${n} is larger than the file (${avail} bytes after the 8-byte length): truncated or corrupt`);
  if (n < 2) throw new CheckpointError(`header length ${n} is too small for a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new CheckpointError('header is not valid UTF-8');
  }
  if (text[0] !== '{') throw new CheckpointError(`header does not start with "{" (found ${JSON.stringify(text.slice(0, 16))}): not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) throw new CheckpointError(`header is ${describe(header)}, not a JSON object`);

  const metadata: Record<string, string> = {};
  if (Object.hasOwn(header, METADATA_KEY)) {
    const m = header[METADATA_KEY];
    if (!isPlainObject(m)) throw new CheckpointError(`${METADATA_KEY} is ${describe(m)}; expected an object of strings`);
    for (const [k, v] of Object.entries(m)) {
      if (k === '__proto__') throw new CheckpointError(`${METADATA_KEY} key "__proto__" is not allowed`);
      if (typeof v !== 'string') throw new CheckpointError(`${METADATA_KEY} value ${q(k)} is ${describe(v)}; metadata values must be strings`);
      metadata[k] = v;
    }
  }

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    // JSON.parse makes "__proto__" an own key; as a property name it would rewrite a prototype.
    if (name === '__proto__') throw new CheckpointError('tensor name "__proto__" is not allowed');
    entries.push(parseEntry(name, raw, dataLen));
  }

  // The tensors must tile the buffer: sorted by position, each starts where the previous ended.
  const byPos = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end || byName(a.name, b.name));
  let pos = 0;
  let prev: Entry | null = null;
  for (const e of byPos) {
    if (e.begin < pos) {
      throw new CheckpointError(`tensor ${q(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${q(prev!.name)} [${prev!.begin}, ${prev!.end}]`);
    }
    if (e.begin > pos) {
      const after = prev ? `after tensor ${q(prev.name)}` : 'at the start of the data';
      throw new CheckpointError(`gap of ${e.begin - pos} bytes ${after}, before tensor ${q(e.name)} (data_offsets must be contiguous)`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) {
    const after = prev ? `after the last tensor ${q(prev.name)}` : 'but the header lists no tensors';
    throw new CheckpointError(`${dataLen - pos} bytes of data ${after} belong to no tensor (data_offsets must cover the data exactly)`);
  }

  const tensors: Record<string, TensorF32> = {};
  for (const e of entries.sort((a, b) => byName(a.name, b.name))) {
    tensors[e.name] = { shape: e.shape, data: readF32(bytes, dataStart + e.begin, numel(e.shape), e.dtype) };
  }
  return { tensors, metadata };
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
    return decodeStrict(bytes, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  } catch (e) {
    throw asCheckpointError(e);
  }
}

function asCheckpointError(e: unknown): CheckpointError {
  if (e instanceof CheckpointError) return e;
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
    if (name.startsWith('optimizer.')) throw new CheckpointError(`parameter ${q(name)}: names starting with "optimizer." are reserved`);
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
    for (const [kind, prefix, moments] of [['m', M_PREFIX, opt.m], ['v', V_PREFIX, opt.v]] as const) {
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
  if (!Number.isSafeInteger(v) || v < min) throw new CheckpointError(`metadata ${q(key)} is ${JSON.stringify(raw)}; expected an integer ≥ ${min}`);
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
    throw new CheckpointError(`checkpoint version ${JSON.stringify(meta.version ?? null)} is not supported (this v3lab reads version ${VERSION})`);
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
  if (!embed) throw new CheckpointError('tensor "model.embed_tokens.weight" is missing (needed to know the vocabulary size)');
  if (embed.shape.length !== 2 || embed.shape[0] < 1) {
    throw new CheckpointError(`tensor "model.embed_tokens.weight" has shape ${fmtShape(embed.shape)}; expected [vocab_size, ${config.model.hidden_size}]`);
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
