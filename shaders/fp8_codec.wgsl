// Shared low-precision codec: OCP OFP8 E4M3 / E5M2, OCP MX E2M1 (FP4), UE8M0 / E8M0 scales.
// PREPENDED by kernel loaders to every kernel that needs it: functions only, no bindings,
// no entry points. Its TS twin is src/lowp/codec.ts (bit-identical by construction).
//
// WGSL has no 8-bit type: a code lives in the low bits of a u32, and four codes are packed per
// u32 word (code j at byte j, little-endian). Formats are numbered: 0 = e4m3, 1 = e5m2, 2 = e2m1.
//
// Exactness rules:
//  * decoding builds the value from integers with exact powers of two (ldexp), so every code
//    maps to exactly the spec's value; NaN and ±Inf are built from bit patterns;
//  * encoding works on the f32 BIT PATTERN with integer round-to-nearest-even (one rounding, no
//    float tricks), saturating: overflow and ±Inf go to ±max finite; underflow gives ±0 (sign
//    kept). f32 subnormal inputs encode to ±0 (they are far below every format's min
//    subnormal / 2, so this is also what exact RNE gives — and it is immune to flush-to-zero);
//  * NaN input → E4M3 S.1111.111 (0x7F | sign), E5M2 S.11111.11 (0x7F | sign); E2M1 has no NaN
//    encoding, so NaN → +0 (code 0);
//  * WGSL's f32 `/` is only required to be accurate to 2.5 ULP, so quantizers divide with
//    f32_div_rn_bits (integer long division, correctly rounded) to match the CPU exactly.

// ---- packing ----

/** Byte j (0..3) of a packed word. */
fn fp8_unpack(word: u32, j: u32) -> u32 {
  return (word >> (8u * j)) & 0xFFu;
}

/** Pack four codes (each < 256) into one word, code 0 in the low byte. */
fn fp8_pack4(c0: u32, c1: u32, c2: u32, c3: u32) -> u32 {
  return (c0 & 0xFFu) | ((c1 & 0xFFu) << 8u) | ((c2 & 0xFFu) << 16u) | ((c3 & 0xFFu) << 24u);
}

// ---- decoding ----

/** The sign bit s placed onto a non-negative f32 (works for 0 → −0 without float negation). */
fn lowp_with_sign(v: f32, s: u32) -> f32 {
  return bitcast<f32>(bitcast<u32>(v) | (s << 31u));
}

/** E4M3: bias 7, 3 mantissa bits, max 448 (S.1111.110), no Inf, NaN = S.1111.111. */
fn e4m3_decode(code: u32) -> f32 {
  let s = (code >> 7u) & 1u;
  let e = (code >> 3u) & 0xFu;
  let m = code & 7u;
  if (e == 15u && m == 7u) {
    return bitcast<f32>(0x7FC00000u | (s << 31u));
  }
  // Subnormal: m · 2^-9. Normal: (8 + m) · 2^(e − 7 − 3).
  var v = ldexp(f32(m), -9);
  if (e != 0u) {
    v = ldexp(f32(8u + m), i32(e) - 10);
  }
  return lowp_with_sign(v, s);
}

/** E5M2: bias 15, 2 mantissa bits, max 57344, Inf = S.11111.00, NaN = S.11111.{01,10,11}. */
fn e5m2_decode(code: u32) -> f32 {
  let s = (code >> 7u) & 1u;
  let e = (code >> 2u) & 0x1Fu;
  let m = code & 3u;
  if (e == 31u) {
    if (m == 0u) {
      return bitcast<f32>(0x7F800000u | (s << 31u));
    }
    return bitcast<f32>(0x7FC00000u | (s << 31u));
  }
  // Subnormal: m · 2^-16. Normal: (4 + m) · 2^(e − 15 − 2).
  var v = ldexp(f32(m), -16);
  if (e != 0u) {
    v = ldexp(f32(4u + m), i32(e) - 17);
  }
  return lowp_with_sign(v, s);
}

