// Pure-TS tests of the codec twin (src/lowp/codec.ts) against spec §3: every code of every format
// against an independent decoder, the spec's test vectors, round trips, ties to even, saturation,
// underflow, packing, and the three tile-scale rules.
import { describe, expect, it } from 'vitest';
import type { LowFormat } from '../engine/backend';
import { Rng } from '../engine/rng';
import {
  LOW_FORMATS,
  bitsToF32,
  codeCount,
  decodeE2M1,
  decodeE4M3,
  decodeE5M2,
  divF32,
  encodeE2M1Sat,
  encodeE4M3Sat,
  encodeE5M2Sat,
  f32Bits,
  lowpDecode,
  lowpEncode,
  lowpEncodeBits,
  lowpEncodeDivGuard,
  lowpFmax,
  pack4,
  packCodes,
  qLayout,
  quantizeValue,
  tileScale,
  tileScaleBits,
  unpack,
  unpackCodes,
} from './codec';

/**
 * Independent reference decoder, written from the OCP formula in float64:
 *   normal    (−1)^s · 2^(e − bias) · (1 + m / 2^M)
 *   subnormal (−1)^s · 2^(1 − bias) · (m / 2^M)
 * plus the specials of each format, spelled out from the spec table.
 */
const GEOM: Record<LowFormat, { E: number; M: number; bias: number }> = {
  e4m3: { E: 4, M: 3, bias: 7 },
  e5m2: { E: 5, M: 2, bias: 15 },
  e2m1: { E: 2, M: 1, bias: 1 },
};

function refDecode(code: number, format: LowFormat): number {
  const { E, M, bias } = GEOM[format];
  const width = 1 + E + M;
  const s = Math.floor(code / 2 ** (width - 1)) % 2;
  const e = Math.floor(code / 2 ** M) % 2 ** E;
  const m = code % 2 ** M;
  const sign = s === 1 ? -1 : 1;
  if (format === 'e4m3' && e === 15 && m === 7) return NaN; // S.1111.111
  if (format === 'e5m2' && e === 31) return m === 0 ? sign * Infinity : NaN; // S.11111.00 = Inf, else NaN
  if (e === 0) return sign * Math.pow(2, 1 - bias) * (m / Math.pow(2, M));
  return sign * Math.pow(2, e - bias) * (1 + m / Math.pow(2, M));
}

/** Brute-force reference encoder: the nearest finite code, ties to the even code, saturating. */
function refEncode(x: number, format: LowFormat): number {
  const n = codeCount(format);
  const half = n / 2;
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.min(Math.abs(x), lowpFmax(format)); // saturate (also ±Inf)
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < half; c++) {
    const v = refDecode(c, format);
    if (!Number.isFinite(v)) continue;
    const d = Math.abs(v - ax);
    if (d < bestD || (d === bestD && c % 2 === 0)) {
      best = c;
      bestD = d;
    }
  }
  return neg ? best + half : best;
}

const finiteCodes = (f: LowFormat): number[] =>
  [...Array(codeCount(f)).keys()].filter((c) => Number.isFinite(lowpDecode(c, f)));

describe('decode: every code', () => {
  for (const f of LOW_FORMATS) {
    it(`${f}: all ${codeCount(f)} codes agree with the independent decoder`, () => {
      for (let c = 0; c < codeCount(f); c++) {
        const got = lowpDecode(c, f);
        const want = refDecode(c, f);
        expect(
          Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)),
          `${f} code 0x${c.toString(16)}: ${got} vs ${want}`,
        ).toBe(true);
      }
    });
  }

  it('e4m3: spec table (bias 7, max 448, min normal 2^-6, min subnormal 2^-9, NaN only S.1111.111, no Inf)', () => {
    expect(decodeE4M3(0x38)).toBe(1);
    expect(decodeE4M3(0x7e)).toBe(448);
    expect(decodeE4M3(0xfe)).toBe(-448);
    expect(decodeE4M3(0x08)).toBe(2 ** -6);
    expect(decodeE4M3(0x07)).toBe(0.013671875);
    expect(decodeE4M3(0x01)).toBe(2 ** -9);
    expect(Object.is(decodeE4M3(0x80), -0)).toBe(true);
    const nans = [...Array(256).keys()].filter((c) => Number.isNaN(decodeE4M3(c)));
    expect(nans).toEqual([0x7f, 0xff]);
    expect([...Array(256).keys()].every((c) => Number.isNaN(decodeE4M3(c)) || Number.isFinite(decodeE4M3(c)))).toBe(
      true,
    );
    // Positive codes are strictly increasing in value.
    for (let c = 1; c < 0x7f; c++) expect(decodeE4M3(c)).toBeGreaterThan(decodeE4M3(c - 1));
  });

  it('e5m2: spec table (bias 15, max 57344, min normal 2^-14, min subnormal 2^-16, Inf S.11111.00, NaN S.11111.{01,10,11})', () => {
    expect(decodeE5M2(0x3c)).toBe(1);
    expect(decodeE5M2(0x7b)).toBe(57344);
    expect(decodeE5M2(0x04)).toBe(2 ** -14);
    expect(decodeE5M2(0x01)).toBe(2 ** -16);
    expect(decodeE5M2(0x7c)).toBe(Infinity);
    expect(decodeE5M2(0xfc)).toBe(-Infinity);
    const nans = [...Array(256).keys()].filter((c) => Number.isNaN(decodeE5M2(c)));
    expect(nans).toEqual([0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff]);
    for (let c = 1; c < 0x7c; c++) expect(decodeE5M2(c)).toBeGreaterThan(decodeE5M2(c - 1));
  });

  it('e2m1: values {0, .5, 1, 1.5, 2, 3, 4, 6} and their negatives', () => {
    const pos = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
    for (let c = 0; c < 8; c++) {
      expect(decodeE2M1(c)).toBe(pos[c]);
      expect(Object.is(decodeE2M1(c + 8), -pos[c])).toBe(true);
    }
  });
});

