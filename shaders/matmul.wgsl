// Tiled, register-blocked matmul:  C[b] = op(A[b]) · op(B[b])   (row-major, f32).
//
//   op(A) is M×K: A stored [M, K], or [K, M] with TRANS_A.
//   op(B) is K×N: B stored [K, N], or [N, K] with TRANS_B.   strideB = 0 broadcasts B over batches.
//
// Work split. A workgroup of WG_X × WG_Y threads owns one TM × TN tile of C (TM = 8·WG_Y,
// TN = 8·WG_X: 128 × 128 with 16 × 16 threads, 64 × 64 with 8 × 8). Each thread owns an 8 × 8
// block of it in sixteen vec4 accumulators: rows {ty·4 + i, TM/2 + ty·4 + i} × columns
// {tx·4 .. tx·4+3, TN/2 + tx·4 .. +3} (i = 0..3). Splitting a thread's rows and columns into two
// halves, rather than 8 adjacent ones, keeps neighbouring threads on neighbouring vec4s below.
//
// Per K-step of TK:
//   1. the workgroup copies a TK × TM slice of op(A) and a TK × TN slice of op(B) into workgroup
//      memory, both "k-major" (As[k][m], Bs[k][n]) as vec4s along m / n. Out-of-range elements
//      (ragged M, N, K) are written as 0, so these loads are the only bounds checks: the FMA loop
//      below runs unguarded, and the zero padding adds exact zeros to the sums.
//   2. barrier; every thread runs TK steps of a rank-1 update of its 8 × 8 block: two vec4s of A
//      (its 8 rows at k), two vec4s of B (its 8 columns at k), 64 FMAs — four workgroup loads
//      per 64 FMAs. The A loads are broadcasts (a row of threads shares them), the B loads are
//      consecutive vec4s across threads.
//   3. barrier, next K-step.
// Each thread sums k = 0, 1, 2, … in order, whatever the tile sizes and whichever entry point
// staged the tiles: results are bit-identical run to run, across tile choices and between the
// two entry points (only split-K, below, changes the order, and it depends on the shape alone).
//
// Two entry points share everything but how tiles travel between global and workgroup memory:
//
//   main       scalar global loads and stores, any shape. The operand's contiguous dim is the
//              vec4 dim (TRANS_A; B without TRANS_B): neighbouring threads take neighbouring
//              vec4 slots of one k-row — a straight copy. The contiguous dim is k (A without
//              TRANS_A; B with TRANS_B): neighbouring threads take neighbouring k, so each of the
//              4 scalar reads of a vec4 is a contiguous run across threads; the transposed
//              stores then hit rows k, k+1, … whose stride is padded by one vec4 (SA, SB) so
//              they land in different banks.
//   main_vec4  M, N and K multiples of 4 (the host checks): every row of A, B and C starts on a
//              16-byte boundary, so operands are read and C is written as vec4s — a quarter of
//              the memory instructions, 128-bit transactions. Where the vec4 dim is contiguous
//              (TRANS_A; B without TRANS_B) a slot is one vec4 load. Where k is contiguous, a
//              thread loads a 4 × 4 block — 4 rows (m or n) × 4 consecutive k, one vec4 per row,
//              neighbouring threads on neighbouring k-quads of a row — and transposes it in
//              registers into 4 k-rows of the tile. A vec4 is in range or out of it as a whole.
//   The two views of a binding (A / A4, …) share a binding number: allowed, since no entry point
//   uses both.
//
// Jobs: workgroup z walks jobs j = wid.z, wid.z + nwg.z, … (so counts above the 65535
// workgroups-per-dimension limit fold into a loop). Job j is batch b = j % batch over the K
// range of chunk s = j / batch. Without split-K (splits = 1) the one chunk is all of K and C is
// the output. With split-K (few output tiles, long K: e.g. weight gradients Xᵀ·dY over many
// tokens) each chunk writes a partial product to C = scratch[s][b][M][N], and
// matmul_splitk.wgsl sums the chunks in order s = 0, 1, … — deterministic, no atomics.
//
// Tile precision. The host prepends one line that names the element type of the workgroup tiles,
// `alias TILE = f32;` (the default path), or matmul_f16.wgsl (`TILE = f16`, where the device has
// shader-f16 and the backend asks for it): operands are rounded to f16 once, as they are staged
// (tile()), and widened back to f32 as multiply_tile reads them. The products of two f16 values
// are exact in f32 (11 + 11 significant bits ≤ 24) and the accumulators stay f32, so the f16
// path differs from the f32 one only by the rounding of its inputs to f16. With TILE = f32 both
// conversions are identities: the default path's bits do not change.
//
// Constraints (met by the host): WG_X·WG_Y ≤ the device's invocation limit; the workgroup
// storage TK · (TM/4 + 1 + TN/4 + 1) · 16 bytes within its limit (16.5 KiB for 128 × 128 at TK = 16;
// 8 bytes a vec4 with f16 tiles);
// TK a multiple of 4.

