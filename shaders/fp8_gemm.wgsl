// Block-scaled low-precision GEMM:  C[M, N] = A · Bᵀ  from quantized codes and per-tile scales
// (DeepSeek-V3's fp8_gemm, spec §3). shaders/fp8_codec.wgsl is prepended by the TS loader and
// provides fp8_unpack(word, j) and lowp_decode(code, format).
//
// Operands (see QTensor in src/engine/backend.ts). K is padded to Kp = ceil(K / BLK)·BLK with
// zero codes, which decode to +0, so the K loop below needs no guard; it ends at K rounded up to
// TK, not at Kp (a K below the block, e.g. a 64-wide layer with 128-blocks, would otherwise run
// the padding's FMAs too). Skipping the padding's +0·+0 products changes no bit of C: they can
// only turn a -0 partial into +0, and C, which starts at +0 and adds the scaled partials, is
// never -0 (x + -0 = x; +0 + -0 = +0), so both partials add the same value.
//   Acodes [M, Kp/4] u32 words, 4 codes each (code k at byte k % 4 of word k / 4);
//   Ascales [M, Kp/BLK]                           (1×BLK tiles along K, "rows");
//   Bcodes [N, Kp/4];
//   Bscales [N, Kp/BLK] (B_BLOCKS = false, "rows") or [ceil(N/BLK), Kp/BLK] (BLK×BLK "blocks").
//
// Entry `main` — the fast path (accumulator = f32), for each K-block kb:
//     blk[m, n] = Σ_{k in kb} decode(a[m,k]) · decode(b[n,k])        (f32, k in order)
//     C[m, n]  += (blk[m, n] · sA[m, kb]) · sB[n or n/BLK, kb]
// Tiling as in shaders/matmul.wgsl: a WG_X × WG_Y workgroup owns a TM × TN tile of C (TM = 8·WG_Y,
// TN = 8·WG_X); each thread owns an 8 × 8 block (rows {ty·4+i, TM/2+ty·4+i}, columns
// {tx·4.., TN/2+tx·4..}) held twice: 16 vec4 block partials `p**` and 16 vec4 accumulators
// `c**` (128 f32 registers: the price of applying the scales per block, exactly as DeepGEMM keeps
// WGMMA partials apart from its promoted FP32 accumulators).
//
// WebGPU has no 8-bit arithmetic, so this is a dequantize-on-load kernel: per K-tile of TK (a
// divisor of BLK, so the scales change only at tile boundaries) the workgroup reads the CODES of
// a TM × TK slice of A and a TN × TK slice of B (1 byte per element instead of f32's 4), decodes
// them four at a time with bit operations (lowp_decode4: the values of lowp_decode; a table in
// workgroup memory, which it replaced, cost a gather per code), and stores f32 vec4s "k-major"
// (As[k][m], Bs[k][n])
// like the f32 kernel; the inner loop is then the f32 kernel's rank-1 update (4 workgroup loads
// per 64 FMAs). When a tile closes a K-block, each thread reads its 8 row scales and 8 column
// scales, folds its partials into its accumulators and clears them.
//
// Staging: a thread handles a 4-row × 4-k sub-block: it reads one u32 word from each of 4 rows
// (neighbouring threads read neighbouring words of a row, so reads come in runs of TK/4 words),
// decodes 16 codes and writes 4 full vec4s As[k+j][m4]. Rows ≥ M (N) read word 0, i.e. zero
// codes; these loads are the only bounds checks (the stores at the end drop rows/columns
// outside C). Each thread sums k = 0, 1, 2, … in order within a block and the blocks in order,
// whatever the tile sizes: bit-identical run to run.
//
// Entry `main_limited` — the accumulation-precision EXPERIMENT (spec §3 "Promotion"), not the
// fast path: one thread per output, reading codes straight from global memory. It emulates a
// tensor core whose accumulator keeps only `mbits` mantissa bits:
//     acc_l = round_m(acc_l + ((decode(a)·decode(b))·sA)·sB)        after EVERY product,
//     every `promote` K elements (when promote > 0): acc += acc_l; acc_l = 0;   at the end acc += acc_l,
// with round_m = round-to-nearest-even to m mantissa bits on the f32 bit pattern (or, as an
// option, truncation toward zero).
//
// Constraints (met by the host): TK | BLK, TK a multiple of 4; workgroup storage
// TK·(TM/4 + 1 + TN/4 + 1)·16 bytes within the device's limit.

