// Grouped expert GEMMs over a MoE dispatch plan (engine/backend.ts, MoePlan). The M slots are
// sorted by expert: expert e owns rows [offsets[e], offsets[e+1]) of x / y / dy. The host never
// reads the per-expert counts (no readback inside a training step), so both grids below depend
// on M, E and the matrix sizes only; the kernels read `offsets` themselves.
//
// Entry `forward` — y[m, :] = x[m, :] · op(W_e), e = expert of row m:
//   x [M, a]; W [E, b, a] with TRANS_W (op(W_e) = W_eᵀ, the forward y = x·W_eᵀ of HF [out, in]
//   weights), or W [E, a, b] without (op(W_e) = W_e, the input-gradient direction). y [M, b].
//
//   Design: global row tiles. The grid is the tile grid of a plain [M, a]·[a, b] product — a
//   workgroup owns rows [m0, m0+TM) and columns [n0, n0+TN) of y, whatever the experts. A row tile
//   can straddle expert segments, so the workgroup makes one pass per expert segment that
//   intersects its rows: it finds the expert of its next unfinished row r (binary search over
//   offsets), runs the full K-loop with that expert's weights while staging only the rows of the
//   segment (others load as 0), stores those rows, and continues from the segment's end. Each row
//   of y is therefore written by exactly one pass, with its sum over k = 0, 1, … in order: results
//   are bit-identical run to run and independent of the tile sizes. Idle (zero-token) experts own
//   no rows and are never visited. Cost: one extra pass per segment boundary inside a tile, so
//   about (M/TM + E) tile passes for M/TM tiles; the host picks TM from the average segment length
//   M/E to keep that overhead small. No workgroup idles (a per-expert grid sized for the worst
//   case would launch E× the tiles, nearly all of which exit at once).
//
// Entry `weight_grad` — dW_e = Σ_{m in segment e} dy[m, :]ᵀ · x[m, :]:
//   dy [M, b], x [M, a] → out [E, b, a] (zeros for idle experts: their K-loop is empty and the
//   zero accumulators are stored). A plain matmul op(A)·op(B) with op(A) = dy_segᵀ [b × rows],
//   op(B) = x_seg [rows × a], and K = the segment's rows. Workgroup (x, y, z) owns the b-tile y,
//   the a-tile x of expert e = z % E. Long segments and few output tiles (small experts) would
//   leave a GPU idle, so the host may split each segment into SPLITS chunks (z / E = chunk index;
//   the chunk length, ceil(count / SPLITS) rounded up to TK, is computed here from the count):
//   each chunk writes a partial product to scratch[s][e], and matmul_splitk.wgsl sums the chunks
//   in order s = 0, 1, … — deterministic. With splits = 1, out is the result.
//
// Both entries are the register-blocked tile of matmul.wgsl (see its header): WG_X × WG_Y threads,
// TM = 8·WG_Y rows × TN = 8·WG_X columns per workgroup, each thread an 8 × 8 block in sixteen
// vec4 accumulators (rows {ty·4 + i, TM/2 + ty·4 + i}, columns {tx·4 + j, TN/2 + tx·4 + j}); per
// K-step of TK the workgroup stages a TK × TM slice of op(A) and a TK × TN slice of op(B) into
// workgroup memory, k-major, with zeros outside the matrix and outside the segment, so the FMA
// loop runs unguarded. Only the staging loads and the final stores are bounds-checked.
//
// Uniformity: segment bounds come from a storage buffer, so invocation 0 reads them into
// workgroup memory and everyone takes them through workgroupUniformLoad; loops containing
// barriers then have workgroup-uniform bounds.

override WG_X: u32 = 16u;   // threads along the output columns
override WG_Y: u32 = 16u;   // threads along the output rows
override TK: u32 = 16u;     // K-tile depth
override TRANS_W: bool = true;

override NT: u32 = WG_X * WG_Y;
override TM: u32 = 8u * WG_Y;
override TN: u32 = 8u * WG_X;
override SA: u32 = TM / 4u + 1u; // As row stride in vec4s (+1 pad: conflict-free transposed stores)
override SB: u32 = TN / 4u + 1u;

