// RMSNorm over the last dim of x [N, D] with a weight w [D].
//
//   forward   rstd[n] = 1/sqrt(mean_j x[n,j]² + eps);   y[n,j] = x[n,j]·rstd[n]·w[j]
//   backward  s[n] = Σ_j w[j]·dy[n,j]·x[n,j]
//             dx[n,j] = rstd[n]·w[j]·dy[n,j] − x[n,j]·rstd[n]³·s[n]/D
//             dw[j]   = Σ_n dy[n,j]·x[n,j]·rstd[n]
//
// Entry points:
//   add_rmsnorm_fwd  the residual add fused into the norm: s = a + b is written out and normed in
//                    the same pass (one dispatch and one read of the row instead of two of each);
//                    the same per-thread sums, tree and products as rmsnorm_fwd on s.
//   rmsnorm_fwd      one workgroup per row. WG threads stride the row (thread l takes columns
//                    l, l+WG, …: neighbouring threads read neighbouring addresses), each keeps a
//                    private sum, then a fixed-shape tree in workgroup memory combines the WG
//                    partial sums. Same D → same tree → bit-identical results run to run.
//   rmsnorm_bwd_dx   the same row layout for the backward: reduce s[n], then write dx.
//   rmsnorm_dw_part  dw is a column sum over N. No atomics: the rows are cut into fixed chunks of
//                    chunk_rows rows (a function of N only); invocation (chunk c, column j) sums its chunk in increasing n and
//                    writes partial[c, j]. Threads of a workgroup take COLS adjacent columns, so
//                    each row read is coalesced.
//   rmsnorm_dw_sum   dw[j] = Σ_c partial[c, j] in increasing c (skipped when there is one chunk:
//                    then rmsnorm_dw_part writes dw directly).
// Row kernels fold the row index into 2-D grids (row = wid.x + wid.y·nwg.x) for N > 65535.

override WG: u32 = 256;    // threads per row (power of two)
override COLS: u32 = 64;   // columns per workgroup in the dw passes

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  chunks: u32,      // dw passes: number of row chunks
  chunk_rows: u32,  // dw passes: rows per chunk
}

var<workgroup> red: array<f32, WG>;

// Sum of v over the workgroup, by a fixed binary tree. Must be called in uniform control flow.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  return red[0];
}

// ---- forward ----
@group(0) @binding(0) var<storage, read> f_x: array<f32>;
@group(0) @binding(1) var<storage, read> f_w: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_y: array<f32>;
@group(0) @binding(3) var<storage, read_write> f_rstd: array<f32>;
@group(0) @binding(4) var<uniform> f_p: Params;

@compute @workgroup_size(WG)
fn rmsnorm_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;  // workgroup-uniform, so returning early keeps barriers uniform
  if (row >= f_p.rows) {
    return;
  }
  let D = f_p.cols;
  let base = row * D;
  var acc = 0.0;
  for (var j = lid; j < D; j += WG) {
    let v = f_x[base + j];
    acc += v * v;
  }
  let r = 1.0 / sqrt(workgroup_sum(lid, acc) / f32(D) + f_p.eps);
  if (lid == 0u) {
    f_rstd[row] = r;
  }
  for (var j = lid; j < D; j += WG) {
    f_y[base + j] = f_x[base + j] * r * f_w[j];
  }
}

// ---- forward, fused with the residual add before it ----
@group(0) @binding(0) var<storage, read> a_a: array<f32>;
@group(0) @binding(1) var<storage, read> a_b: array<f32>;
@group(0) @binding(2) var<storage, read> a_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> a_s: array<f32>;
@group(0) @binding(4) var<storage, read_write> a_y: array<f32>;
@group(0) @binding(5) var<storage, read_write> a_rstd: array<f32>;
@group(0) @binding(6) var<uniform> a_p: Params;

@compute @workgroup_size(WG)
fn add_rmsnorm_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;  // workgroup-uniform, so returning early keeps barriers uniform
  if (row >= a_p.rows) {
    return;
  }
  let D = a_p.cols;
  let base = row * D;
  var acc = 0.0;
  for (var j = lid; j < D; j += WG) {
    let v = a_a[base + j] + a_b[base + j];
    a_s[base + j] = v;
    acc += v * v;
  }
  let r = 1.0 / sqrt(workgroup_sum(lid, acc) / f32(D) + a_p.eps);
  if (lid == 0u) {
    a_rstd[row] = r;
  }
  // Each thread reads back only the elements of s it wrote itself.
  for (var j = lid; j < D; j += WG) {
    a_y[base + j] = a_s[base + j] * r * a_w[j];
  }
}

// ---- backward: dx ----
@group(0) @binding(0) var<storage, read> b_x: array<f32>;
@group(0) @binding(1) var<storage, read> b_w: array<f32>;
@group(0) @binding(2) var<storage, read> b_rstd: array<f32>;
@group(0) @binding(3) var<storage, read> b_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> b_dx: array<f32>;
@group(0) @binding(5) var<uniform> b_p: Params;

@compute @workgroup_size(WG)
fn rmsnorm_bwd_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= b_p.rows) {
    return;
  }
  let D = b_p.cols;
  let base = row * D;
  var acc = 0.0;
  for (var j = lid; j < D; j += WG) {
    acc += b_w[j] * b_dy[base + j] * b_x[base + j];
  }
  let s = workgroup_sum(lid, acc);
  let r = b_rstd[row];
  let c = r * r * r * s / f32(D);
  for (var j = lid; j < D; j += WG) {
    b_dx[base + j] = r * b_w[j] * b_dy[base + j] - b_x[base + j] * c;
  }
}

// ---- backward: dw, pass 1 (per-chunk partial column sums) ----
@group(0) @binding(0) var<storage, read> p_x: array<f32>;
@group(0) @binding(1) var<storage, read> p_rstd: array<f32>;
@group(0) @binding(2) var<storage, read> p_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> p_part: array<f32>;  // [chunks, D]
@group(0) @binding(4) var<uniform> p_p: Params;

@compute @workgroup_size(COLS)
fn rmsnorm_dw_part(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D = p_p.cols;
  let j = wid.x * COLS + lid;
  let c = wid.y;
  if (j >= D) {
    return;
  }
  let n0 = c * p_p.chunk_rows;
  let n1 = min(n0 + p_p.chunk_rows, p_p.rows);
  var acc = 0.0;
  for (var n = n0; n < n1; n++) {
    acc += p_dy[n * D + j] * p_x[n * D + j] * p_rstd[n];
  }
  p_part[c * D + j] = acc;
}

// ---- backward: dw, pass 2 (sum the chunks in order) ----
@group(0) @binding(0) var<storage, read> s_part: array<f32>;
@group(0) @binding(1) var<storage, read_write> s_dw: array<f32>;
@group(0) @binding(2) var<uniform> s_p: Params;

@compute @workgroup_size(COLS)
fn rmsnorm_dw_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let D = s_p.cols;
  let j = gid.x;
  if (j >= D) {
    return;
  }
  var acc = 0.0;
  for (var c = 0u; c < s_p.chunks; c++) {
    acc += s_part[c * D + j];
  }
  s_dw[j] = acc;
}
