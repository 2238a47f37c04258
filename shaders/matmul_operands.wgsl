// The I/O of one product of matmul.wgsl: its operands' bindings, the staging of its tiles into
// workgroup memory, its stores. A template: the host (matmul.ts `operandCode`) instantiates it
// once per product of a kernel, replacing `$` in every name with the product's suffix ('' in
// matmul_single.wgsl, '_1' and '_2' in matmul_multi.wgsl), `P$` with the product's uniform block,
// and `#0` … `#3` in the bindings with the product's binding numbers. A line ending in `// acc`
// is kept only for a product added to an earlier result (C = D + op(A)·op(B)); one ending in
// `// plain` only for one that is not. See matmul.wgsl for the tiling and the two load paths.
//
// SwiGLU variants (matmul.ts swigluLinear / swigluLinearBackward), each a pair of tags of which
// the host keeps one: `a-mem` / `a-swiglu` — op(A) read from A, or op(A) = silu(G)·U computed from
// G and U as the tile is staged (A not transposed); `b-mem` / `b-swiglu` the same for op(B) (B not
// transposed); `c-mem` / `c-swiglu` — C written as the k-sum (plus D), or the k-sum is the
// gradient dy of a SwiGLU output and the store writes the gate's backward, dg = dy·u·silu'(g) to C
// and du = dy·silu(g) to E, reading G and U at the output's index (no acc). The math is
// swiglu_math.wgsl's, the functions the elementwise kernels use, on the same values: the same
// bits as a swiglu kernel before (or a swigluBackward after) the plain product.

override TRANS_A$: bool = false;
override TRANS_B$: bool = false;