var<workgroup> As: array<vec4<f32>, TK * SA>; // As[k * SA + m/4][m % 4] = op(A)[m0 + m, k0 + k]
var<workgroup> Bs: array<vec4<f32>, TK * SB>; // Bs[k * SB + n/4][n % 4] = op(B)[k0 + k, n0 + n]
var<workgroup> seg: vec3<u32>;                 // the current pass, shared by invocation 0

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

// =====================================================================================
// forward: y = x · op(W_e) per segment
// =====================================================================================

struct FwdParams {
  M: u32,  // rows (slots)
  N: u32,  // b, output columns
  K: u32,  // a, input columns
  E: u32,  // experts
}

@group(0) @binding(0) var<storage, read> f_x: array<f32>;
@group(0) @binding(1) var<storage, read> f_w: array<f32>;
@group(0) @binding(2) var<storage, read> f_offsets: array<i32>;
@group(0) @binding(3) var<storage, read_write> f_y: array<f32>;
@group(0) @binding(4) var<uniform> fp: FwdParams;

// The expert that owns row r (< M): the first e with offsets[e+1] > r. Skips idle experts.
fn expertOfRow(r: u32) -> u32 {
  var lo = 0u;
  var hi = fp.E - 1u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (u32(f_offsets[mid + 1u]) > r) { hi = mid; } else { lo = mid + 1u; }
  }
  return lo;
}

// x[m, k] if row m is in the pass's segment [lo, hi) and k < K, else 0.
fn loadX(m: u32, k: u32, lo: u32, hi: u32) -> f32 {
  if (m < lo || m >= hi || k >= fp.K) { return 0.0; }
  return f_x[m * fp.K + k];
}

// op(W_e)[k, n], 0 outside.
fn loadW(wBase: u32, k: u32, n: u32) -> f32 {
  if (k >= fp.K || n >= fp.N) { return 0.0; }
  if (TRANS_W) { return f_w[wBase + n * fp.K + k]; }
  return f_w[wBase + k * fp.N + n];
}

// Write 4 outputs of row m from column n, if m is in [lo, hi) (hi ≤ M); columns past N dropped.
fn storeY(m: u32, n: u32, lo: u32, hi: u32, v: vec4<f32>) {
  if (m < lo || m >= hi) { return; }
  let row = m * fp.N;
  if (n < fp.N) { f_y[row + n] = v.x; }
  if (n + 1u < fp.N) { f_y[row + n + 1u] = v.y; }
  if (n + 2u < fp.N) { f_y[row + n + 2u] = v.z; }
  if (n + 3u < fp.N) { f_y[row + n + 3u] = v.w; }
}

