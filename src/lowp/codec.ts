// The TS twin of shaders/fp8_codec.wgsl: OCP OFP8 E4M3 / E5M2, OCP MX E2M1 (FP4) codes, the
// UE8M0 / E8M0 power-of-two scales, packing four codes per 32-bit word, and the tile-scale rules
// of spec §3. Pure functions on numbers, no backend. The CPU backend quantizes with these, the
// CLI inspector prints them, and the kernels implement the very same integer algorithms — so
// GPU and CPU codes and scales are bit-identical.
//
// Every computation is in f32: inputs are first rounded to f32 (Math.fround, the kernels'
// element type), and encoding works on the f32 bit pattern with integer round-to-nearest-even.
// Note the consequence for f64 callers: encoding is RNE of fround(x), not of x itself (these can
// differ only when x lies within half an f32 ulp of a tie point of the low-precision format).
//
// Conventions (identical in WGSL):
//  - codes are unsigned integers: 0..255 for FP8 (sign in bit 7), 0..15 for E2M1 (sign in bit 3);
//  - encoders saturate: overflow and ±Inf → ±max finite; underflow → ±0 (sign kept); f32
//    subnormal inputs → ±0 (far below every format's min subnormal / 2);
//  - NaN → E4M3 S.1111.111 (0x7F|sign), E5M2 S.11111.11 (0x7F|sign); E2M1 has no NaN: NaN → +0.

import type { LowFormat, ScaleRule } from '../engine/backend';

export const LOW_FORMATS: readonly LowFormat[] = ['e4m3', 'e5m2', 'e2m1'];
export const SCALE_RULES: readonly ScaleRule[] = ['f32', 'ue8m0', 'mx'];

/** Format ids used by the kernels: 0 = e4m3, 1 = e5m2, 2 = e2m1. */
export function formatId(format: LowFormat): number {
  const i = LOW_FORMATS.indexOf(format);
  if (i < 0) throw new Error(`unknown low-precision format '${format}'`);
  return i;
}

/** Scale rule ids used by the kernels: 0 = f32, 1 = ue8m0, 2 = mx. */
export function ruleId(rule: ScaleRule): number {
  const i = SCALE_RULES.indexOf(rule);
  if (i < 0) throw new Error(`unknown scale rule '${rule}'`);
  return i;
}

/** Largest finite magnitude: 448 (e4m3), 57344 (e5m2), 6 (e2m1). */
export function lowpFmax(format: LowFormat): number {
  return format === 'e4m3' ? 448 : format === 'e5m2' ? 57344 : 6;
}

/** emax_elem of the OCP MX scale rule: 8 (e4m3), 15 (e5m2), 2 (e2m1). */
export function lowpEmax(format: LowFormat): number {
  return format === 'e4m3' ? 8 : format === 'e5m2' ? 15 : 2;
}

/** Number of distinct codes: 256 for FP8, 16 for FP4. */
export function codeCount(format: LowFormat): number {
  return format === 'e2m1' ? 16 : 256;
}

// ---- f32 bit patterns ----

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** The IEEE bit pattern of fround(x), as an unsigned 32-bit integer. */
export function f32Bits(x: number): number {
  f32buf[0] = x;
  return u32buf[0];
}

/** The f32 value with bit pattern u. */
export function bitsToF32(u: number): number {
  u32buf[0] = u >>> 0;
  return f32buf[0];
}

// ---- decoding ----

/** E4M3: bias 7, 3 mantissa bits, max 448 (S.1111.110), no Inf, NaN = S.1111.111. */
export function decodeE4M3(code: number): number {
  const s = (code >> 7) & 1;
  const e = (code >> 3) & 0xf;
  const m = code & 7;
  if (e === 15 && m === 7) return NaN;
  const v = e === 0 ? m * 2 ** -9 : (8 + m) * 2 ** (e - 10);
  return s ? -v : v;
}

/** E5M2: bias 15, 2 mantissa bits, max 57344, Inf = S.11111.00, NaN = S.11111.{01,10,11}. */
export function decodeE5M2(code: number): number {
  const s = (code >> 7) & 1;
  const e = (code >> 2) & 0x1f;
  const m = code & 3;
  if (e === 31) return m === 0 ? (s ? -Infinity : Infinity) : NaN;
  const v = e === 0 ? m * 2 ** -16 : (4 + m) * 2 ** (e - 17);
  return s ? -v : v;
}

/** E2M1 (low 4 bits): bias 1, 1 mantissa bit: ±{0, .5, 1, 1.5, 2, 3, 4, 6}. */
export function decodeE2M1(code: number): number {
  const s = (code >> 3) & 1;
  const e = (code >> 1) & 3;
  const m = code & 1;
  const v = e === 0 ? m * 0.5 : (2 + m) * 2 ** (e - 2);
  return s ? -v : v;
}

export function lowpDecode(code: number, format: LowFormat): number {
  return format === 'e4m3' ? decodeE4M3(code) : format === 'e5m2' ? decodeE5M2(code) : decodeE2M1(code);
}