override WG_X: u32 = 16u;      // threads along N
override WG_Y: u32 = 16u;      // threads along M
override TK: u32 = 16u;        // K-tile depth
override TRANS_A: bool = false;
override TRANS_B: bool = false;

override NT: u32 = WG_X * WG_Y; // threads per workgroup
override TM: u32 = 8u * WG_Y;   // tile rows (M)
override TN: u32 = 8u * WG_X;   // tile columns (N)
override SA: u32 = TM / 4u + 1u; // As row stride in vec4s (+1 pad: conflict-free transposed stores)
override SB: u32 = TN / 4u + 1u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  strideA: u32, // elements between batches of A (M·K)
  strideB: u32, // K·N, or 0 when B is broadcast
  kChunk: u32,  // K range per split (a multiple of 32, so of TK); ≥ K when splits = 1
  splits: u32,  // number of K chunks
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(0) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C4: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> As: array<vec4<TILE>, TK * SA>; // As[k * SA + m/4][m % 4] = op(A)[m0 + m, k0 + k]
var<workgroup> Bs: array<vec4<TILE>, TK * SB>; // Bs[k * SB + n/4][n % 4] = op(B)[k0 + k, n0 + n]

// Four operands as a tile element (rounded to f16 on the f16 path; the identity on the f32 path).
fn tile(v: vec4<f32>) -> vec4<TILE> {
  return vec4<TILE>(v);
}

// The thread's 8 × 8 block of C. acc_r_c: rows (r < 4 ? ty·4 + r : TM/2 + ty·4 + r − 4),
// columns half c (0: tx·4.., 1: TN/2 + tx·4..). Per-invocation (private) like locals.
var<private> acc00: vec4<f32>; var<private> acc01: vec4<f32>;
var<private> acc10: vec4<f32>; var<private> acc11: vec4<f32>;
var<private> acc20: vec4<f32>; var<private> acc21: vec4<f32>;
var<private> acc30: vec4<f32>; var<private> acc31: vec4<f32>;
var<private> acc40: vec4<f32>; var<private> acc41: vec4<f32>;
var<private> acc50: vec4<f32>; var<private> acc51: vec4<f32>;
var<private> acc60: vec4<f32>; var<private> acc61: vec4<f32>;
var<private> acc70: vec4<f32>; var<private> acc71: vec4<f32>;

fn zero_acc() {
  acc00 = vec4<f32>(0.0); acc01 = vec4<f32>(0.0);
  acc10 = vec4<f32>(0.0); acc11 = vec4<f32>(0.0);
  acc20 = vec4<f32>(0.0); acc21 = vec4<f32>(0.0);
  acc30 = vec4<f32>(0.0); acc31 = vec4<f32>(0.0);
  acc40 = vec4<f32>(0.0); acc41 = vec4<f32>(0.0);
  acc50 = vec4<f32>(0.0); acc51 = vec4<f32>(0.0);
  acc60 = vec4<f32>(0.0); acc61 = vec4<f32>(0.0);
  acc70 = vec4<f32>(0.0); acc71 = vec4<f32>(0.0);
}

// Step 2: TK rank-1 updates of this thread's 8×8 block, from workgroup memory only.
fn multiply_tile(tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    let a0 = vec4<f32>(As[k * SA + ty]);        // op(A)[ty·4 .. +3, k]
    let a1 = vec4<f32>(As[k * SA + WG_Y + ty]); // op(A)[TM/2 + ty·4 .. +3, k]
    let b0 = vec4<f32>(Bs[k * SB + tx]);        // op(B)[k, tx·4 .. +3]
    let b1 = vec4<f32>(Bs[k * SB + WG_X + tx]); // op(B)[k, TN/2 + tx·4 .. +3]
    acc00 += a0.x * b0; acc01 += a0.x * b1;
    acc10 += a0.y * b0; acc11 += a0.y * b1;
    acc20 += a0.z * b0; acc21 += a0.z * b1;
    acc30 += a0.w * b0; acc31 += a0.w * b1;
    acc40 += a1.x * b0; acc41 += a1.x * b1;
    acc50 += a1.y * b0; acc51 += a1.y * b1;
    acc60 += a1.z * b0; acc61 += a1.z * b1;
    acc70 += a1.w * b0; acc71 += a1.w * b1;
  }
}

// ---------------------------------------------------------------- scalar path (any shape)

// op(A)[m, k] of the batch at aBase, 0 outside the matrix.
fn loadA(aBase: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[aBase + k * p.M + m]; }
  return A[aBase + m * p.K + k];
}

