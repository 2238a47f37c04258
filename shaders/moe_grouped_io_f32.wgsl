// I/O part of moe_grouped_matmul.wgsl, scalar view (any shape): the x / w / y and dy / x / out
// bindings as f32 arrays, the tile staging of both entries and their stores. Every element is
// bounds-checked on its own. moe_dispatch.ts appends this file, or moe_grouped_io_vec4.wgsl
// (same functions, 16-byte loads and stores) where every row length is a multiple of 4.

@group(0) @binding(0) var<storage, read> f_x: array<f32>;
@group(0) @binding(1) var<storage, read> f_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> f_y: array<f32>;
@group(0) @binding(0) var<storage, read> g_dy: array<f32>;
@group(0) @binding(1) var<storage, read> g_x: array<f32>;
@group(0) @binding(3) var<storage, read_write> g_out: array<f32>;

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

// forward: stage x[m0 .. m0+TM, k0 .. k0+TK] (rows outside the segment [lo, hi) are zeros) and
// op(W_e)[k0 .. k0+TK, n0 .. n0+TN] into As / Bs.
fn stageForward(lid: u32, m0: u32, n0: u32, k0: u32, lo: u32, hi: u32, wBase: u32) {
  // k is contiguous in memory: neighbouring threads take neighbouring k.
  for (var t = lid; t < TK * (TM / 4u); t += NT) {
    let k = t % TK;
    let m4 = t / TK;
    let m = m0 + m4 * 4u;
    let kk = k0 + k;
    As[k * SA + m4] = vec4<f32>(loadX(m, kk, lo, hi), loadX(m + 1u, kk, lo, hi),
                                loadX(m + 2u, kk, lo, hi), loadX(m + 3u, kk, lo, hi));
  }
  for (var t = lid; t < TK * (TN / 4u); t += NT) {
    var k: u32;
    var n4: u32;
    if (TRANS_W) { k = t % TK; n4 = t / TK; }         // k contiguous in memory
    else { k = t / (TN / 4u); n4 = t % (TN / 4u); }   // n contiguous in memory
    let n = n0 + n4 * 4u;
    let kk = k0 + k;
    Bs[k * SB + n4] = vec4<f32>(loadW(wBase, kk, n), loadW(wBase, kk, n + 1u),
                                loadW(wBase, kk, n + 2u), loadW(wBase, kk, n + 3u));
  }
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

// weight_grad: stage op(A)[j, k] = dy[k0 + k, j0 + j] and op(B)[k, i] = x[k0 + k, i0 + i] (j and
// i are contiguous in memory; rows from hi on are zeros).
fn stageWeightGrad(lid: u32, j0: u32, i0: u32, k0: u32, hi: u32) {
  for (var t = lid; t < TK * (TM / 4u); t += NT) {
    let k = t / (TM / 4u);
    let j4 = t % (TM / 4u);
    let row = k0 + k;
    let j = j0 + j4 * 4u;
    As[k * SA + j4] = vec4<f32>(loadDy(row, j, hi), loadDy(row, j + 1u, hi),
                                loadDy(row, j + 2u, hi), loadDy(row, j + 3u, hi));
  }
  for (var t = lid; t < TK * (TN / 4u); t += NT) {
    let k = t / (TN / 4u);
    let i4 = t % (TN / 4u);
    let row = k0 + k;
    let i = i0 + i4 * 4u;
    Bs[k * SB + i4] = vec4<f32>(loadXg(row, i, hi), loadXg(row, i + 1u, hi),
                                loadXg(row, i + 2u, hi), loadXg(row, i + 3u, hi));
  }
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