// ---- encoding ----

/**
 * Saturating RNE encode of the f32 with bit pattern u into a sign-magnitude minifloat with
 * `mbits` mantissa bits and exponent bias `bias`; `maxMag` is the largest finite magnitude code,
 * `signShift` the sign bit position. For a target-normal value the magnitude code is the integer
 * (e_t << 23 | f) >> (23 − mbits), e_t the re-biased exponent, f the f32 fraction: rounding that
 * integer RNE on the dropped bits is RNE of the value, and a mantissa carry bumps the exponent.
 * For a target-subnormal value (e_t ≤ 0) the 24-bit significand is shifted by (23 − mbits) + (1 − e_t).
 */
function encodeMagBits(u: number, mbits: number, bias: number, maxMag: number, signShift: number): number {
  const sign = (u >>> 31) << signShift;
  const a = u & 0x7fffffff;
  if (a >= 0x7f800000) return sign | maxMag; // ±Inf saturates
  const E = a >>> 23;
  if (E === 0) return sign; // ±0 and f32 subnormals
  const f = a & 0x7fffff;
  const et = E - 127 + bias;
  let x: number;
  let shift: number;
  if (et >= 1) {
    x = et * 2 ** 23 + f; // (et << 23) | f, kept positive
    shift = 23 - mbits;
  } else {
    shift = 23 - mbits + (1 - et);
    if (shift > 24) return sign; // below half the smallest subnormal
    x = f | 0x800000;
  }
  const unit = 2 ** shift;
  let q = Math.floor(x / unit);
  const rem = x - q * unit;
  const half = unit / 2;
  if (rem > half || (rem === half && (q & 1) === 1)) q += 1;
  return sign | Math.min(q, maxMag);
}

const isNaNBits = (u: number): boolean => (u & 0x7fffffff) > 0x7f800000;

export function encodeE4M3SatBits(u: number): number {
  if (isNaNBits(u)) return ((u >>> 31) << 7) | 0x7f;
  return encodeMagBits(u, 3, 7, 0x7e, 7);
}

export function encodeE5M2SatBits(u: number): number {
  if (isNaNBits(u)) return ((u >>> 31) << 7) | 0x7f;
  return encodeMagBits(u, 2, 15, 0x7b, 7);
}

export function encodeE2M1SatBits(u: number): number {
  if (isNaNBits(u)) return 0; // E2M1 has no NaN
  return encodeMagBits(u, 1, 1, 0x7, 3);
}

export function lowpEncodeBits(u: number, format: LowFormat): number {
  return format === 'e4m3' ? encodeE4M3SatBits(u) : format === 'e5m2' ? encodeE5M2SatBits(u) : encodeE2M1SatBits(u);
}

/** Saturating RNE encode of fround(x) to E4M3. */
export function encodeE4M3Sat(x: number): number {
  return encodeE4M3SatBits(f32Bits(x));
}

export function encodeE5M2Sat(x: number): number {
  return encodeE5M2SatBits(f32Bits(x));
}

export function encodeE2M1Sat(x: number): number {
  return encodeE2M1SatBits(f32Bits(x));
}

export function lowpEncode(x: number, format: LowFormat): number {
  return lowpEncodeBits(f32Bits(x), format);
}

// ---- packing (four codes per 32-bit word, code j at byte j, little-endian) ----

/** One word from four codes, as a signed int32 (the i32 tensors that carry codes). */
export function pack4(c0: number, c1: number, c2: number, c3: number): number {
  return (c0 & 0xff) | ((c1 & 0xff) << 8) | ((c2 & 0xff) << 16) | ((c3 & 0xff) << 24);
}

/** Code j (0..3) of a packed word. */
export function unpack(word: number, j: number): number {
  return (word >>> (8 * j)) & 0xff;
}

/** Pack a list of codes (length padded up to a multiple of 4 with code 0) into words. */
export function packCodes(codes: ArrayLike<number>): Int32Array {
  const out = new Int32Array(Math.ceil(codes.length / 4));
  for (let i = 0; i < codes.length; i++) out[i >> 2] |= (codes[i] & 0xff) << (8 * (i & 3));
  return out;
}

/** The first n codes of packed words. */
export function unpackCodes(words: ArrayLike<number>, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = unpack(words[i >> 2], i & 3);
  return out;
}

// ---- tile scales ----

/**
 * Twin of lowp_encode_div_bits (fp8_codec.wgsl): given the bits `approx` of an f32 quotient a / b
 * that may be up to 3 ULP from the correctly rounded one (what WGSL's `/` may return), the code
 * the kernels take from it — or null where they fall back to the exact long division (operands
 * not normal, the quotient below the format's normal range or not finite, or its dropped bits
 * within 4 ULP of the rounding midpoint). Where it is not null it equals the code of the correctly
 * rounded quotient (codec.test.ts perturbs quotients by ±3 ULP to check).
 */
