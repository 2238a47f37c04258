// Block-scaled low-precision GEMM with the A operand quantized ON LOAD:
//     C[M, N] = Q_rows(A) · Bᵀ
// where A is f32 (read as bit patterns, [M, K] or, with the strides below, Aᵀ stored [K, M]) and
// B is a QTensor (codes 4 per u32 + f32 scales, 1×BLK row tiles or BLK×BLK blocks) exactly as in
// shaders/fp8_gemm.wgsl. shaders/fp8_codec.wgsl is prepended by the TS loader.
//
// It replaces `quantize_rows` (shaders/fp8_quant.wgsl) + `main` (shaders/fp8_gemm.wgsl): no
// separate quantize dispatch over A and no codes/scales buffer for it. The output is BIT-IDENTICAL
// to that pair, because every step is the same computation:
//   * at the start of each K-block the workgroup takes, for each of its TM rows, the amax of the
//     row's 1×BLK tile as a max of f32 magnitude bit patterns (columns ≥ K count as +0, like the
//     quantizer's padding; max is exact and order-free, so one thread's running max per row gives
//     the quantizer's bits), and turns it into the tile scale with lowp_scale_bits —
//     the same rule functions as the quantizer (amax floor 1e-4, ÷ fmax correctly rounded, UE8M0
//     round-up, MX floor);
//   * staging a TK-slice stages each element's decoded code: the code is the quantizer's, that
//     of the correctly rounded quotient x / s; where the guarded f32 quotient decides it (almost
//     always), lowp_div_value_bits rounds the quotient's bit pattern to the code's value
//     directly, else the exact division's code is decoded by lowp_decode; padding (k ≥ K,
//     rows ≥ M) is +0, i.e. code 0, as in the quantizer;
//   * the partial sums, the block close C += (partial · sA) · sB and the stores are the code-
//     reading kernel's, with sA taken from workgroup memory instead of the scales buffer.
// Rows of A beyond M and columns beyond K are never read.
//
// A element (m, k) is at Ax[m · a_sm + k · a_sk]: (a_sm, a_sk) = (K, 1) for A = X [M, K], and
// (1, M) for A = Xᵀ with X stored [K, M] (the Wgrad GEMM reads dY [tokens, out] as dYᵀ). The
// staging maps consecutive threads to consecutive addresses in either layout (a_trans); the amax
// pass runs a row per thread (a sequential walk along k; across threads consecutive addresses
// when A is read transposed). It had a thread per word and a workgroup atomicMax per row: the
// atomics cost more than the walk.
//
// Cost: each A element is quantized once per workgroup column (ceil(N / TN) times) instead of
// once: an f32 division and a rounding of its bits per element, plus the quantizer's exact integer division
// (a 25-step loop) for the few quotients within 4 ULP of a rounding midpoint or below the
// format's normal range (lowp_encode_div_bits). Worth it while N / TN is small, which is the
// linear layers' shape on the lab's models; a dispatch and a pass over A are saved.
//
// Constraints (met by the host): TK | BLK, TK a multiple of 4; workgroup storage
// TK·(TM/4 + 1 + TN/4 + 1)·16 + 4·TM bytes within the device's limit.

override WG_X: u32 = 16u;        // threads along N
override WG_Y: u32 = 16u;        // threads along M
override TK: u32 = 16u;          // K-tile depth (divides BLK)
override FORMAT_A: u32 = 0u;     // element format A is quantized to: 0 = e4m3, 1 = e5m2, 2 = e2m1
override RULE_A: u32 = 0u;       // A's scale rule: 0 = f32, 1 = ue8m0, 2 = mx
override FORMAT_B: u32 = 0u;     // element format of B
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
  words: u32,   // u32 words per code row of B (Kp / 4)
  nkb: u32,     // K-blocks (Kp / BLK)
  blk: u32,     // quant block BLK
  a_sm: u32,    // A's stride along m (in elements)
  a_sk: u32,    // … along k
  a_trans: u32, // 1 when a_sm = 1 (A stored transposed): staging walks m fastest
}