@compute @workgroup_size(WG_X, WG_Y)
fn forward(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  let tx = lid3.x;
  let ty = lid3.y;
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let rEnd = min(m0 + TM, fp.M);
  let slotsA = TK * (TM / 4u);
  let slotsB = TK * (TN / 4u);
  let mA = m0 + ty * 4u;           // first row of the thread's upper half
  let mB = m0 + TM / 2u + ty * 4u; // … of its lower half
  let nA = n0 + tx * 4u;
  let nB = n0 + TN / 2u + tx * 4u;

  var r = m0; // first row of this tile not yet written
  while (r < rEnd) {
    // The segment of the expert that owns row r, clipped to this tile: rows [lo, hi).
    if (lid == 0u) {
      let e = expertOfRow(r);
      seg = vec3<u32>(e, r, min(u32(f_offsets[e + 1u]), rEnd));
    }
    let s = workgroupUniformLoad(&seg);
    let lo = s.y;
    let hi = s.z;
    let wBase = s.x * fp.N * fp.K;

    var acc = zeroBlock();
    for (var k0 = 0u; k0 < fp.K; k0 += TK) {
      // Stage x[m0 .. m0+TM, k0 .. k0+TK] (k contiguous in memory: neighbouring threads take
      // neighbouring k; rows outside the segment are zeros) …
      for (var t = lid; t < slotsA; t += NT) {
        let k = t % TK;
        let m4 = t / TK;
        let m = m0 + m4 * 4u;
        let kk = k0 + k;
        As[k * SA + m4] = vec4<f32>(loadX(m, kk, lo, hi), loadX(m + 1u, kk, lo, hi),
                                    loadX(m + 2u, kk, lo, hi), loadX(m + 3u, kk, lo, hi));
      }
      // … and op(W_e)[k0 .. k0+TK, n0 .. n0+TN].
      for (var t = lid; t < slotsB; t += NT) {
        var k: u32;
        var n4: u32;
        if (TRANS_W) { k = t % TK; n4 = t / TK; }         // k contiguous in memory
        else { k = t / (TN / 4u); n4 = t % (TN / 4u); }   // n contiguous in memory
        let n = n0 + n4 * 4u;
        let kk = k0 + k;
        Bs[k * SB + n4] = vec4<f32>(loadW(wBase, kk, n), loadW(wBase, kk, n + 1u),
                                    loadW(wBase, kk, n + 2u), loadW(wBase, kk, n + 3u));
      }
      workgroupBarrier();
      accumulate(&acc, tx, ty);
      workgroupBarrier();
    }

    storeY(mA, nA, lo, hi, acc.r00); storeY(mA, nB, lo, hi, acc.r01);
    storeY(mA + 1u, nA, lo, hi, acc.r10); storeY(mA + 1u, nB, lo, hi, acc.r11);
    storeY(mA + 2u, nA, lo, hi, acc.r20); storeY(mA + 2u, nB, lo, hi, acc.r21);
    storeY(mA + 3u, nA, lo, hi, acc.r30); storeY(mA + 3u, nB, lo, hi, acc.r31);
    storeY(mB, nA, lo, hi, acc.r40); storeY(mB, nB, lo, hi, acc.r41);
    storeY(mB + 1u, nA, lo, hi, acc.r50); storeY(mB + 1u, nB, lo, hi, acc.r51);
    storeY(mB + 2u, nA, lo, hi, acc.r60); storeY(mB + 2u, nB, lo, hi, acc.r61);
    storeY(mB + 3u, nA, lo, hi, acc.r70); storeY(mB + 3u, nB, lo, hi, acc.r71);
    r = hi;
    // Everyone has read `seg` before invocation 0 overwrites it (the K-loop has no barrier when K = 0).
    workgroupBarrier();
  }
}

// =====================================================================================
// weight_grad: dW_e = Σ_{m in segment e} dy[m]ᵀ · x[m]
// =====================================================================================

struct WgParams {
  M: u32,      // rows (slots)
  B: u32,      // b: dy columns = output rows
  A: u32,      // a: x columns = output columns
  E: u32,      // experts
  splits: u32, // chunks per segment (1: write the result directly)
}

@group(0) @binding(0) var<storage, read> g_dy: array<f32>;
@group(0) @binding(1) var<storage, read> g_x: array<f32>;
@group(0) @binding(2) var<storage, read> g_offsets: array<i32>;
@group(0) @binding(3) var<storage, read_write> g_out: array<f32>;
@group(0) @binding(4) var<uniform> gp: WgParams;

// dy[row, j] (row < hi, j < B), else 0.
fn loadDy(row: u32, j: u32, hi: u32) -> f32 {
  if (row >= hi || j >= gp.B) { return 0.0; }
  return g_dy[row * gp.B + j];
}

// x[row, i] (row < hi, i < A), else 0.
fn loadXg(row: u32, i: u32, hi: u32) -> f32 {
  if (row >= hi || i >= gp.A) { return 0.0; }
  return g_x[row * gp.A + i];
}