// op(B)[k, n] of the batch at bBase, 0 outside the matrix.
fn loadB(bBase: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return B[bBase + n * p.K + k]; }
  return B[bBase + k * p.N + n];
}

// Step 1 (scalar): stage op(A)[m0 .. m0+TM, k0 .. k0+TK] into As and op(B)[k0 .., n0 ..] into Bs.
fn stage_scalar(lid: u32, aBase: u32, bBase: u32, m0: u32, n0: u32, k0: u32) {
  for (var s = lid; s < TK * (TM / 4u); s += NT) {
    var k: u32;
    var m4: u32;
    if (TRANS_A) { k = s / (TM / 4u); m4 = s % (TM / 4u); } // m contiguous in memory
    else { k = s % TK; m4 = s / TK; }                          // k contiguous in memory
    let m = m0 + m4 * 4u;
    let kk = k0 + k;
    As[k * SA + m4] = tile(vec4<f32>(loadA(aBase, m, kk), loadA(aBase, m + 1u, kk),
                                     loadA(aBase, m + 2u, kk), loadA(aBase, m + 3u, kk)));
  }
  for (var s = lid; s < TK * (TN / 4u); s += NT) {
    var k: u32;
    var n4: u32;
    if (TRANS_B) { k = s % TK; n4 = s / TK; }                 // k contiguous in memory
    else { k = s / (TN / 4u); n4 = s % (TN / 4u); }           // n contiguous in memory
    let n = n0 + n4 * 4u;
    let kk = k0 + k;
    Bs[k * SB + n4] = tile(vec4<f32>(loadB(bBase, kk, n), loadB(bBase, kk, n + 1u),
                                     loadB(bBase, kk, n + 2u), loadB(bBase, kk, n + 3u)));
  }
}

// Write 4 consecutive outputs of row m starting at column n, dropping those outside C.
fn storeRow(cBase: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  let row = cBase + m * p.N;
  if (n < p.N) { C[row + n] = v.x; }
  if (n + 1u < p.N) { C[row + n + 1u] = v.y; }
  if (n + 2u < p.N) { C[row + n + 2u] = v.z; }
  if (n + 3u < p.N) { C[row + n + 3u] = v.w; }
}

// ---------------------------------------------------------------- vec4 path (M, N, K % 4 = 0)

// The vec4 of A (vec4 view) at element index i (a multiple of 4), or zeros when `ok` is false.
fn a4(i: u32, ok: bool) -> vec4<f32> {
  if (!ok) { return vec4<f32>(0.0); }
  return A4[i / 4u];
}

fn b4(i: u32, ok: bool) -> vec4<f32> {
  if (!ok) { return vec4<f32>(0.0); }
  return B4[i / 4u];
}

// Step 1 (vec4). Bounds: m, n, k0 + 4·k4 are multiples of 4 and so are M, N, K, so each vec4 is
// wholly inside or wholly outside the matrix.
fn stage_vec4(lid: u32, aBase: u32, bBase: u32, m0: u32, n0: u32, k0: u32) {
  if (TRANS_A) {
    // A [K, M]: one vec4 of 4 consecutive m per slot, straight into As.
    for (var s = lid; s < TK * (TM / 4u); s += NT) {
      let k = s / (TM / 4u);
      let m4 = s % (TM / 4u);
      let m = m0 + m4 * 4u;
      let kk = k0 + k;
      As[k * SA + m4] = tile(a4(aBase + kk * p.M + m, m < p.M && kk < p.K));
    }
  } else {
    // A [M, K]: a 4 × 4 block per slot (rows m .. m+3, k-quad k4), transposed into 4 k-rows.
    for (var s = lid; s < (TK / 4u) * (TM / 4u); s += NT) {
      let k4 = s % (TK / 4u);
      let m4 = s / (TK / 4u);
      let m = m0 + m4 * 4u;
      let kk = k0 + k4 * 4u;
      let okK = kk < p.K;
      let r0 = a4(aBase + m * p.K + kk, okK && m < p.M);
      let r1 = a4(aBase + (m + 1u) * p.K + kk, okK && m + 1u < p.M);
      let r2 = a4(aBase + (m + 2u) * p.K + kk, okK && m + 2u < p.M);
      let r3 = a4(aBase + (m + 3u) * p.K + kk, okK && m + 3u < p.M);
      let row = k4 * 4u * SA + m4;
      As[row] = tile(vec4<f32>(r0.x, r1.x, r2.x, r3.x));
      As[row + SA] = tile(vec4<f32>(r0.y, r1.y, r2.y, r3.y));
      As[row + 2u * SA] = tile(vec4<f32>(r0.z, r1.z, r2.z, r3.z));
      As[row + 3u * SA] = tile(vec4<f32>(r0.w, r1.w, r2.w, r3.w));
    }
  }
  if (TRANS_B) {
    // B [N, K]: 4 × 4 blocks (columns n .. n+3, k-quad k4), transposed into 4 k-rows.
    for (var s = lid; s < (TK / 4u) * (TN / 4u); s += NT) {
      let k4 = s % (TK / 4u);
      let n4 = s / (TK / 4u);
      let n = n0 + n4 * 4u;
      let kk = k0 + k4 * 4u;
      let okK = kk < p.K;
      let c0 = b4(bBase + n * p.K + kk, okK && n < p.N);
      let c1 = b4(bBase + (n + 1u) * p.K + kk, okK && n + 1u < p.N);
      let c2 = b4(bBase + (n + 2u) * p.K + kk, okK && n + 2u < p.N);
      let c3 = b4(bBase + (n + 3u) * p.K + kk, okK && n + 3u < p.N);
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
      Bs[k * SB + n4] = tile(b4(bBase + kk * p.N + n, n < p.N && kk < p.K));
    }
  }
}