override WG_X: u32 = 16u;        // threads along N
override WG_Y: u32 = 16u;        // threads along M
override TK: u32 = 16u;          // K-tile depth (divides BLK)
override FORMAT_A: u32 = 0u;     // element format of A: 0 = e4m3, 1 = e5m2, 2 = e2m1
override FORMAT_B: u32 = 0u;     // … of B
override B_BLOCKS: bool = false; // B's scales per BLK×BLK block (else per 1×BLK row tile)

override NT: u32 = WG_X * WG_Y;
override TM: u32 = 8u * WG_Y;
override TN: u32 = 8u * WG_X;
override SA: u32 = TM / 4u + 1u; // As row stride in vec4s (+1 pad against bank conflicts)
override SB: u32 = TN / 4u + 1u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  words: u32,   // u32 words per code row (Kp / 4)
  nkb: u32,     // K-blocks (Kp / BLK): scale columns
  blk: u32,     // quant block BLK
  mbits: u32,   // main_limited: accumulator mantissa bits
  promote: u32, // main_limited: promote to f32 every this many K elements (0 = never)
  trunc: u32,   // main_limited: 1 = round toward zero (truncate) instead of to nearest even
}

@group(0) @binding(0) var<storage, read> Acodes: array<u32>;
@group(0) @binding(1) var<storage, read> Ascales: array<f32>;
@group(0) @binding(2) var<storage, read> Bcodes: array<u32>;
@group(0) @binding(3) var<storage, read> Bscales: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> As: array<vec4<f32>, TK * SA>; // As[k * SA + m/4][m % 4] = decode(A[m0 + m, k0 + k])
var<workgroup> Bs: array<vec4<f32>, TK * SB>; // Bs[k * SB + n/4][n % 4] = decode(B[n0 + n, k0 + k])

// Word w of code row r of A (or B); rows past the end give word 0 (four zero codes).
fn wordA(r: u32, w: u32) -> u32 {
  if (r >= p.M) { return 0u; }
  return Acodes[r * p.words + w];
}
fn wordB(r: u32, w: u32) -> u32 {
  if (r >= p.N) { return 0u; }
  return Bcodes[r * p.words + w];
}

// sA for row m and sB for column n at K-block kb. Indices are clamped so padding rows/columns
// of a tile read a valid scale (their products are zero and never stored anyway).
fn scaleA(m: u32, kb: u32) -> f32 {
  return Ascales[min(m, p.M - 1u) * p.nkb + kb];
}
fn scaleB(n: u32, kb: u32) -> f32 {
  var r = min(n, p.N - 1u);
  if (B_BLOCKS) { r = r / p.blk; }
  return Bscales[r * p.nkb + kb];
}
fn scalesB4(n: u32, kb: u32) -> vec4<f32> {
  return vec4<f32>(scaleB(n, kb), scaleB(n + 1u, kb), scaleB(n + 2u, kb), scaleB(n + 3u, kb));
}

fn storeRow(m: u32, n: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  let row = m * p.N;
  if (n < p.N) { C[row + n] = v.x; }
  if (n + 1u < p.N) { C[row + n + 1u] = v.y; }
  if (n + 2u < p.N) { C[row + n + 2u] = v.z; }
  if (n + 3u < p.N) { C[row + n + 3u] = v.w; }
}