// Write 4 outputs of row j from column i, dropping those outside [B, A].
fn storeG(base: u32, j: u32, i: u32, v: vec4<f32>) {
  if (j >= gp.B) { return; }
  let row = base + j * gp.A;
  if (i < gp.A) { g_out[row + i] = v.x; }
  if (i + 1u < gp.A) { g_out[row + i + 1u] = v.y; }
  if (i + 2u < gp.A) { g_out[row + i + 2u] = v.z; }
  if (i + 3u < gp.A) { g_out[row + i + 3u] = v.w; }
}

@compute @workgroup_size(WG_X, WG_Y)
fn weight_grad(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  let tx = lid3.x;
  let ty = lid3.y;
  let j0 = wid.y * TM; // output rows: columns of dy
  let i0 = wid.x * TN; // output columns: columns of x
  let e = wid.z % gp.E;
  let split = wid.z / gp.E;
  let slotsA = TK * (TM / 4u);
  let slotsB = TK * (TN / 4u);

  // This job's rows [lo, hi): chunk `split` of expert e's segment.
  if (lid == 0u) {
    let segLo = u32(g_offsets[e]);
    let segHi = u32(g_offsets[e + 1u]);
    let chunk = ((segHi - segLo + gp.splits - 1u) / gp.splits + TK - 1u) / TK * TK;
    let lo = min(segHi, segLo + split * chunk);
    seg = vec3<u32>(lo, min(segHi, lo + chunk), 0u);
  }
  let s = workgroupUniformLoad(&seg);
  let lo = s.x;
  let hi = s.y;

  var acc = zeroBlock();
  for (var k0 = lo; k0 < hi; k0 += TK) {
    // op(A)[j, k] = dy[k0 + k, j0 + j]: j is contiguous in memory, a straight vec4 copy.
    for (var t = lid; t < slotsA; t += NT) {
      let k = t / (TM / 4u);
      let j4 = t % (TM / 4u);
      let row = k0 + k;
      let j = j0 + j4 * 4u;
      As[k * SA + j4] = vec4<f32>(loadDy(row, j, hi), loadDy(row, j + 1u, hi),
                                  loadDy(row, j + 2u, hi), loadDy(row, j + 3u, hi));
    }
    // op(B)[k, i] = x[k0 + k, i0 + i]: i contiguous, likewise.
    for (var t = lid; t < slotsB; t += NT) {
      let k = t / (TN / 4u);
      let i4 = t % (TN / 4u);
      let row = k0 + k;
      let i = i0 + i4 * 4u;
      Bs[k * SB + i4] = vec4<f32>(loadXg(row, i, hi), loadXg(row, i + 1u, hi),
                                  loadXg(row, i + 2u, hi), loadXg(row, i + 3u, hi));
    }
    workgroupBarrier();
    accumulate(&acc, tx, ty);
    workgroupBarrier();
  }

  // out[split][e] (scratch layout [splits, E, B, A]; with splits = 1 it is the result [E, B, A]).
  let base = wid.z * gp.B * gp.A; // wid.z = split · E + e
  let jA = j0 + ty * 4u;
  let jB = j0 + TM / 2u + ty * 4u;
  let iA = i0 + tx * 4u;
  let iB = i0 + TN / 2u + tx * 4u;
  storeG(base, jA, iA, acc.r00); storeG(base, jA, iB, acc.r01);
  storeG(base, jA + 1u, iA, acc.r10); storeG(base, jA + 1u, iB, acc.r11);
  storeG(base, jA + 2u, iA, acc.r20); storeG(base, jA + 2u, iB, acc.r21);
  storeG(base, jA + 3u, iA, acc.r30); storeG(base, jA + 3u, iB, acc.r31);
  storeG(base, jB, iA, acc.r40); storeG(base, jB, iB, acc.r41);
  storeG(base, jB + 1u, iA, acc.r50); storeG(base, jB + 1u, iB, acc.r51);
  storeG(base, jB + 2u, iA, acc.r60); storeG(base, jB + 2u, iB, acc.r61);
  storeG(base, jB + 3u, iA, acc.r70); storeG(base, jB + 3u, iB, acc.r71);
}
