// safetensors, written from the format's published description, with the element types v3lab
// writes or reads. One codec for everything: v3lab checkpoints (train/checkpoint.ts, f32) and
// the Hugging Face export (export/, F32 / BF16 / F8_E4M3 + scales). The layout:
//
//   [8 bytes]  N = header length, u64 little-endian
//   [N bytes]  JSON: name -> { dtype, shape, data_offsets: [begin, end] } (+ "__metadata__"),
//              space-padded so the data starts at a multiple of 8
//   [rest]     the tensors' little-endian bytes, packed with no gaps, covering the buffer exactly.
//
// The writer orders tensors the way the reference `safetensors` library does: by element size,
// largest first, then by name. Every tensor then starts at a multiple of its element size (F32
// before BF16 before F8), which zero-copy loaders rely on.
//
// The reader is strict and bounded: the header length is checked against a cap and the file
// size before anything is decoded, every entry is checked (dtype known, shape sane, byte span =
// numel × element size, inside the buffer), and the spans must tile the buffer. It returns byte
// views (no copies, no allocation proportional to what the header claims): callers decide what
// to decode once they have checked names and shapes against the model config. Every problem is
// a SafetensorsError whose message names it; callers rename it to their own error class.

import { decodeE4M3 } from '../lowp/codec';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Default cap on the JSON header; a larger claimed length is refused before reading it. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** A name in quotes, cut at 120 characters (a corrupt header can hold arbitrary names). */
export function quoteName(n: string): string {
  const q = JSON.stringify(n);
  return q.length > 120 ? `${q.slice(0, 117)}…"` : q;
}

export type StDtype = 'F32' | 'BF16' | 'F16' | 'F8_E4M3';

/** Bytes per element of the dtypes the export writes or the import reads. */
export const DTYPE_BYTES: Readonly<Record<StDtype, number>> = { F32: 4, BF16: 2, F16: 2, F8_E4M3: 1 };

/** Every dtype the format defines, so an unsupported one gets a precise message. */
const KNOWN_DTYPES = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
  'C64',
]);

/** One tensor: its dtype, shape and little-endian element bytes. */
export interface RawTensor {
  dtype: StDtype;
  shape: number[];
  bytes: Uint8Array;
}

const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function fmtShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

/** Compare by UTF-16 code units: the same order everywhere (no locale). */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Element codecs

/** f32 values as little-endian F32 bytes (bits copied: NaN payloads, -0 and denormals survive). */
export function f32Bytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 4);
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  else {
    const dv = new DataView(out.buffer);
    for (let i = 0; i < x.length; i++) dv.setFloat32(4 * i, x[i], true);
  }
  return out;
}

/**
 * f32 → bfloat16 bits, round to nearest even on the 16 dropped bits. bf16 is the top half of an
 * f32, so this is exactly what torch's `.to(torch.bfloat16)` does; NaN stays a (quiet) NaN with
 * its sign, ±Inf stays ±Inf, and overflow rounds to ±Inf as IEEE rounding says.
 */
