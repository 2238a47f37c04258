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
// Jobs (matmul_single.wgsl): workgroup z walks jobs j = wid.z, wid.z + nwg.z, … (so counts above
// the 65535 workgroups-per-dimension limit fold into a loop). Job j is batch b = j % batch over
// the K range of chunk s = j / batch. Without split-K (splits = 1) the one chunk is all of K and C is
// the output. With split-K (few output tiles, long K: e.g. weight gradients Xᵀ·dY over many
// tokens) each chunk writes a partial product to C = scratch[s][b][M][N], and
// matmul_splitk.wgsl sums the chunks in order s = 0, 1, … — deterministic, no atomics.
//
// Files. This file holds what every product shares: the tile sizes, the workgroup tiles, the
// accumulators and the FMA loop. matmul_operands.wgsl is the I/O of one product (its bindings,
// staging and stores), a template the host instantiates once per product (matmul.ts
// `operandCode`: `$` in its names becomes the product's suffix, `P$` its uniform block). The
// entry points: matmul_single.wgsl (one product, batched, split-K) and matmul_multi.wgsl (one or
// two independent 2-D products in one dispatch, e.g. a linear's dX and dW, each optionally added
// to an earlier gradient: C = D + op(A)·op(B), the add after the k-sum, so the bits equal a
// separate add of the two).
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

override NT: u32 = WG_X * WG_Y; // threads per workgroup
override TM: u32 = 8u * WG_Y;   // tile rows (M)
override TN: u32 = 8u * WG_X;   // tile columns (N)
override SA: u32 = TM / 4u + 1u; // As row stride in vec4s (+1 pad: conflict-free transposed stores)
override SB: u32 = TN / 4u + 1u;

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