// The 4 codes of each of 4 words (rows r..r+3 at one k-word) as 4 vec4s along the rows:
// result j holds code j (k = 4w + j) of the 4 rows.
fn decodeA(w0: u32, w1: u32, w2: u32, w3: u32, j: u32) -> vec4<f32> {
  return lowp_decode4(vec4<u32>(fp8_unpack(w0, j), fp8_unpack(w1, j), fp8_unpack(w2, j), fp8_unpack(w3, j)), FORMAT_A);
}
fn decodeB(w0: u32, w1: u32, w2: u32, w3: u32, j: u32) -> vec4<f32> {
  return lowp_decode4(vec4<u32>(fp8_unpack(w0, j), fp8_unpack(w1, j), fp8_unpack(w2, j), fp8_unpack(w3, j)), FORMAT_B);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  let tx = lid3.x;
  let ty = lid3.y;
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let KW = TK / 4u;              // code words per row of a K-tile
  let slotsA = (TM / 4u) * KW;   // 4×4 sub-blocks per staged tile
  let slotsB = (TN / 4u) * KW;

  // p_r_c: this K-block's partial sums; c_r_c: the f32 accumulators (rows r, column half c as in matmul.wgsl).
  var p00 = vec4<f32>(0.0); var p01 = vec4<f32>(0.0); var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0);
  var p10 = vec4<f32>(0.0); var p11 = vec4<f32>(0.0); var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0);
  var p20 = vec4<f32>(0.0); var p21 = vec4<f32>(0.0); var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0);
  var p30 = vec4<f32>(0.0); var p31 = vec4<f32>(0.0); var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0);
  var p40 = vec4<f32>(0.0); var p41 = vec4<f32>(0.0); var c40 = vec4<f32>(0.0); var c41 = vec4<f32>(0.0);
  var p50 = vec4<f32>(0.0); var p51 = vec4<f32>(0.0); var c50 = vec4<f32>(0.0); var c51 = vec4<f32>(0.0);
  var p60 = vec4<f32>(0.0); var p61 = vec4<f32>(0.0); var c60 = vec4<f32>(0.0); var c61 = vec4<f32>(0.0);
  var p70 = vec4<f32>(0.0); var p71 = vec4<f32>(0.0); var c70 = vec4<f32>(0.0); var c71 = vec4<f32>(0.0);

  let mA = m0 + ty * 4u;           // first row of the upper half
  let mB = m0 + TM / 2u + ty * 4u; // … of the lower half
  let nA = n0 + tx * 4u;
  let nB = n0 + TN / 2u + tx * 4u;
  // The K loop stops at the first TK-tile past K: the tiles wholly in the zero padding up to Kp
  // add only ±0 products to the last block's partials (which cannot change C: see the header),
  // so they are skipped, and the last block closes where the loop ends.
  let Ke = min(p.words * 4u, ((p.K + TK - 1u) / TK) * TK);

  for (var k0 = 0u; k0 < Ke; k0 += TK) {
    let w0 = k0 / 4u;
    // 1. Stage decoded A[m0 .. m0+TM, k0 .. k0+TK] into As: slot s = 4 rows × 1 word.
    for (var s = lid; s < slotsA; s += NT) {
      let kw = s % KW;
      let m4 = s / KW;
      let r = m0 + m4 * 4u;
      let a0 = wordA(r, w0 + kw);
      let a1 = wordA(r + 1u, w0 + kw);
      let a2 = wordA(r + 2u, w0 + kw);
      let a3 = wordA(r + 3u, w0 + kw);
      let base = kw * 4u * SA + m4;
      As[base] = decodeA(a0, a1, a2, a3, 0u);
      As[base + SA] = decodeA(a0, a1, a2, a3, 1u);
      As[base + 2u * SA] = decodeA(a0, a1, a2, a3, 2u);
      As[base + 3u * SA] = decodeA(a0, a1, a2, a3, 3u);
    }
    // … and B[n0 .. n0+TN, k0 .. k0+TK] into Bs.
    for (var s = lid; s < slotsB; s += NT) {
      let kw = s % KW;
      let n4 = s / KW;
      let r = n0 + n4 * 4u;
      let b0 = wordB(r, w0 + kw);
      let b1 = wordB(r + 1u, w0 + kw);
      let b2 = wordB(r + 2u, w0 + kw);
      let b3 = wordB(r + 3u, w0 + kw);
      let base = kw * 4u * SB + n4;
      Bs[base] = decodeB(b0, b1, b2, b3, 0u);
      Bs[base + SB] = decodeB(b0, b1, b2, b3, 1u);
      Bs[base + 2u * SB] = decodeB(b0, b1, b2, b3, 2u);
      Bs[base + 3u * SB] = decodeB(b0, b1, b2, b3, 3u);
    }
    workgroupBarrier();

    // 2. TK rank-1 updates of the block partials (the f32 kernel's inner loop).
    for (var k = 0u; k < TK; k++) {
      let a0 = As[k * SA + ty];
      let a1 = As[k * SA + WG_Y + ty];
      let b0 = Bs[k * SB + tx];
      let b1 = Bs[k * SB + WG_X + tx];
      p00 += a0.x * b0; p01 += a0.x * b1;
      p10 += a0.y * b0; p11 += a0.y * b1;
      p20 += a0.z * b0; p21 += a0.z * b1;
      p30 += a0.w * b0; p31 += a0.w * b1;
      p40 += a1.x * b0; p41 += a1.x * b1;
      p50 += a1.y * b0; p51 += a1.y * b1;
      p60 += a1.z * b0; p61 += a1.z * b1;
      p70 += a1.w * b0; p71 += a1.w * b1;
    }
    workgroupBarrier();

    // 3. The tile closed a K-block: C += (partial · sA) · sB, then clear the partials.
    let kEnd = k0 + TK;
    if (kEnd % p.blk == 0u || kEnd == Ke) {
      let kb = (kEnd - 1u) / p.blk;
      let sbA = scalesB4(nA, kb);
      let sbB = scalesB4(nB, kb);
      var sa = scaleA(mA, kb);
      c00 += (p00 * sa) * sbA; c01 += (p01 * sa) * sbB;
      sa = scaleA(mA + 1u, kb);
      c10 += (p10 * sa) * sbA; c11 += (p11 * sa) * sbB;
      sa = scaleA(mA + 2u, kb);
      c20 += (p20 * sa) * sbA; c21 += (p21 * sa) * sbB;
      sa = scaleA(mA + 3u, kb);
      c30 += (p30 * sa) * sbA; c31 += (p31 * sa) * sbB;
      sa = scaleA(mB, kb);
      c40 += (p40 * sa) * sbA; c41 += (p41 * sa) * sbB;
      sa = scaleA(mB + 1u, kb);
      c50 += (p50 * sa) * sbA; c51 += (p51 * sa) * sbB;
      sa = scaleA(mB + 2u, kb);
      c60 += (p60 * sa) * sbA; c61 += (p61 * sa) * sbB;
      sa = scaleA(mB + 3u, kb);
      c70 += (p70 * sa) * sbA; c71 += (p71 * sa) * sbB;
      p00 = vec4<f32>(0.0); p01 = vec4<f32>(0.0); p10 = vec4<f32>(0.0); p11 = vec4<f32>(0.0);
      p20 = vec4<f32>(0.0); p21 = vec4<f32>(0.0); p30 = vec4<f32>(0.0); p31 = vec4<f32>(0.0);
      p40 = vec4<f32>(0.0); p41 = vec4<f32>(0.0); p50 = vec4<f32>(0.0); p51 = vec4<f32>(0.0);
      p60 = vec4<f32>(0.0); p61 = vec4<f32>(0.0); p70 = vec4<f32>(0.0); p71 = vec4<f32>(0.0);
    }
  }

  storeRow(mA, nA, c00); storeRow(mA, nB, c01);
  storeRow(mA + 1u, nA, c10); storeRow(mA + 1u, nB, c11);
  storeRow(mA + 2u, nA, c20); storeRow(mA + 2u, nB, c21);
  storeRow(mA + 3u, nA, c30); storeRow(mA + 3u, nB, c31);
  storeRow(mB, nA, c40); storeRow(mB, nB, c41);
  storeRow(mB + 1u, nA, c50); storeRow(mB + 1u, nB, c51);
  storeRow(mB + 2u, nA, c60); storeRow(mB + 2u, nB, c61);
  storeRow(mB + 3u, nA, c70); storeRow(mB + 3u, nB, c71);
}