/** E2M1 (code in the low 4 bits): bias 1, 1 mantissa bit: ±{0, .5, 1, 1.5, 2, 3, 4, 6}. */
fn e2m1_decode(code: u32) -> f32 {
  let s = (code >> 3u) & 1u;
  let e = (code >> 1u) & 3u;
  let m = code & 1u;
  // Subnormal: m · 2^-1. Normal: (2 + m) · 2^(e − 1 − 1).
  var v = ldexp(f32(m), -1);
  if (e != 0u) {
    v = ldexp(f32(2u + m), i32(e) - 2);
  }
  return lowp_with_sign(v, s);
}

/** Decode by format id: 0 = e4m3, 1 = e5m2, 2 = e2m1. */
fn lowp_decode(code: u32, format: u32) -> f32 {
  if (format == 0u) {
    return e4m3_decode(code);
  }
  if (format == 1u) {
    return e5m2_decode(code);
  }
  return e2m1_decode(code);
}

/**
 * lowp_decode of four codes at once, from bit operations alone (no ldexp, no table): a normal
 * code's magnitude bits shifted to the f32 mantissa's top and its exponent re-biased; a
 * subnormal's mantissa times 2^(1 − bias − mbits) (exact); E4M3's NaN and E5M2's Inf / NaN as
 * lowp_decode builds them. The same values, sign of zero and NaN bits as lowp_decode, code by code
 * (the GEMMs stage their tiles through it; src/backends/fp8.test.ts checks every code).
 */
fn lowp_decode4(c: vec4<u32>, format: u32) -> vec4<f32> {
  let ss = select(7u, 3u, format == 2u); // sign bit position
  let mb = lowp_mbits(format);
  let bias = lowp_bias(format);
  let sg = ((c >> vec4<u32>(ss)) & vec4<u32>(1u)) << vec4<u32>(31u);
  let mag = c & vec4<u32>((1u << ss) - 1u);
  let nrm = sg | ((mag << vec4<u32>(23u - mb)) + vec4<u32>(u32(127 - bias) << 23u));
  let sub_scale = bitcast<f32>(u32(128 - bias - i32(mb)) << 23u); // 2^(1 − bias − mbits)
  let sub = sg | bitcast<vec4<u32>>(vec4<f32>(mag & vec4<u32>((1u << mb) - 1u)) * sub_scale);
  var r = select(nrm, sub, (mag >> vec4<u32>(mb)) == vec4<u32>(0u));
  if (format == 0u) {
    r = select(r, sg | vec4<u32>(0x7FC00000u), mag == vec4<u32>(0x7Fu));
  } else if (format == 1u) {
    let special = sg | select(vec4<u32>(0x7FC00000u), vec4<u32>(0x7F800000u), (mag & vec4<u32>(3u)) == vec4<u32>(0u));
    r = select(r, special, (mag >> vec4<u32>(2u)) == vec4<u32>(31u));
  }
  return bitcast<vec4<f32>>(r);
}

// ---- encoding ----

/**
 * Saturating RNE encode of the f32 with bit pattern u into a sign-magnitude minifloat with
 * `mbits` mantissa bits and exponent bias `bias`. `max_mag` is the largest finite magnitude code,
 * `sign_shift` the sign bit position (7 for FP8, 3 for FP4). NaN is handled by the callers.
 *
 * Trick: for a target-normal value, the magnitude code is the integer (e_t << 23 | f) >> (23 −
 * mbits), with e_t the re-biased exponent and f the f32 fraction; rounding that integer RNE on
 * the dropped bits is exactly RNE of the value, and a mantissa carry correctly bumps the exponent.
 * For a target-subnormal value (e_t ≤ 0) we shift the full 24-bit significand right by
 * (23 − mbits) + (1 − e_t) instead.
 */