// Write the vec4 of outputs at row m, columns n .. n+3 (all in or all out: N % 4 = 0).
fn storeRow4(cBase: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m < p.M && n < p.N) { C4[(cBase + m * p.N + n) / 4u] = v; }
}

// ---------------------------------------------------------------- entry points

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let tx = lid3.x;
  let ty = lid3.y;
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  for (var j = wid.z; j < p.batch * p.splits; j += nwg.z) {
    let b = j % p.batch;
    let kBegin = (j / p.batch) * p.kChunk;
    let kEnd = min(p.K, kBegin + p.kChunk);
    zero_acc();
    // Tiles never straddle a chunk end (kChunk is a multiple of TK); loads stop at K.
    for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
      stage_scalar(lid, b * p.strideA, b * p.strideB, m0, n0, k0);
      workgroupBarrier();
      multiply_tile(tx, ty);
      workgroupBarrier();
    }
    let cBase = j * p.M * p.N; // (split · batch + b) · M · N
    let mA = m0 + ty * 4u;           // first row of the upper half
    let mB = m0 + TM / 2u + ty * 4u; // … of the lower half
    let nA = n0 + tx * 4u;
    let nB = n0 + TN / 2u + tx * 4u;
    storeRow(cBase, mA, nA, acc00); storeRow(cBase, mA, nB, acc01);
    storeRow(cBase, mA + 1u, nA, acc10); storeRow(cBase, mA + 1u, nB, acc11);
    storeRow(cBase, mA + 2u, nA, acc20); storeRow(cBase, mA + 2u, nB, acc21);
    storeRow(cBase, mA + 3u, nA, acc30); storeRow(cBase, mA + 3u, nB, acc31);
    storeRow(cBase, mB, nA, acc40); storeRow(cBase, mB, nB, acc41);
    storeRow(cBase, mB + 1u, nA, acc50); storeRow(cBase, mB + 1u, nB, acc51);
    storeRow(cBase, mB + 2u, nA, acc60); storeRow(cBase, mB + 2u, nB, acc61);
    storeRow(cBase, mB + 3u, nA, acc70); storeRow(cBase, mB + 3u, nB, acc71);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main_vec4(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let tx = lid3.x;
  let ty = lid3.y;
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  for (var j = wid.z; j < p.batch * p.splits; j += nwg.z) {
    let b = j % p.batch;
    let kBegin = (j / p.batch) * p.kChunk;
    let kEnd = min(p.K, kBegin + p.kChunk);
    zero_acc();
    for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
      stage_vec4(lid, b * p.strideA, b * p.strideB, m0, n0, k0);
      workgroupBarrier();
      multiply_tile(tx, ty);
      workgroupBarrier();
    }
    let cBase = j * p.M * p.N;
    let mA = m0 + ty * 4u;
    let mB = m0 + TM / 2u + ty * 4u;
    let nA = n0 + tx * 4u;
    let nB = n0 + TN / 2u + tx * 4u;
    storeRow4(cBase, mA, nA, acc00); storeRow4(cBase, mA, nB, acc01);
    storeRow4(cBase, mA + 1u, nA, acc10); storeRow4(cBase, mA + 1u, nB, acc11);
    storeRow4(cBase, mA + 2u, nA, acc20); storeRow4(cBase, mA + 2u, nB, acc21);
    storeRow4(cBase, mA + 3u, nA, acc30); storeRow4(cBase, mA + 3u, nB, acc31);
    storeRow4(cBase, mB, nA, acc40); storeRow4(cBase, mB, nB, acc41);
    storeRow4(cBase, mB + 1u, nA, acc50); storeRow4(cBase, mB + 1u, nB, acc51);
    storeRow4(cBase, mB + 2u, nA, acc60); storeRow4(cBase, mB + 2u, nB, acc61);
    storeRow4(cBase, mB + 3u, nA, acc70); storeRow4(cBase, mB + 3u, nB, acc71);
  }
}