export function bf16Bits(f32bits: number): number {
  const u = f32bits >>> 0;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x0040) & 0xffff; // NaN: keep quiet
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 values as little-endian BF16 bytes (round to nearest even). */
export function bf16Bytes(x: Float32Array): Uint8Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint8Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    const h = bf16Bits(bits[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** f16 bits → f32 bits (exact: every half value is an f32). */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  let e = 113; // subnormal: normalize the mantissa
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** E4M3 code → f32 value, one table for all 256 codes. */
const E4M3_TABLE = Float32Array.from({ length: 256 }, (_, c) => decodeE4M3(c));

/**
 * A tensor's elements as f32 (a fresh array). F32 is bit-exact; BF16 and F16 widen exactly;
 * F8_E4M3 gives the code values (the caller multiplies by the block scales).
 */
export function toFloat32(t: RawTensor): Float32Array {
  const n = numel(t.shape);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const b = t.bytes;
  switch (t.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(b.subarray(0, 4 * n));
      else {
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let i = 0; i < n; i++) bits[i] = dv.getUint32(4 * i, true);
      }
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) bits[i] = ((b[2 * i] | (b[2 * i + 1] << 8)) << 16) >>> 0;
      break;
    case 'F16':
      for (let i = 0; i < n; i++) bits[i] = halfToFloatBits(b[2 * i] | (b[2 * i + 1] << 8));
      break;
    case 'F8_E4M3':
      for (let i = 0; i < n; i++) out[i] = E4M3_TABLE[b[i]];
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, the zip/PNG one): detects any corruption of up to 32 consecutive bits and
// all but 2^-32 of the rest. The export manifest records one per file.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function crc32Hex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Serialize tensors (any order in; written by element size, then name) with optional string
 * metadata (no "__metadata__" entry without it). Bits are copied as they are.
 */
export function writeSafetensors(
  tensors: Iterable<[string, RawTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = [...tensors];
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === METADATA_KEY || name === '__proto__' || name === '')
      throw new SafetensorsError(`a tensor cannot be named ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new SafetensorsError(`tensor ${JSON.stringify(name)} given twice`);
    seen.add(name);
    if (!(t.dtype in DTYPE_BYTES))
      throw new SafetensorsError(`tensor ${JSON.stringify(name)} has unsupported dtype ${t.dtype}`);
    if (!Array.isArray(t.shape) || !t.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new SafetensorsError(
        `tensor ${JSON.stringify(name)}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`,
      );
    }
    const need = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.bytes.length !== need)
      throw new SafetensorsError(
        `tensor ${JSON.stringify(name)} ${t.dtype}${fmtShape(t.shape)} needs ${need} bytes, got ${t.bytes.length}`,
      );
  }
  list.sort(([a, ta], [b, tb]) => DTYPE_BYTES[tb.dtype] - DTYPE_BYTES[ta.dtype] || byName(a, b));

  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (k === '__proto__') throw new SafetensorsError('metadata key "__proto__" is not allowed');
      if (typeof v !== 'string')
        throw new SafetensorsError(`metadata ${JSON.stringify(k)} is a ${typeof v}; metadata values must be strings`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  for (const [name, t] of list) {
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let p = 8 + headerLen;
  for (const [, t] of list) {
    out.set(t.bytes, p);
    p += t.bytes.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A short JSON rendering for messages (undefined included). */
function show(x: unknown): string {
  return String(JSON.stringify(x) ?? 'undefined').slice(0, 80);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return `a ${typeof x}`;
}

interface Entry {
  name: string;
  dtype: StDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, raw: unknown, dataLen: number): Entry {
  const t = `tensor ${quoteName(name)}`;
  if (!isPlainObject(raw))
    throw new SafetensorsError(
      `${t}: header entry is ${describe(raw)}, expected an object with dtype, shape and data_offsets`,
    );
  const { dtype, shape, data_offsets: offs } = raw;
  if (typeof dtype !== 'string')
    throw new SafetensorsError(`${t}: dtype is ${describe(dtype)}, expected a string such as "BF16"`);
  if (!(dtype in DTYPE_BYTES)) {
    const what = KNOWN_DTYPES.has(dtype) ? `dtype ${dtype}` : `unknown dtype ${show(dtype)}`;
    throw new SafetensorsError(`${t} has ${what}; v3lab reads F32, BF16, F16 and F8_E4M3`);
  }
  if (
    !Array.isArray(shape) ||
    shape.length > 8 ||
    !shape.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0)
  ) {
    throw new SafetensorsError(
      `${t}: shape ${show(shape)} is not a list of non-negative integers (at most 8 dimensions)`,
    );
  }
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(`${t}: data_offsets ${show(offs)} is not a pair [begin, end] of non-negative integers`);
  }
  const [begin, end] = offs as number[];
  if (begin > end) throw new SafetensorsError(`${t}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen)
    throw new SafetensorsError(
      `${t}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes after the header): truncated or corrupt`,
    );
  const need = numel(shape) * DTYPE_BYTES[dtype as StDtype];
  if (end - begin !== need) {
    throw new SafetensorsError(
      `${t}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${fmtShape(shape)} of ${dtype} needs ${need}`,
    );
  }
  return { name, dtype: dtype as StDtype, shape: [...shape], begin, end };
}

/**
 * Parse and check a safetensors file. Returns byte views into `bytes` (not copies). Throws
 * SafetensorsError for every problem; never allocates more than the header's own size.
 */
export function readSafetensors(
  bytes: Uint8Array,
  opts: { maxHeaderBytes?: number } = {},
): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!(bytes instanceof Uint8Array))
    throw new SafetensorsError(`expected the file's bytes (Uint8Array), got ${describe(bytes)}`);
  if (bytes.length < 8)
    throw new SafetensorsError(
      `file is ${bytes.length} bytes: too short for a safetensors file (it starts with an 8-byte header length)`,
    );
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const avail = bytes.length - 8;
  if (n64 > BigInt(maxHeader))
    throw new SafetensorsError(
      `header length ${n64} is larger than the limit of ${maxHeader} bytes (not a safetensors file, or corrupt)`,
    );
  const n = Number(n64);
  if (n > avail)
    throw new SafetensorsError(
      `header length ${n} is larger than the file (${avail} bytes after the 8-byte length): truncated or corrupt`,
    );
  if (n < 2) throw new SafetensorsError(`header length ${n} is too small for a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('header is not valid UTF-8: corrupt file');
  }
  if (text[0] !== '{')
    throw new SafetensorsError(
      `header does not start with "{" (found ${JSON.stringify(text.slice(0, 16))}): not a safetensors file`,
    );
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(
      `header is not valid JSON (${(e as Error).message.split('\n')[0].slice(0, 120)}): corrupt file`,
    );
  }
  if (!isPlainObject(header)) throw new SafetensorsError(`header is ${describe(header)}, not a JSON object`);

  const metadata: Record<string, string> = {};
  if (Object.hasOwn(header, METADATA_KEY)) {
    const m = header[METADATA_KEY];
    if (!isPlainObject(m))
      throw new SafetensorsError(`${METADATA_KEY} is ${describe(m)}; expected an object of strings`);
    for (const [k, v] of Object.entries(m)) {
      if (k === '__proto__') throw new SafetensorsError(`${METADATA_KEY} key "__proto__" is not allowed`);
      if (typeof v !== 'string')
        throw new SafetensorsError(
          `${METADATA_KEY} value ${quoteName(k)} is ${describe(v)}; metadata values must be strings`,
        );
      metadata[k] = v;
    }
  }

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    if (name === '__proto__') throw new SafetensorsError('tensor name "__proto__" is not allowed');
    entries.push(parseEntry(name, raw, dataLen));
  }

  // The spans must tile the data: sorted by position, each starts where the previous ended.
  const byPos = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end || byName(a.name, b.name));
  let pos = 0;
  let prev: Entry | null = null;
  for (const e of byPos) {
    if (e.begin < pos)
      throw new SafetensorsError(
        `tensor ${quoteName(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${quoteName(prev!.name)} [${prev!.begin}, ${prev!.end}]`,
      );
    if (e.begin > pos) {
      const after = prev ? `after tensor ${quoteName(prev.name)}` : 'at the start of the data';
      throw new SafetensorsError(
        `gap of ${e.begin - pos} bytes ${after}, before tensor ${quoteName(e.name)} (data_offsets must be contiguous)`,
      );
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) {
    const after = prev ? `after the last tensor ${quoteName(prev.name)}` : 'but the header lists no tensors';
    throw new SafetensorsError(`${dataLen - pos} bytes of data ${after} belong to no tensor: corrupt file`);
  }

  const tensors = new Map<string, RawTensor>();
  for (const e of entries.sort((a, b) => byName(a.name, b.name))) {
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      bytes: bytes.subarray(dataStart + e.begin, dataStart + e.end),
    });
  }
  return { tensors, metadata };
}