describe('encode', () => {
  it('spec test vectors (E4M3 RNE, SAT)', () => {
    const enc = (x: number): number => decodeE4M3(encodeE4M3Sat(x));
    expect(enc(0.3)).toBe(0.3125);
    expect(enc(1.0625)).toBe(1.0); // tie to even
    expect(enc(1.1875)).toBe(1.25);
    expect(enc(17)).toBe(16);
    expect(enc(300)).toBe(288);
    expect(enc(0.001)).toBe(2 ** -9);
    expect(enc(464)).toBe(448);
    expect(encodeE4M3Sat(464)).toBe(0x7e);
    expect(encodeE4M3Sat(1)).toBe(0x38);
    expect(encodeE4M3Sat(448)).toBe(0x7e);
    expect(encodeE4M3Sat(2 ** -6)).toBe(0x08);
    expect(encodeE4M3Sat(0.013671875)).toBe(0x07);
  });

  for (const f of LOW_FORMATS) {
    it(`${f}: every finite code round-trips (±0 keep their sign)`, () => {
      for (const c of finiteCodes(f)) expect(lowpEncode(lowpDecode(c, f), f), `${f} 0x${c.toString(16)}`).toBe(c);
    });

    it(`${f}: midpoints between neighbours go to the even code; just off them, to the nearer`, () => {
      const half = codeCount(f) / 2;
      for (let c = 0; c + 1 < half; c++) {
        const a = lowpDecode(c, f);
        const b = lowpDecode(c + 1, f);
        if (!Number.isFinite(b)) break;
        const mid = (a + b) / 2;
        expect(Math.fround(mid)).toBe(mid);
        const even = c % 2 === 0 ? c : c + 1;
        expect(lowpEncode(mid, f), `${f} tie ${mid}`).toBe(even);
        expect(lowpEncode(-mid, f)).toBe(even + half);
        const below = bitsToF32(f32Bits(mid) - 1);
        const above = bitsToF32(f32Bits(mid) + 1);
        if (mid > 0) {
          expect(lowpEncode(below, f)).toBe(c);
          expect(lowpEncode(above, f)).toBe(c + 1);
        }
      }
    });

    it(`${f}: agrees with a brute-force nearest-code encoder on random f32 values`, () => {
      const rng = new Rng(42);
      for (let i = 0; i < 4000; i++) {
        // Log-uniform magnitudes from far below the min subnormal to far above the max.
        const x = Math.fround((rng.next() < 0.5 ? -1 : 1) * 2 ** (rng.next() * 60 - 30));
        expect(lowpEncode(x, f), `${f} ${x}`).toBe(refEncode(x, f));
      }
    });
  }

  it('saturation: overflow and ±Inf → ±max; NaN → the format NaN (E2M1: +0)', () => {
    expect(encodeE4M3Sat(1e6)).toBe(0x7e);
    expect(encodeE4M3Sat(480)).toBe(0x7e); // would round to the NaN pattern without saturation
    expect(encodeE4M3Sat(-Infinity)).toBe(0xfe);
    expect(encodeE4M3Sat(Infinity)).toBe(0x7e);
    expect(encodeE4M3Sat(NaN) & 0x7f).toBe(0x7f);
    expect(encodeE5M2Sat(1e9)).toBe(0x7b);
    expect(encodeE5M2Sat(61440)).toBe(0x7b); // the midpoint to "2^16" would round to Inf
    expect(encodeE5M2Sat(Infinity)).toBe(0x7b);
    expect(encodeE5M2Sat(-Infinity)).toBe(0xfb);
    expect(encodeE5M2Sat(NaN) & 0x7f).toBe(0x7f);
    expect(encodeE2M1Sat(7)).toBe(0x7);
    expect(encodeE2M1Sat(-100)).toBe(0xf);
    expect(encodeE2M1Sat(5)).toBe(0x6); // tie between 4 (even) and 6 → 4
    expect(encodeE2M1Sat(NaN)).toBe(0);
  });

  it('underflow → ±0 with the sign kept; half the min subnormal ties to 0', () => {
    expect(encodeE4M3Sat(2 ** -11)).toBe(0);
    expect(encodeE4M3Sat(2 ** -10)).toBe(0); // exactly half of 2^-9: tie → even (0)
    expect(encodeE4M3Sat(2 ** -10 * 1.0001)).toBe(1);
    expect(encodeE4M3Sat(-1e-30)).toBe(0x80);
    expect(encodeE4M3Sat(-1e-45)).toBe(0x80); // f32 subnormal input
    expect(encodeE4M3Sat(-0)).toBe(0x80);
    expect(encodeE5M2Sat(2 ** -17)).toBe(0);
    expect(encodeE5M2Sat(-(2 ** -18))).toBe(0x80);
    expect(encodeE2M1Sat(0.25)).toBe(0); // tie between 0 and 0.5 → 0
    expect(encodeE2M1Sat(-0.2)).toBe(0x8);
  });

  it('subnormals are exact and round correctly into the normal range', () => {
    for (let m = 1; m < 8; m++) expect(encodeE4M3Sat(m * 2 ** -9)).toBe(m);
    expect(encodeE4M3Sat(7.5 * 2 ** -9)).toBe(0x08); // rounds up into the smallest normal
    for (let m = 1; m < 4; m++) expect(encodeE5M2Sat(m * 2 ** -16)).toBe(m);
  });
});