@group(0) @binding(0) var<storage, read> Ax: array<u32>; // f32 A, as bit patterns
@group(0) @binding(1) var<storage, read> Bcodes: array<u32>;
@group(0) @binding(2) var<storage, read> Bscales: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> As: array<vec4<f32>, TK * SA>;
var<workgroup> Bs: array<vec4<f32>, TK * SB>;
var<workgroup> rowScale: array<u32, TM>;        // this K-block's tile scale per row (f32 bits)

// Bit pattern of A[m, k]; +0 outside [0, M) × [0, K).
fn xbits(m: u32, k: u32) -> u32 {
  if (m >= p.M || k >= p.K) { return 0u; }
  return Ax[m * p.a_sm + k * p.a_sk];
}

// Code word w of row r of B; rows past the end give word 0 (four zero codes).
fn wordB(r: u32, w: u32) -> u32 {
  if (r >= p.N) { return 0u; }
  return Bcodes[r * p.words + w];
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

// Quantize A[m0 + rl, k] with its row's current scale and decode it again (the value the
// code-reading kernel would stage for the quantizer's code).
// Where the guarded f32 quotient decides the code, its value comes straight from the quotient's
// bits (lowp_div_value_bits: no code, no decode); the rest — near a midpoint, ±0, target
// subnormals, specials — take the quantizer's exact division, encode and decode.
fn qA(m0: u32, rl: u32, k: u32) -> f32 {
  let a = xbits(m0 + rl, k);
  let s = rowScale[rl];
  let v = lowp_div_value_bits(a, s, FORMAT_A);
  if (v != LOWP_SLOW) {
    return bitcast<f32>(v);
  }
  return lowp_decode(lowp_encode_bits(f32_div_rn_bits(a, s), FORMAT_A), FORMAT_A);
}

fn decodeB(w0: u32, w1: u32, w2: u32, w3: u32, j: u32) -> vec4<f32> {
  return lowp_decode4(vec4<u32>(fp8_unpack(w0, j), fp8_unpack(w1, j), fp8_unpack(w2, j), fp8_unpack(w3, j)), FORMAT_B);
}

fn scaleA(ml: u32) -> f32 {
  return bitcast<f32>(rowScale[ml]);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main_qa(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  let tx = lid3.x;
  let ty = lid3.y;
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let KW = TK / 4u;
  let elemsA = TM * TK;
  let slotsB = (TN / 4u) * KW;

  var p00 = vec4<f32>(0.0); var p01 = vec4<f32>(0.0); var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0);
  var p10 = vec4<f32>(0.0); var p11 = vec4<f32>(0.0); var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0);
  var p20 = vec4<f32>(0.0); var p21 = vec4<f32>(0.0); var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0);
  var p30 = vec4<f32>(0.0); var p31 = vec4<f32>(0.0); var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0);
  var p40 = vec4<f32>(0.0); var p41 = vec4<f32>(0.0); var c40 = vec4<f32>(0.0); var c41 = vec4<f32>(0.0);
  var p50 = vec4<f32>(0.0); var p51 = vec4<f32>(0.0); var c50 = vec4<f32>(0.0); var c51 = vec4<f32>(0.0);
  var p60 = vec4<f32>(0.0); var p61 = vec4<f32>(0.0); var c60 = vec4<f32>(0.0); var c61 = vec4<f32>(0.0);
  var p70 = vec4<f32>(0.0); var p71 = vec4<f32>(0.0); var c70 = vec4<f32>(0.0); var c71 = vec4<f32>(0.0);

  let lA = ty * 4u;           // local first row of the upper half
  let lB = TM / 2u + ty * 4u; // … of the lower half
  let nA = n0 + tx * 4u;
  let nB = n0 + TN / 2u + tx * 4u;
  // As in shaders/fp8_gemm.wgsl: the loop ends at K rounded up to TK, not at the padded Kp
  // (same bits), and the last block closes where it ends.
  let Ke = min(p.words * 4u, ((p.K + TK - 1u) / TK) * TK);

  for (var k0 = 0u; k0 < Ke; k0 += TK) {
    // 0. A K-block starts: the tile scale of each of the workgroup's rows. The first barrier
    //    keeps this block's scales from overwriting the ones the previous block's close (step 3)
    //    may still be reading.
    if (k0 % p.blk == 0u) {
      workgroupBarrier();
      // One thread per row: the max of the magnitude bits of the row's columns k0 .. kb − 1
      // (max is exact and order-free: the quantizer's bits). With A read transposed,
      // neighbouring threads (rows) read neighbouring addresses.
      let kb = min(k0 + p.blk, p.K);
      for (var i = lid; i < TM; i += NT) {
        var a = 0u;
        for (var k = k0; k < kb; k++) { a = max(a, xbits(m0 + i, k) & 0x7FFFFFFFu); }
        rowScale[i] = lowp_scale_bits(a, FORMAT_A, RULE_A);
      }
      workgroupBarrier();
    }

    // 1. Stage A[m0 .. m0+TM, k0 .. k0+TK], quantized and decoded, into As, one element per
    //    step (a single call site of the encoder keeps the kernel small to compile) …
    for (var e = lid; e < elemsA; e += NT) {
      var rl = e / TK;
      var kk = e % TK;
      if (p.a_trans != 0u) {
        rl = e % TM;
        kk = e / TM;
      }
      As[kk * SA + rl / 4u][rl % 4u] = qA(m0, rl, k0 + kk);
    }
    // … and the codes of B[n0 .. n0+TN, k0 .. k0+TK], decoded, into Bs.
    let w0 = k0 / 4u;
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

    // 2. TK rank-1 updates of the block partials.
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
      var sa = scaleA(lA);
      c00 += (p00 * sa) * sbA; c01 += (p01 * sa) * sbB;
      sa = scaleA(lA + 1u);
      c10 += (p10 * sa) * sbA; c11 += (p11 * sa) * sbB;
      sa = scaleA(lA + 2u);
      c20 += (p20 * sa) * sbA; c21 += (p21 * sa) * sbB;
      sa = scaleA(lA + 3u);
      c30 += (p30 * sa) * sbA; c31 += (p31 * sa) * sbB;
      sa = scaleA(lB);
      c40 += (p40 * sa) * sbA; c41 += (p41 * sa) * sbB;
      sa = scaleA(lB + 1u);
      c50 += (p50 * sa) * sbA; c51 += (p51 * sa) * sbB;
      sa = scaleA(lB + 2u);
      c60 += (p60 * sa) * sbA; c61 += (p61 * sa) * sbB;
      sa = scaleA(lB + 3u);
      c70 += (p70 * sa) * sbA; c71 += (p71 * sa) * sbB;
      p00 = vec4<f32>(0.0); p01 = vec4<f32>(0.0); p10 = vec4<f32>(0.0); p11 = vec4<f32>(0.0);
      p20 = vec4<f32>(0.0); p21 = vec4<f32>(0.0); p30 = vec4<f32>(0.0); p31 = vec4<f32>(0.0);
      p40 = vec4<f32>(0.0); p41 = vec4<f32>(0.0); p50 = vec4<f32>(0.0); p51 = vec4<f32>(0.0);
      p60 = vec4<f32>(0.0); p61 = vec4<f32>(0.0); p70 = vec4<f32>(0.0); p71 = vec4<f32>(0.0);
    }
  }

  let mA = m0 + lA;
  let mB = m0 + lB;
  storeRow(mA, nA, c00); storeRow(mA, nB, c01);
  storeRow(mA + 1u, nA, c10); storeRow(mA + 1u, nB, c11);
  storeRow(mA + 2u, nA, c20); storeRow(mA + 2u, nB, c21);
  storeRow(mA + 3u, nA, c30); storeRow(mA + 3u, nB, c31);
  storeRow(mB, nA, c40); storeRow(mB, nB, c41);
  storeRow(mB + 1u, nA, c50); storeRow(mB + 1u, nB, c51);
  storeRow(mB + 2u, nA, c60); storeRow(mB + 2u, nB, c61);
  storeRow(mB + 3u, nA, c70); storeRow(mB + 3u, nB, c71);
}