@group(0) @binding(#0) var<storage, read> A$: array<f32>; // a-mem
@group(0) @binding(#1) var<storage, read> B$: array<f32>; // b-mem
@group(0) @binding(#2) var<storage, read_write> C$: array<f32>;
@group(0) @binding(#0) var<storage, read> A4$: array<vec4<f32>>; // a-mem
@group(0) @binding(#1) var<storage, read> B4$: array<vec4<f32>>; // b-mem
@group(0) @binding(#2) var<storage, read_write> C4$: array<vec4<f32>>;
@group(0) @binding(#3) var<storage, read> D$: array<f32>; // acc
@group(0) @binding(#3) var<storage, read> D4$: array<vec4<f32>>; // acc
@group(0) @binding(#0) var<storage, read> AG$: array<f32>; // a-swiglu
@group(0) @binding(#0) var<storage, read> AG4$: array<vec4<f32>>; // a-swiglu
@group(0) @binding(#4) var<storage, read> AU$: array<f32>; // a-swiglu
@group(0) @binding(#4) var<storage, read> AU4$: array<vec4<f32>>; // a-swiglu
@group(0) @binding(#1) var<storage, read> BG$: array<f32>; // b-swiglu
@group(0) @binding(#1) var<storage, read> BG4$: array<vec4<f32>>; // b-swiglu
@group(0) @binding(#5) var<storage, read> BU$: array<f32>; // b-swiglu
@group(0) @binding(#5) var<storage, read> BU4$: array<vec4<f32>>; // b-swiglu
@group(0) @binding(#6) var<storage, read> CG$: array<f32>; // c-swiglu
@group(0) @binding(#6) var<storage, read> CG4$: array<vec4<f32>>; // c-swiglu
@group(0) @binding(#7) var<storage, read> CU$: array<f32>; // c-swiglu
@group(0) @binding(#7) var<storage, read> CU4$: array<vec4<f32>>; // c-swiglu
@group(0) @binding(#8) var<storage, read_write> CE$: array<f32>; // c-swiglu
@group(0) @binding(#8) var<storage, read_write> CE4$: array<vec4<f32>>; // c-swiglu

// Elements of the operands' storage (i: a flat index; j: a vec4 index), and the store of C's
// element i (or vec4 j) given its k-sum v.
fn aAt$(i: u32) -> f32 { return A$[i]; } // a-mem
fn aAt$(i: u32) -> f32 { return swiglu4(vec4<f32>(AG$[i]), vec4<f32>(AU$[i])).x; } // a-swiglu
fn aVec$(j: u32) -> vec4<f32> { return A4$[j]; } // a-mem
fn aVec$(j: u32) -> vec4<f32> { return swiglu4(AG4$[j], AU4$[j]); } // a-swiglu
fn bAt$(i: u32) -> f32 { return B$[i]; } // b-mem
fn bAt$(i: u32) -> f32 { return swiglu4(vec4<f32>(BG$[i]), vec4<f32>(BU$[i])).x; } // b-swiglu
fn bVec$(j: u32) -> vec4<f32> { return B4$[j]; } // b-mem
fn bVec$(j: u32) -> vec4<f32> { return swiglu4(BG4$[j], BU4$[j]); } // b-swiglu
fn put$(i: u32, v: f32) { C$[i] = epi$(i, v); } // c-mem
fn put$(i: u32, v: f32) { let r = swiglu_bwd4(vec4<f32>(CG$[i]), vec4<f32>(CU$[i]), vec4<f32>(v)); C$[i] = r[0].x; CE$[i] = r[1].x; } // c-swiglu
fn put4$(j: u32, v: vec4<f32>) { C4$[j] = epi4$(j, v); } // c-mem
fn put4$(j: u32, v: vec4<f32>) { let r = swiglu_bwd4(CG4$[j], CU4$[j], v); C4$[j] = r[0]; CE4$[j] = r[1]; } // c-swiglu

// What C holds at flat index i given the k-sum v: the sum, or the earlier result plus the sum
// (the add a separate elementwise kernel would do, on the same two values: the same bits).
fn epi$(i: u32, v: f32) -> f32 { return v; } // plain
fn epi$(i: u32, v: f32) -> f32 { return D$[i] + v; } // acc
fn epi4$(i: u32, v: vec4<f32>) -> vec4<f32> { return v; } // plain
fn epi4$(i: u32, v: vec4<f32>) -> vec4<f32> { return D4$[i] + v; } // acc

// ---------------------------------------------------------------- scalar path (any shape)

// op(A)[m, k] of the batch at aBase, 0 outside the matrix.
fn loadA$(aBase: u32, m: u32, k: u32) -> f32 {
  if (m >= P$.M || k >= P$.K) { return 0.0; }
  if (TRANS_A$) { return aAt$(aBase + k * P$.M + m); }
  return aAt$(aBase + m * P$.K + k);
}

// op(B)[k, n] of the batch at bBase, 0 outside the matrix.
fn loadB$(bBase: u32, k: u32, n: u32) -> f32 {
  if (k >= P$.K || n >= P$.N) { return 0.0; }
  if (TRANS_B$) { return bAt$(bBase + n * P$.K + k); }
  return bAt$(bBase + k * P$.N + n);
}

// Step 1 (scalar): stage op(A)[m0 .. m0+TM, k0 .. k0+TK] into As and op(B)[k0 .., n0 ..] into Bs.
fn stage_scalar$(lid: u32, aBase: u32, bBase: u32, m0: u32, n0: u32, k0: u32) {
  for (var s = lid; s < TK * (TM / 4u); s += NT) {
    var k: u32;
    var m4: u32;
    if (TRANS_A$) { k = s / (TM / 4u); m4 = s % (TM / 4u); } // m contiguous in memory
    else { k = s % TK; m4 = s / TK; }                          // k contiguous in memory
    let m = m0 + m4 * 4u;
    let kk = k0 + k;
    As[k * SA + m4] = tile(vec4<f32>(loadA$(aBase, m, kk), loadA$(aBase, m + 1u, kk),
                                     loadA$(aBase, m + 2u, kk), loadA$(aBase, m + 3u, kk)));
  }
  for (var s = lid; s < TK * (TN / 4u); s += NT) {
    var k: u32;
    var n4: u32;
    if (TRANS_B$) { k = s % TK; n4 = s / TK; }                 // k contiguous in memory
    else { k = s / (TN / 4u); n4 = s % (TN / 4u); }           // n contiguous in memory
    let n = n0 + n4 * 4u;
    let kk = k0 + k;
    Bs[k * SB + n4] = tile(vec4<f32>(loadB$(bBase, kk, n), loadB$(bBase, kk, n + 1u),
                                     loadB$(bBase, kk, n + 2u), loadB$(bBase, kk, n + 3u)));
  }
}

// Write 4 consecutive outputs of row m starting at column n, dropping those outside C.
fn storeRow$(cBase: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= P$.M) { return; }
  let row = cBase + m * P$.N;
  if (n < P$.N) { put$(row + n, v.x); }
  if (n + 1u < P$.N) { put$(row + n + 1u, v.y); }
  if (n + 2u < P$.N) { put$(row + n + 2u, v.z); }
  if (n + 3u < P$.N) { put$(row + n + 3u, v.w); }
}


// The vec4 of A (vec4 view) at element index i (a multiple of 4), or zeros when `ok` is false.
fn a4$(i: u32, ok: bool) -> vec4<f32> {
  if (!ok) { return vec4<f32>(0.0); }
  return aVec$(i / 4u);
}

fn b4$(i: u32, ok: bool) -> vec4<f32> {
  if (!ok) { return vec4<f32>(0.0); }
  return bVec$(i / 4u);
}

// ---------------------------------------------------------------- vec4 path (M, N, K % 4 = 0)

// Step 1 (vec4). Bounds: m, n, k0 + 4·k4 are multiples of 4 and so are M, N, K, so each vec4 is
// wholly inside or wholly outside the matrix.
fn stage_vec4$(lid: u32, aBase: u32, bBase: u32, m0: u32, n0: u32, k0: u32) {
  if (TRANS_A$) {
    // A [K, M]: one vec4 of 4 consecutive m per slot, straight into As.
    for (var s = lid; s < TK * (TM / 4u); s += NT) {
      let k = s / (TM / 4u);
      let m4 = s % (TM / 4u);
      let m = m0 + m4 * 4u;
      let kk = k0 + k;
      As[k * SA + m4] = tile(a4$(aBase + kk * P$.M + m, m < P$.M && kk < P$.K));
    }
  } else {
    // A [M, K]: a 4 × 4 block per slot (rows m .. m+3, k-quad k4), transposed into 4 k-rows.
    for (var s = lid; s < (TK / 4u) * (TM / 4u); s += NT) {
      let k4 = s % (TK / 4u);
      let m4 = s / (TK / 4u);
      let m = m0 + m4 * 4u;
      let kk = k0 + k4 * 4u;
      let okK = kk < P$.K;
      let r0 = a4$(aBase + m * P$.K + kk, okK && m < P$.M);
      let r1 = a4$(aBase + (m + 1u) * P$.K + kk, okK && m + 1u < P$.M);
      let r2 = a4$(aBase + (m + 2u) * P$.K + kk, okK && m + 2u < P$.M);
      let r3 = a4$(aBase + (m + 3u) * P$.K + kk, okK && m + 3u < P$.M);
      let row = k4 * 4u * SA + m4;
      As[row] = tile(vec4<f32>(r0.x, r1.x, r2.x, r3.x));
      As[row + SA] = tile(vec4<f32>(r0.y, r1.y, r2.y, r3.y));
      As[row + 2u * SA] = tile(vec4<f32>(r0.z, r1.z, r2.z, r3.z));
      As[row + 3u * SA] = tile(vec4<f32>(r0.w, r1.w, r2.w, r3.w));
    }
  }
  if (TRANS_B$) {
    // B [N, K]: 4 × 4 blocks (columns n .. n+3, k-quad k4), transposed into 4 k-rows.
    for (var s = lid; s < (TK / 4u) * (TN / 4u); s += NT) {
      let k4 = s % (TK / 4u);
      let n4 = s / (TK / 4u);
      let n = n0 + n4 * 4u;
      let kk = k0 + k4 * 4u;
      let okK = kk < P$.K;
      let c0 = b4$(bBase + n * P$.K + kk, okK && n < P$.N);
      let c1 = b4$(bBase + (n + 1u) * P$.K + kk, okK && n + 1u < P$.N);
      let c2 = b4$(bBase + (n + 2u) * P$.K + kk, okK && n + 2u < P$.N);
      let c3 = b4$(bBase + (n + 3u) * P$.K + kk, okK && n + 3u < P$.N);
      let row = k4 * 4u * SB + n4;
      Bs[row] = tile(vec4<f32>(c0.x, c1.x, c2.x, c3.x));
      Bs[row + SB] = tile(vec4<f32>(c0.y, c1.y, c2.y, c3.y));
      Bs[row + 2u * SB] = tile(vec4<f32>(c0.z, c1.z, c2.z, c3.z));
      Bs[row + 3u * SB] = tile(vec4<f32>(c0.w, c1.w, c2.w, c3.w));
    }
  } else {
    // B [K, N]: one vec4 of 4 consecutive n per slot.
    for (var s = lid; s < TK * (TN / 4u); s += NT) {
      let k = s / (TN / 4u);
      let n4 = s % (TN / 4u);
      let n = n0 + n4 * 4u;
      let kk = k0 + k;
      Bs[k * SB + n4] = tile(b4$(bBase + kk * P$.N + n, n < P$.N && kk < P$.K));
    }
  }
}

// Write the vec4 of outputs at row m, columns n .. n+3 (all in or all out: N % 4 = 0).
fn storeRow4$(cBase: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m < P$.M && n < P$.N) {
    let i = (cBase + m * P$.N + n) / 4u;
    put4$(i, v);
  }
}

// ---------------------------------------------------------------- one output tile

// The TM × TN tile of C at (m0, n0): the sum over k in [kBegin, kEnd) of the batch whose
// operands start at aBase / bBase, written at cBase. Scalar loads and stores (any shape).
fn tile_scalar$(lid: u32, tx: u32, ty: u32, m0: u32, n0: u32, aBase: u32, bBase: u32, cBase: u32,
               kBegin: u32, kEnd: u32) {
  zero_acc();
  // Tiles never straddle a chunk end (kChunk is a multiple of TK); loads stop at K.
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    stage_scalar$(lid, aBase, bBase, m0, n0, k0);
    workgroupBarrier();
    multiply_tile(tx, ty);
    workgroupBarrier();
  }
  let mA = m0 + ty * 4u;           // first row of the upper half
  let mB = m0 + TM / 2u + ty * 4u; // … of the lower half
  let nA = n0 + tx * 4u;
  let nB = n0 + TN / 2u + tx * 4u;
  storeRow$(cBase, mA, nA, acc00); storeRow$(cBase, mA, nB, acc01);
  storeRow$(cBase, mA + 1u, nA, acc10); storeRow$(cBase, mA + 1u, nB, acc11);
  storeRow$(cBase, mA + 2u, nA, acc20); storeRow$(cBase, mA + 2u, nB, acc21);
  storeRow$(cBase, mA + 3u, nA, acc30); storeRow$(cBase, mA + 3u, nB, acc31);
  storeRow$(cBase, mB, nA, acc40); storeRow$(cBase, mB, nB, acc41);
  storeRow$(cBase, mB + 1u, nA, acc50); storeRow$(cBase, mB + 1u, nB, acc51);
  storeRow$(cBase, mB + 2u, nA, acc60); storeRow$(cBase, mB + 2u, nB, acc61);
  storeRow$(cBase, mB + 3u, nA, acc70); storeRow$(cBase, mB + 3u, nB, acc71);
}

// The same tile on the vec4 path (M, N, K multiples of 4).
fn tile_vec4$(lid: u32, tx: u32, ty: u32, m0: u32, n0: u32, aBase: u32, bBase: u32, cBase: u32,
             kBegin: u32, kEnd: u32) {
  zero_acc();
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    stage_vec4$(lid, aBase, bBase, m0, n0, k0);
    workgroupBarrier();
    multiply_tile(tx, ty);
    workgroupBarrier();
  }
  let mA = m0 + ty * 4u;
  let mB = m0 + TM / 2u + ty * 4u;
  let nA = n0 + tx * 4u;
  let nB = n0 + TN / 2u + tx * 4u;
  storeRow4$(cBase, mA, nA, acc00); storeRow4$(cBase, mA, nB, acc01);
  storeRow4$(cBase, mA + 1u, nA, acc10); storeRow4$(cBase, mA + 1u, nB, acc11);
  storeRow4$(cBase, mA + 2u, nA, acc20); storeRow4$(cBase, mA + 2u, nB, acc21);
  storeRow4$(cBase, mA + 3u, nA, acc30); storeRow4$(cBase, mA + 3u, nB, acc31);
  storeRow4$(cBase, mB, nA, acc40); storeRow4$(cBase, mB, nB, acc41);
  storeRow4$(cBase, mB + 1u, nA, acc50); storeRow4$(cBase, mB + 1u, nB, acc51);
  storeRow4$(cBase, mB + 2u, nA, acc60); storeRow4$(cBase, mB + 2u, nB, acc61);
  storeRow4$(cBase, mB + 3u, nA, acc70); storeRow4$(cBase, mB + 3u, nB, acc71);
}