fn lowp_encode_mag_bits(u: u32, mbits: u32, bias: i32, max_mag: u32, sign_shift: u32) -> u32 {
  let sign = (u >> 31u) << sign_shift;
  let a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) {
    return sign | max_mag; // ±Inf saturates (NaN is filtered before we get here)
  }
  let E = i32(a >> 23u);
  if (E == 0) {
    return sign; // ±0 and f32 subnormals → ±0
  }
  let f = a & 0x7FFFFFu;
  let et = E - 127 + bias;
  var x: u32;
  var shift: u32;
  if (et >= 1) {
    x = (u32(et) << 23u) | f;
    shift = 23u - mbits;
  } else {
    shift = 23u - mbits + u32(1 - et);
    if (shift > 24u) {
      return sign; // below half the smallest subnormal
    }
    x = f | 0x800000u;
  }
  var q = x >> shift;
  let rem = x & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u) == 1u)) {
    q = q + 1u;
  }
  return sign | min(q, max_mag);
}

fn e4m3_encode_sat_bits(u: u32) -> u32 {
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return ((u >> 31u) << 7u) | 0x7Fu; // NaN → S.1111.111
  }
  return lowp_encode_mag_bits(u, 3u, 7, 0x7Eu, 7u);
}

fn e5m2_encode_sat_bits(u: u32) -> u32 {
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return ((u >> 31u) << 7u) | 0x7Fu; // NaN → S.11111.11
  }
  return lowp_encode_mag_bits(u, 2u, 15, 0x7Bu, 7u);
}

fn e2m1_encode_sat_bits(u: u32) -> u32 {
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return 0u; // E2M1 has no NaN: NaN → +0 (documented)
  }
  return lowp_encode_mag_bits(u, 1u, 1, 0x7u, 3u);
}

/** Encode an f32 given as its bit pattern, by format id. */
fn lowp_encode_bits(u: u32, format: u32) -> u32 {
  if (format == 0u) {
    return e4m3_encode_sat_bits(u);
  }
  if (format == 1u) {
    return e5m2_encode_sat_bits(u);
  }
  return e2m1_encode_sat_bits(u);
}

fn e4m3_encode_sat(x: f32) -> u32 {
  return e4m3_encode_sat_bits(bitcast<u32>(x));
}

fn e5m2_encode_sat(x: f32) -> u32 {
  return e5m2_encode_sat_bits(bitcast<u32>(x));
}

fn e2m1_encode_sat(x: f32) -> u32 {
  return e2m1_encode_sat_bits(bitcast<u32>(x));
}

fn lowp_encode(x: f32, format: u32) -> u32 {
  return lowp_encode_bits(bitcast<u32>(x), format);
}

// ---- format constants ----

/** Largest finite magnitude: 448 (e4m3), 57344 (e5m2), 6 (e2m1). */
fn lowp_fmax(format: u32) -> f32 {
  if (format == 0u) {
    return 448.0;
  }
  if (format == 1u) {
    return 57344.0;
  }
  return 6.0;
}

/** emax_elem of the OCP MX scale rule: 8 (e4m3), 15 (e5m2), 2 (e2m1). */
fn lowp_emax(format: u32) -> i32 {
  if (format == 0u) {
    return 8;
  }
  if (format == 1u) {
    return 15;
  }
  return 2;
}

/** Mantissa bits, exponent bias and largest finite magnitude code of each element format. */
fn lowp_mbits(format: u32) -> u32 {
  return select(select(1u, 2u, format == 1u), 3u, format == 0u);
}
fn lowp_bias(format: u32) -> i32 {
  return select(select(1, 15, format == 1u), 7, format == 0u);
}
fn lowp_max_mag(format: u32) -> u32 {
  return select(select(0x7u, 0x7Bu, format == 1u), 0x7Eu, format == 0u);
}

// ---- exact f32 division ----

/** Normalize a non-zero finite magnitude: returns (24-bit significand with bit 23 set, biased exponent, which may be ≤ 0). */
fn lowp_f32_unpack(mag: u32) -> vec2<i32> {
  let e = i32(mag >> 23u);
  let m = mag & 0x7FFFFFu;
  if (e != 0) {
    return vec2<i32>(i32(m | 0x800000u), e);
  }
  let sh = 23u - firstLeadingBit(m); // subnormal: move the leading 1 up to bit 23
  return vec2<i32>(i32(m << sh), 1 - i32(sh));
}