describe('encode of a quotient from an inexact division (lowp_encode_div_bits)', () => {
  // WGSL's f32 `/` may be 2.5 ULP off: the kernels take its quotient's code only where no
  // rounding boundary can lie within 3 ULP. Every quotient here is perturbed by −3 … +3 ULP; the
  // guarded code must be the correctly rounded quotient's whenever the guard lets it through.
  const check = (a: number, b: number, format: LowFormat, taken: { fast: number; all: number }) => {
    const exact = f32Bits(divF32(bitsToF32(a), bitsToF32(b)));
    const want = lowpEncodeBits(exact, format);
    for (let d = -3; d <= 3; d++) {
      const got = lowpEncodeDivGuard(a, b, (exact + d) >>> 0, format);
      taken.all++;
      if (got === null) continue;
      taken.fast++;
      expect(got, `a=${a.toString(16)} b=${b.toString(16)} ${format} ulp ${d}`).toBe(want);
    }
  };

  it('tile values (random x, s = amax / fmax): same code as the exact quotient; most take the fast path', () => {
    const rng = new Rng(4);
    for (const format of LOW_FORMATS) {
      const taken = { fast: 0, all: 0 };
      for (let t = 0; t < 200; t++) {
        const xs = rng.normalArray(32, 10 ** rng.int(-3, 3));
        const s = tileScale(
          xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
          format,
          'f32',
        );
        for (const x of xs) check(f32Bits(x), f32Bits(s), format, taken);
      }
      console.log(
        `[codec] ${format}: ${((100 * taken.fast) / taken.all).toFixed(1)}% of perturbed quotients take the fast path`,
      );
      expect(taken.fast / taken.all).toBeGreaterThan(format === 'e2m1' ? 0.5 : 0.9);
    }
  });

  it('quotients at and around every rounding midpoint and at the edges of the normal range', () => {
    const one = f32Bits(1);
    for (const format of LOW_FORMATS) {
      const taken = { fast: 0, all: 0 };
      // Targets: the midpoint between each pair of neighbouring non-negative values (subnormal
      // ones included), every value, and 2·fmax, each ± up to 8 ULP.
      const values = [...Array(codeCount(format) / 2).keys()]
        .map((c) => lowpDecode(c, format))
        .filter((v) => Number.isFinite(v) && v <= lowpFmax(format))
        .sort((x, y) => x - y);
      const centres = [2 * lowpFmax(format), ...values.filter((v) => v > 0)];
      for (let i = 0; i + 1 < values.length; i++) centres.push((values[i] + values[i + 1]) / 2);
      const targets: number[] = [];
      for (const c of centres) for (let k = -8; k <= 8; k++) targets.push(f32Bits(c) + k);
      for (const q of targets) {
        if (q <= 0 || q >= 0x7f800000) continue;
        // a / b = q exactly with b = 1; and with b a non-power of two (a = q·b rounded).
        check(q, one, format, taken);
        const b = f32Bits(1.7);
        check(f32Bits(Math.fround(bitsToF32(q) * 1.7)), b, format, taken);
        check((q | 0x80000000) >>> 0, one, format, taken);
      }
      expect(taken.fast, format).toBeGreaterThan(0);
    }
  });
});

