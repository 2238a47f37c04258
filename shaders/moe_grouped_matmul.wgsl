// Grouped expert GEMMs over a MoE dispatch plan (engine/backend.ts, MoePlan). The M slots are
// sorted by expert: expert e owns rows [offsets[e], offsets[e+1]) of x / y / dy. The host never
// reads the per-expert counts (no readback inside a training step), so both grids below depend
// on M, E and the matrix sizes only; the kernels read `offsets` themselves.
//
// Entry `forward` — y[m, :] = x[m, :] · op(W_e), e = expert of row m:
//   x [M, a]; W [E, b, a] with TRANS_W (op(W_e) = W_eᵀ, the forward y = x·W_eᵀ of HF [out, in]
//   weights), or W [E, a, b] without (op(W_e) = W_e, the input-gradient direction). y [M, b].
//
//   Design: expert-aligned row tiles. Each expert's rows are cut into tiles of TM rows from its
//   first row (its last tile may be partial), and the row tiles of all experts are numbered in
//   expert order; workgroup (x, y) owns row tile y and columns [x·TN, x·TN + TN) of y. Invocation
//   0 finds its tile's expert and rows by a walk over the offsets (moe_grouped_fwd.wgsl
//   alignedTile), shared through workgroupUniformLoad; the workgroup runs the K-loop once with
//   that expert's weights, staging the tile's rows (rows past the expert's end load as 0), and
//   stores them. Each row of y is written by exactly one workgroup, with its sum over k = 0, 1, …
//   in order: results are bit-identical run to run and independent of the tile sizes. The host
//   cannot know the tile count without reading the counts back, so it launches ceil(M/TM) + E
//   row tiles, an upper bound; the workgroups past the last tile exit at once. Cost: each expert's
//   last tile is partial, so about M/TM + E/2 tiles of work for M/TM; the host picks TM from the
//   average segment length M/E to keep that small. (The tiles were global row tiles before, one
//   pass per expert segment inside a tile: a boundary inside a tile cost a whole extra pass,
//   about M/TM + E passes.) Idle (zero-token) experts own no tile.
//
// Entry `weight_grad` — dW_e = Σ_{m in segment e} dy[m, :]ᵀ · x[m, :]:
//   dy [M, b], x [M, a] → out [E, b, a] (zeros for idle experts: their K-loop is empty and the
//   zero accumulators are stored). A plain matmul op(A)·op(B) with op(A) = dy_segᵀ [b × rows],
//   op(B) = x_seg [rows × a], and K = the segment's rows. Workgroup (x, y, z) owns the b-tile y,
//   the a-tile x of expert e = z % E. Long segments and few output tiles (small experts) would
//   leave a GPU idle, so the host may split each segment into SPLITS chunks (z / E = chunk index;
//   the chunk length, ceil(count / SPLITS) rounded up to 32, is computed here from the count):
//   each chunk writes a partial product to scratch[s][e], and matmul_splitk.wgsl sums the chunks
//   in order s = 0, 1, … — deterministic. With splits = 1, out is the result.
//
// Both entries are the register-blocked tile of matmul.wgsl (see its header): WG_X × WG_Y threads,
// TM = 8·WG_Y rows × TN = 8·WG_X columns per workgroup, each thread an 8 × 8 block in sixteen
// vec4 accumulators (rows {ty·4 + i, TM/2 + ty·4 + i}, columns {tx·4 + j, TN/2 + tx·4 + j}); per
// K-step of TK the workgroup stages a TK × TM slice of op(A) and a TK × TN slice of op(B) into
// workgroup memory, k-major, with zeros outside the matrix and outside the segment, so the FMA
// loop runs unguarded (a forward tile with fewer than TM rows, an expert's last, stages only its
// own row quads, and a thread skips the FMAs of a row half holding none of them: fwd_tile$).
// Only the staging loads and the final stores are bounds-checked. The
// templates load quads (4 consecutive elements along the dimension contiguous in memory) through
// scalar views of the buffers (any shape) or vec4 views (widths multiples of 4: one load per
// quad); the host picks the path per dispatch (moe_dispatch.ts vec4Path), and both stage the same
// values, so they give the same bits.
//
// Files: this one holds what every product shares (the tile sizes, the workgroup tiles, the
// register block and its FMA loop). moe_grouped_fwd.wgsl (a forward-direction product) and
// moe_grouped_wgrad.wgsl (a weight-gradient product) are templates the host (moe_dispatch.ts)
// instantiates per product; moe_grouped_entries.wgsl has the entry points: `forward`,
// `weight_grad`, and `backward` — an input gradient (the forward direction with op(W_e) = W_e,
// optionally added to an earlier gradient) and the weight gradient of the same grouped product
// in ONE dispatch, each with the bits it has alone.
//
// Uniformity: segment bounds come from a storage buffer, so invocation 0 reads them into
// workgroup memory and everyone takes them through workgroupUniformLoad; loops containing
// barriers then have workgroup-uniform bounds.