/**
 * a / b for f32 bit patterns, correctly rounded (RNE) like IEEE division — except that results
 * below 2^-126 flush to a signed zero (used only in front of the low-precision encoders, whose
 * smallest subnormal is ≥ 2^-16, so the final code is the same). Restoring long division on the
 * 24-bit significands: 24 quotient bits + a round bit + a sticky bit.
 */
fn f32_div_rn_bits(a: u32, b: u32) -> u32 {
  let s = (a ^ b) & 0x80000000u;
  let aa = a & 0x7FFFFFFFu;
  let bb = b & 0x7FFFFFFFu;
  if (aa > 0x7F800000u || bb > 0x7F800000u) {
    return 0x7FC00000u;
  }
  if (aa == 0x7F800000u) {
    if (bb == 0x7F800000u) {
      return 0x7FC00000u;
    }
    return s | 0x7F800000u;
  }
  if (bb == 0x7F800000u) {
    return s;
  }
  if (bb == 0u) {
    if (aa == 0u) {
      return 0x7FC00000u;
    }
    return s | 0x7F800000u;
  }
  if (aa == 0u) {
    return s;
  }
  let ua = lowp_f32_unpack(aa);
  let ub = lowp_f32_unpack(bb);
  var ma = u32(ua.x);
  let mb = u32(ub.x);
  var e = ua.y - ub.y + 127;
  var q: u32;
  var sticky = false;
  if (mb == 0x800000u) {
    q = ma; // power-of-two divisor: exact
  } else {
    if (ma < mb) {
      ma = ma << 1u;
      e = e - 1;
    }
    // Now 1 ≤ ma/mb < 2: 25 quotient bits (1 integer + 23 fraction + 1 round).
    var r = ma;
    var qq = 0u;
    for (var i = 0u; i < 25u; i = i + 1u) {
      qq = qq << 1u;
      if (r >= mb) {
        r = r - mb;
        qq = qq | 1u;
      }
      r = r << 1u;
    }
    sticky = r != 0u;
    let rb = qq & 1u;
    q = qq >> 1u;
    if (rb == 1u && (sticky || (q & 1u) == 1u)) {
      q = q + 1u;
    }
    if (q == 0x1000000u) {
      q = q >> 1u;
      e = e + 1;
    }
  }
  if (e >= 255) {
    return s | 0x7F800000u;
  }
  if (e <= 0) {
    return s;
  }
  return s | (u32(e) << 23u) | (q & 0x7FFFFFu);
}

/** Marks "the guard cannot decide: take the long division" (a NaN pattern no fast path returns). */
const LOWP_SLOW: u32 = 0xFFFFFFFFu;

/**
 * The f32 quotient a / b (bit patterns) where it gives the same code as the correctly rounded
 * quotient, else LOWP_SLOW. WGSL's f32 `/` is accurate to 2.5 ULP, so the correctly rounded
 * quotient is within 3 ULP of it. Where that quotient q is normal in the target format (exponent
 * e_t ≥ 1), its code rounds at the fixed bit 23 − mbits of the f32 pattern, and the pattern is
 * linear in the value across binades (see lowp_encode_mag_bits); if q's dropped bits are more
 * than 4 ULP away from the midpoint, no rounding boundary lies between q and the exact quotient,
 * so both give the same code (at the bottom of the normal range the code of the smallest normal
 * is reached from both sides alike; past the largest finite code both saturate). Every other case
 * — near a midpoint, target subnormals, ±0, Inf/NaN, f32 subnormal operands or quotients — is
 * LOWP_SLOW. Its TS twin is lowpEncodeDivGuard in src/lowp/codec.ts, whose test perturbs
 * quotients by ±3 ULP.
 */