// Round an f32 to m mantissa bits (1 ≤ m ≤ 23) on its bit pattern. To nearest even: add half an
// ulp of the target precision (minus one, plus the kept lsb: ties go to even), then clear the
// dropped bits; a carry out of the mantissa correctly bumps the exponent. With trunc: just clear
// them (round toward zero — closer to what FP8 tensor cores are reported to do).
fn round_mantissa(x: f32, m: u32, trunc: bool) -> f32 {
  if (m >= 23u) { return x; }
  let drop = 23u - m;
  let bits = bitcast<u32>(x);
  let keep = ~((1u << drop) - 1u);
  if (trunc) { return bitcast<f32>(bits & keep); }
  let lsb = (bits >> drop) & 1u;
  let half = (1u << (drop - 1u)) - 1u + lsb;
  return bitcast<f32>((bits + half) & keep);
}

// The limited-accumulator experiment (see the header): thread (x, y) computes C[y, x] alone.
@compute @workgroup_size(WG_X, WG_Y)
fn main_limited(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let m = gid.y;
  if (m >= p.M || n >= p.N) { return; }
  var bRow = n;
  if (B_BLOCKS) { bRow = n / p.blk; }
  var acc = 0.0;   // the f32 accumulator promoted into
  var accL = 0.0;  // the limited accumulator
  var k = 0u;
  let words = (p.K + 3u) / 4u; // the padding codes of the last word are zeros: adding them is exact
  for (var w = 0u; w < words; w++) {
    let wa = Acodes[m * p.words + w];
    let wb = Bcodes[n * p.words + w];
    let kb = (w * 4u) / p.blk; // BLK is a multiple of 4: one block per word
    let sa = Ascales[m * p.nkb + kb];
    let sb = Bscales[bRow * p.nkb + kb];
    for (var j = 0u; j < 4u; j++) {
      let prod = ((lowp_decode(fp8_unpack(wa, j), FORMAT_A) * lowp_decode(fp8_unpack(wb, j), FORMAT_B)) * sa) * sb;
      accL = round_mantissa(accL + prod, p.mbits, p.trunc != 0u);
      k++;
      if (p.promote > 0u && k % p.promote == 0u) {
        acc += accL;
        accL = 0.0;
      }
    }
  }
  C[m * p.N + n] = acc + accL;
}