override WG_X: u32 = 16u;   // threads along the output columns
override WG_Y: u32 = 16u;   // threads along the output rows
override TK: u32 = 16u;     // K-tile depth

override NT: u32 = WG_X * WG_Y;
override TM: u32 = 8u * WG_Y;
override TN: u32 = 8u * WG_X;
override SA: u32 = TM / 4u + 1u; // As row stride in vec4s (+1 pad: conflict-free transposed stores)
override SB: u32 = TN / 4u + 1u;

var<workgroup> As: array<vec4<f32>, TK * SA>; // As[k * SA + m/4][m % 4] = op(A)[m0 + m, k0 + k]
var<workgroup> Bs: array<vec4<f32>, TK * SB>; // Bs[k * SB + n/4][n % 4] = op(B)[k0 + k, n0 + n]
var<workgroup> seg: vec3<u32>;                 // the current pass, shared by invocation 0
var<workgroup> tileRows: array<u32, TM>;       // a gathered forward pass: x's row for each tile row
var<workgroup> kRows: array<u32, TK>;          // a gathered weight gradient's K-step: x's row for each k

// The 8 × 8 register block of one thread, and one rank-1 update of it from As/Bs row k.
struct Block {
  r00: vec4<f32>, r01: vec4<f32>, r10: vec4<f32>, r11: vec4<f32>,
  r20: vec4<f32>, r21: vec4<f32>, r30: vec4<f32>, r31: vec4<f32>,
  r40: vec4<f32>, r41: vec4<f32>, r50: vec4<f32>, r51: vec4<f32>,
  r60: vec4<f32>, r61: vec4<f32>, r70: vec4<f32>, r71: vec4<f32>,
}

fn zeroBlock() -> Block {
  let z = vec4<f32>(0.0);
  return Block(z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z);
}

// TK rank-1 updates of this thread's block from workgroup memory (k = 0 … TK-1 in order).
fn accumulate(acc: ptr<function, Block>, tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    let a0 = As[k * SA + ty];        // op(A)[ty·4 .. +3, k]
    let a1 = As[k * SA + WG_Y + ty]; // op(A)[TM/2 + ty·4 .. +3, k]
    let b0 = Bs[k * SB + tx];        // op(B)[k, tx·4 .. +3]
    let b1 = Bs[k * SB + WG_X + tx]; // op(B)[k, TN/2 + tx·4 .. +3]
    (*acc).r00 += a0.x * b0; (*acc).r01 += a0.x * b1;
    (*acc).r10 += a0.y * b0; (*acc).r11 += a0.y * b1;
    (*acc).r20 += a0.z * b0; (*acc).r21 += a0.z * b1;
    (*acc).r30 += a0.w * b0; (*acc).r31 += a0.w * b1;
    (*acc).r40 += a1.x * b0; (*acc).r41 += a1.x * b1;
    (*acc).r50 += a1.y * b0; (*acc).r51 += a1.y * b1;
    (*acc).r60 += a1.z * b0; (*acc).r61 += a1.z * b1;
    (*acc).r70 += a1.w * b0; (*acc).r71 += a1.w * b1;
  }
}

// accumulate() for the thread's upper-half rows only (op(A) rows ty·4 … ty·4 + 3): in an
// expert's last, partial forward tile, a thread whose lower-half rows lie past the tile's end
// leaves their accumulators alone (they are never stored).
fn accumulateUpper(acc: ptr<function, Block>, tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    let a0 = As[k * SA + ty];
    let b0 = Bs[k * SB + tx];
    let b1 = Bs[k * SB + WG_X + tx];
    (*acc).r00 += a0.x * b0; (*acc).r01 += a0.x * b1;
    (*acc).r10 += a0.y * b0; (*acc).r11 += a0.y * b1;
    (*acc).r20 += a0.z * b0; (*acc).r21 += a0.z * b1;
    (*acc).r30 += a0.w * b0; (*acc).r31 += a0.w * b1;
  }
}