describe('packing', () => {
  it('four codes per word, little-endian', () => {
    const w = pack4(0x01, 0x7f, 0x80, 0xff);
    expect(w >>> 0).toBe(0xff807f01);
    expect([0, 1, 2, 3].map((j) => unpack(w, j))).toEqual([0x01, 0x7f, 0x80, 0xff]);
    const codes = [1, 2, 3, 4, 5, 250];
    const words = packCodes(codes);
    expect(words.length).toBe(2);
    expect([...unpackCodes(words, 8)]).toEqual([1, 2, 3, 4, 5, 250, 0, 0]);
  });

  it('layout of a QTensor pads cols to a multiple of B', () => {
    expect(qLayout(7, 33, 32, 'rows')).toEqual({ colsPadded: 64, wordsPerRow: 16, nTiles: 2, scaleRows: 7 });
    expect(qLayout(130, 1, 128, 'blocks')).toEqual({ colsPadded: 128, wordsPerRow: 32, nTiles: 1, scaleRows: 2 });
    expect(() => qLayout(1, 1, 48, 'rows')).toThrow();
  });
});

describe('tile scales', () => {
  it("'f32': max(amax, 1e-4) / fmax, rounded to f32", () => {
    expect(tileScale(448, 'e4m3', 'f32')).toBe(1);
    expect(tileScale(1, 'e4m3', 'f32')).toBe(Math.fround(1 / 448));
    expect(tileScale(0, 'e4m3', 'f32')).toBe(Math.fround(Math.fround(1e-4) / 448));
    expect(tileScale(12, 'e2m1', 'f32')).toBe(2);
    expect(tileScale(57344, 'e5m2', 'f32')).toBe(1);
  });

  it("'ue8m0': rounded up to a power of two via the exponent bits (never saturates)", () => {
    expect(tileScale(448, 'e4m3', 'ue8m0')).toBe(1);
    expect(tileScale(449, 'e4m3', 'ue8m0')).toBe(2);
    expect(tileScale(1, 'e4m3', 'ue8m0')).toBe(2 ** -8); // 1/448 = 2^-8.8 → 2^-8
    const rng = new Rng(7);
    for (let i = 0; i < 2000; i++) {
      const amax = Math.fround(2 ** (rng.next() * 40 - 20));
      for (const f of LOW_FORMATS) {
        const s = tileScale(amax, f, 'ue8m0');
        expect(Number.isInteger(Math.log2(s))).toBe(true);
        expect(s).toBeGreaterThanOrEqual(tileScale(amax, f, 'f32'));
        expect(s / 2).toBeLessThan(tileScale(amax, f, 'f32'));
        // The largest element maps at or below fmax: no saturation.
        expect(Math.abs(lowpDecode(quantizeValue(amax, s, f), f))).toBeLessThanOrEqual(lowpFmax(f));
        expect(divF32(amax, s)).toBeLessThanOrEqual(lowpFmax(f));
      }
    }
  });

  it("'mx': 2^(floor(log2 amax) − emax), 2^-127 floor for amax 0; may clip", () => {
    expect(tileScale(1, 'e4m3', 'mx')).toBe(2 ** -8);
    expect(tileScale(448, 'e4m3', 'mx')).toBe(1);
    expect(tileScale(500, 'e4m3', 'mx')).toBe(1); // 500 / 1 clips to 448
    expect(decodeE4M3(quantizeValue(500, 1, 'e4m3'))).toBe(448);
    expect(tileScale(1, 'e5m2', 'mx')).toBe(2 ** -15);
    expect(tileScale(6, 'e2m1', 'mx')).toBe(1);
    expect(tileScale(0, 'e4m3', 'mx')).toBe(2 ** -127);
    expect(tileScaleBits(0, 'e4m3', 'mx')).toBe(0x00400000);
    expect(tileScale(1e-38, 'e4m3', 'mx')).toBe(2 ** -127); // clamped to E8M0's range
  });
});
