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
// Each thread sums k = 0, 1, 2, … in order, whatever the tile sizes: results are bit-identical
// run to run and across tile choices (only split-K, below, changes the order, and it depends
// on the shape alone).
//
// Staging loads. Global reads should be coalesced (neighbouring threads read neighbouring
// addresses) and the workgroup stores free of bank conflicts:
//   - the operand's contiguous dim is the vec4 dim (TRANS_A; B without TRANS_B): neighbouring
//     threads take neighbouring vec4 slots of one k-row — a straight copy;
//   - the contiguous dim is k (A without TRANS_A; B with TRANS_B): neighbouring threads take
//     neighbouring k, so each of the 4 scalar reads of a vec4 is a contiguous run across
//     threads; the transposed stores then hit rows k, k+1, … whose stride is padded by one vec4
//     (SA, SB) so they land in different banks.
//
// Jobs: workgroup z walks jobs j = wid.z, wid.z + nwg.z, … (so counts above the 65535
// workgroups-per-dimension limit fold into a loop). Job j is batch b = j % batch over the K
// range of chunk s = j / batch. Without split-K (splits = 1) the one chunk is all of K and C is
// the output. With split-K (few output tiles, long K: e.g. weight gradients Xᵀ·dY over many
// tokens) each chunk writes a partial product to C = scratch[s][b][M][N], and
// matmul_splitk.wgsl sums the chunks in order s = 0, 1, … — deterministic, no atomics.
//
// Constraints (met by the host): WG_X·WG_Y ≤ the device's invocation limit; the workgroup
// storage TK · (TM/4 + 1 + TN/4 + 1) · 16 bytes within its limit (16.5 KiB for 128 × 128 at TK = 16).

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
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> As: array<vec4<f32>, TK * SA>; // As[k * SA + m/4][m % 4] = op(A)[m0 + m, k0 + k]
var<workgroup> Bs: array<vec4<f32>, TK * SB>; // Bs[k * SB + n/4][n % 4] = op(B)[k0 + k, n0 + n]

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

// Write 4 consecutive outputs of row m starting at column n, dropping those outside C.
fn storeRow(cBase: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  let row = cBase + m * p.N;
  if (n < p.N) { C[row + n] = v.x; }
  if (n + 1u < p.N) { C[row + n + 1u] = v.y; }
  if (n + 2u < p.N) { C[row + n + 2u] = v.z; }
  if (n + 3u < p.N) { C[row + n + 3u] = v.w; }
}

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
  let slotsA = TK * (TM / 4u); // vec4 slots per staged tile
  let slotsB = TK * (TN / 4u);

  for (var j = wid.z; j < p.batch * p.splits; j += nwg.z) {
    let b = j % p.batch;
    let split = j / p.batch;
    let aBase = b * p.strideA;
    let bBase = b * p.strideB;
    let kBegin = split * p.kChunk;
    let kEnd = min(p.K, kBegin + p.kChunk);
    // acc_r_c: rows (r < 4 ? ty·4 + r : TM/2 + ty·4 + r − 4), columns half c (0: tx·4.., 1: TN/2 + tx·4..).
    var acc00 = vec4<f32>(0.0); var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0); var acc11 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0); var acc21 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0); var acc31 = vec4<f32>(0.0);
    var acc40 = vec4<f32>(0.0); var acc41 = vec4<f32>(0.0);
    var acc50 = vec4<f32>(0.0); var acc51 = vec4<f32>(0.0);
    var acc60 = vec4<f32>(0.0); var acc61 = vec4<f32>(0.0);
    var acc70 = vec4<f32>(0.0); var acc71 = vec4<f32>(0.0);

    // Tiles never straddle a chunk end (kChunk is a multiple of TK); loads stop at K.
    for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
      // 1. Stage op(A)[m0 .. m0+TM, k0 .. k0+TK] into As (see "Staging loads" above).
      for (var s = lid; s < slotsA; s += NT) {
        var k: u32;
        var m4: u32;
        if (TRANS_A) { k = s / (TM / 4u); m4 = s % (TM / 4u); } // m contiguous in memory
        else { k = s % TK; m4 = s / TK; }                          // k contiguous in memory
        let m = m0 + m4 * 4u;
        let kk = k0 + k;
        As[k * SA + m4] = vec4<f32>(loadA(aBase, m, kk), loadA(aBase, m + 1u, kk),
                                    loadA(aBase, m + 2u, kk), loadA(aBase, m + 3u, kk));
      }
      // … and op(B)[k0 .. k0+TK, n0 .. n0+TN] into Bs.
      for (var s = lid; s < slotsB; s += NT) {
        var k: u32;
        var n4: u32;
        if (TRANS_B) { k = s % TK; n4 = s / TK; }                 // k contiguous in memory
        else { k = s / (TN / 4u); n4 = s % (TN / 4u); }           // n contiguous in memory
        let n = n0 + n4 * 4u;
        let kk = k0 + k;
        Bs[k * SB + n4] = vec4<f32>(loadB(bBase, kk, n), loadB(bBase, kk, n + 1u),
                                    loadB(bBase, kk, n + 2u), loadB(bBase, kk, n + 3u));
      }
      workgroupBarrier();

      // 2. TK rank-1 updates of this thread's 8×8 block, from workgroup memory only.
      for (var k = 0u; k < TK; k++) {
        let a0 = As[k * SA + ty];        // op(A)[ty·4 .. +3, k]
        let a1 = As[k * SA + WG_Y + ty]; // op(A)[TM/2 + ty·4 .. +3, k]
        let b0 = Bs[k * SB + tx];        // op(B)[k, tx·4 .. +3]
        let b1 = Bs[k * SB + WG_X + tx]; // op(B)[k, TN/2 + tx·4 .. +3]
        acc00 += a0.x * b0; acc01 += a0.x * b1;
        acc10 += a0.y * b0; acc11 += a0.y * b1;
        acc20 += a0.z * b0; acc21 += a0.z * b1;
        acc30 += a0.w * b0; acc31 += a0.w * b1;
        acc40 += a1.x * b0; acc41 += a1.x * b1;
        acc50 += a1.y * b0; acc51 += a1.y * b1;
        acc60 += a1.z * b0; acc61 += a1.z * b1;
        acc70 += a1.w * b0; acc71 += a1.w * b1;
      }
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