fn lowp_div_guarded(a: u32, b: u32, format: u32) -> u32 {
  let ea = (a >> 23u) & 0xFFu;
  let eb = (b >> 23u) & 0xFFu;
  if (ea != 0u && ea != 255u && eb != 0u && eb < 254u) {
    let u = bitcast<u32>(bitcast<f32>(a) / bitcast<f32>(b));
    let E = i32((u >> 23u) & 0xFFu);
    let mbits = lowp_mbits(format);
    if (E != 255 && E - 127 + lowp_bias(format) >= 1) {
      let shift = 23u - mbits;
      let rem = u & ((1u << shift) - 1u);
      let half = 1u << (shift - 1u);
      if (rem + 4u < half || rem > half + 4u) {
        return u;
      }
    }
  }
  return LOWP_SLOW;
}

/** lowp_encode_bits(f32_div_rn_bits(a, b), format), without the long division where it cannot matter. */
fn lowp_encode_div_bits(a: u32, b: u32, format: u32) -> u32 {
  let u = lowp_div_guarded(a, b, format);
  if (u != LOWP_SLOW) {
    return lowp_encode_bits(u, format);
  }
  return lowp_encode_bits(f32_div_rn_bits(a, b), format);
}

/**
 * The VALUE of lowp_encode_div_bits(a, b, format) — lowp_decode of that code, as f32 bits —
 * wherever lowp_div_guarded decides the code (else LOWP_SLOW): the quotient rounded to mbits
 * mantissa bits on its bit pattern (the guard leaves no ties), saturated at the largest finite
 * magnitude, re-biased back to f32. A kernel that needs only the decoded value (the
 * quantize-on-load GEMM) skips the code and its table lookup on this path.
 */
fn lowp_div_value_bits(a: u32, b: u32, format: u32) -> u32 {
  let u = lowp_div_guarded(a, b, format);
  if (u == LOWP_SLOW) {
    return LOWP_SLOW;
  }
  let shift = 23u - lowp_mbits(format);
  let rebias = u32(127 - lowp_bias(format)) << 23u;
  let x = (u & 0x7FFFFFFFu) - rebias; // e_t ≥ 1: the target's exponent field, f's bits kept
  var q = x >> shift;
  if ((x & ((1u << shift) - 1u)) > (1u << (shift - 1u))) {
    q = q + 1u;
  }
  return (u & 0x80000000u) | ((min(q, lowp_max_mag(format)) << shift) + rebias);
}

// ---- tile scales ----

/** f32 bits of Math.fround(1e-4): the amax floor of the V3 / DeepGEMM rule. */
const LOWP_AMAX_FLOOR_BITS: u32 = 0x38D1B717u;

/**
 * The scale of a tile from its amax (as f32 bits, a non-negative magnitude), returned as f32
 * bits. rule 0 'f32': s = max(amax, 1e-4) / fmax (correctly rounded); rule 1 'ue8m0': that s
 * rounded UP to a power of two (DeepGEMM's ceil_to_ue8m0: exponent + (mantissa ≠ 0));
 * rule 2 'mx': 2^(floor(log2 amax) − emax), with the E8M0 range floor: amax = 0 (or so small
 * that the exponent would go below −127) gives 2^-127 (an f32 subnormal, E8M0 code 0).
 * A NaN amax gives a NaN scale under 'mx'; an infinite amax gives an infinite scale otherwise.
 */
fn lowp_scale_bits(amax_bits: u32, format: u32, rule: u32) -> u32 {
  if (rule == 2u) {
    if (amax_bits >= 0x7F800000u) {
      return 0x7FC00000u;
    }
    let t = i32(amax_bits >> 23u) - lowp_emax(format);
    if (t <= 0) {
      return 0x00400000u; // 2^-127
    }
    return u32(t) << 23u;
  }
  let s = f32_div_rn_bits(max(amax_bits, LOWP_AMAX_FLOOR_BITS), bitcast<u32>(lowp_fmax(format)));
  if (rule == 0u) {
    return s;
  }
  let e = ((s >> 23u) & 0xFFu) + select(0u, 1u, (s & 0x7FFFFFu) != 0u);
  return min(e, 255u) << 23u;
}
