// Tiled, register-blocked matmul:  C[b] = op(A[b]) · op(B[b])   (row-major, f32).
//
//   op(A) is M×K: A stored [M, K], or [K, M] with TRANS_A.
//   op(B) is K×N: B stored [K, N], or [N, K] with TRANS_B.   strideB = 0 broadcasts B over batches.
//
// Work split. A workgroup of WG_X × WG_Y threads owns one TM × TN tile of C (TM = 4·WG_Y,
// TN = 4·WG_X; 64 × 64 with the default 16 × 16 threads). Each thread owns a 4 × 4 block of it,
// held in four vec4 accumulators (rows ty·4 .. ty·4+3, columns tx·4 .. tx·4+3).
//
// Per K-step of TK:
//   1. the workgroup copies a TK × TM slice of op(A) and a TK × TN slice of op(B) into workgroup
//      memory, both "k-major" (As[k][m], Bs[k][n]) as vec4s along m / n. Out-of-range elements
//      (ragged M, N, K) are written as 0, so these loads are the only bounds checks: the FMA loop
//      below runs unguarded, and the zero padding adds exact zeros to the sums.
//   2. barrier; every thread runs TK steps of a rank-1 update: one vec4 of A (its 4 rows at k),
//      one vec4 of B (its 4 columns at k), 16 FMAs. Two workgroup loads per 16 FMAs; the A load is
//      a broadcast (all threads of a row share it), the B loads are consecutive vec4s.
//   3. barrier, next K-step.
// Each thread sums k = 0, 1, 2, … in order, whatever the tile sizes: results are bit-identical
// run to run and across TK choices.
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
// Constraints (checked by the host): WG_X·WG_Y ≤ the device's invocation limit;
// 2 · TK · (TM/4 + 1) · 16 bytes ≤ its workgroup storage (8.5 KiB at TK = 16, 17 KiB at TK = 32).

override WG_X: u32 = 16u;      // threads along N
override WG_Y: u32 = 16u;      // threads along M
override TK: u32 = 16u;        // K-tile depth
override TRANS_A: bool = false;
override TRANS_B: bool = false;

override NT: u32 = WG_X * WG_Y; // threads per workgroup
override TM: u32 = 4u * WG_Y;   // tile rows (M)
override TN: u32 = 4u * WG_X;   // tile columns (N)
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
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

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

      // 2. TK rank-1 updates of this thread's 4×4 block, from workgroup memory only.
      for (var k = 0u; k < TK; k++) {
        let a = As[k * SA + ty]; // op(A)[rows ty*4 .. ty*4+3, k]
        let bv = Bs[k * SB + tx]; // op(B)[k, cols tx*4 .. tx*4+3]
        acc0 += a.x * bv;
        acc1 += a.y * bv;
        acc2 += a.z * bv;
        acc3 += a.w * bv;
      }
      workgroupBarrier();
    }

    let cBase = j * p.M * p.N; // (split · batch + b) · M · N
    let m = m0 + ty * 4u;
    let n = n0 + tx * 4u;
    storeRow(cBase, m, n, acc0);
    storeRow(cBase, m + 1u, n, acc1);
    storeRow(cBase, m + 2u, n, acc2);
    storeRow(cBase, m + 3u, n, acc3);
  }
}