export function lowpEncodeDivGuard(a: number, b: number, approx: number, format: LowFormat): number | null {
  const ea = (a >>> 23) & 0xff;
  const eb = (b >>> 23) & 0xff;
  if (ea === 0 || ea === 255 || eb === 0 || eb >= 254) return null;
  const E = (approx >>> 23) & 0xff;
  const [mbits, bias] = format === 'e4m3' ? [3, 7] : format === 'e5m2' ? [2, 15] : [1, 1];
  if (E === 255 || E - 127 + bias < 1) return null;
  const shift = 23 - mbits;
  const rem = approx & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem + 4 < half || rem > half + 4) return lowpEncodeBits(approx >>> 0, format);
  return null;
}

/** fround(1e-4): the amax floor of the V3 / DeepGEMM rule (f32 bits 0x38D1B717). */
export const AMAX_FLOOR = Math.fround(1e-4);

/**
 * f32 division a / b, correctly rounded: both operands are f32, so the f64 quotient rounded to
 * f32 is the correctly rounded f32 quotient (double rounding is innocuous for division because
 * 53 ≥ 2·24 + 2). The kernels get the same bits with integer long division (f32_div_rn_bits).
 */
export function divF32(a: number, b: number): number {
  return Math.fround(Math.fround(a) / Math.fround(b));
}

/** The tile amax as f32 bits: the max over |x| of the f32 magnitude bit patterns (monotone in value). */
export function amaxBitsOf(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, f32Bits(xs[i]) & 0x7fffffff);
  return m;
}

/**
 * The scale of a tile as f32 bits, from its amax as f32 bits (a non-negative magnitude):
 *  'f32':   s = fround(max(amax, fround(1e-4)) / fmax);
 *  'ue8m0': that s rounded UP to a power of two exactly via its bits — DeepGEMM's ceil_to_ue8m0:
 *           exponent + (mantissa ≠ 0); it never saturates;
 *  'mx':    2^(floor(log2 amax) − emax) (OCP MX; may clip the largest values), clamped below at
 *           2^-127, E8M0's smallest scale (code 0) — which is also what amax = 0 gives. 2^-127 is
 *           an f32 subnormal (bits 0x00400000).
 * Non-finite amax: NaN scale under 'mx', +Inf otherwise.
 */
export function tileScaleBits(amaxBits: number, format: LowFormat, rule: ScaleRule): number {
  if (rule === 'mx') {
    if (amaxBits >= 0x7f800000) return 0x7fc00000;
    const t = (amaxBits >>> 23) - lowpEmax(format);
    return t <= 0 ? 0x00400000 : t * 2 ** 23;
  }
  const s = f32Bits(divF32(bitsToF32(Math.max(amaxBits, f32Bits(AMAX_FLOOR))), lowpFmax(format)));
  if (rule === 'f32') return s;
  const e = ((s >>> 23) & 0xff) + ((s & 0x7fffff) !== 0 ? 1 : 0);
  return Math.min(e, 255) * 2 ** 23;
}

/** The scale of a tile (an f32 value) from its amax. */
export function tileScale(amax: number, format: LowFormat, rule: ScaleRule): number {
  return bitsToF32(tileScaleBits(f32Bits(Math.abs(amax)), format, rule));
}

/** The code of x in a tile with scale s: encode(fround(fround(x) / s)). */
export function quantizeValue(x: number, s: number, format: LowFormat): number {
  return lowpEncode(divF32(x, s), format);
}

/** decode(code) · s, rounded to f32 (what the dequantize kernel computes). */
export function dequantizeValue(code: number, s: number, format: LowFormat): number {
  return Math.fround(lowpDecode(code, format) * s);
}

// ---- QTensor geometry (engine/backend.ts) ----

export interface QLayout {
  /** cols rounded up to a multiple of B. */
  colsPadded: number;
  /** i32 words per row of codes: colsPadded / 4. */
  wordsPerRow: number;
  /** Scale columns: colsPadded / B. */
  nTiles: number;
  /** Scale rows: rows ('rows' tiling) or ceil(rows / B) ('blocks'). */
  scaleRows: number;
}

/** Block sizes the kernels take: powers of two from 4 to 256 (the spec uses 32, 64, 128). */
export function checkBlock(block: number): void {
  if (!Number.isInteger(block) || block < 4 || block > 256 || (block & (block - 1)) !== 0) {
    throw new Error(`quantize: block size ${block} must be a power of two in [4, 256] (32, 64 or 128 in the spec)`);
  }
}

export function qLayout(rows: number, cols: number, block: number, tiling: 'rows' | 'blocks'): QLayout {
  checkBlock(block);
  const colsPadded = Math.ceil(cols / block) * block;
  return {
    colsPadded,
    wordsPerRow: colsPadded / 4,
    nTiles: colsPadded / block,
    scaleRows: tiling === 'rows' ? rows : Math.ceil(rows / block),
  };
}
