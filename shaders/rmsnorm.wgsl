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
//   rmsnorm_fwd      a row's sum of squares is a fixed-shape tree of width TPR (a power of two,
//                    from D alone): lane l of the tree sums columns l, l+TPR, … in order, then
//                    level s adds lane l + s into lane l (l < s), s = TPR/2 … 1. Same D → same
//                    tree → bit-identical results, whatever runs it. R threads run a row
//                    (R ≤ TPR, from the row count: fewer threads per row when there are many
//                    rows), ROWS = WG / R rows per workgroup: thread i of a row holds the tree
//                    lanes i, i+R, …, i+TPR−R in registers, does the levels s ≥ R there (both
//                    operands are its own), and the levels s < R go through workgroup memory
//                    and subgroup shuffles (row_sum). Neighbouring threads read neighbouring
//                    addresses. With R = TPR and ROWS = 1 this is one workgroup per row as
//                    before; with 512 rows of 64, R = 8 ran the forward in a fifth of the time
//                    on lavapipe (barriers cost per thread there; on a GPU, narrow rows keep a
//                    whole workgroup busy without idle lanes).
//   rmsnorm_bwd      the whole backward in ONE dispatch. Workgroups [0, ceil(rows / ROWS)) each
//                    write ROWS rows of dx in the forward's row layout (reduce s[n], then write dx; with
//                    has_res, plus the gradient the tape has already gathered for x: dx + res,
//                    the accumulation add fused). The next dw_groups workgroups each own
//                    WG / LANES adjacent columns of dw: their LANES lanes take the chunks
//                    c ≡ lane (mod LANES), sum each in increasing n exactly as rmsnorm_dw_part
//                    does and leave it in workgroup memory; then lane 0 adds the chunks in
//                    increasing c from 0, as rmsnorm_dw_sum does. Same products, same order: bit
//                    for bit the dx and dw of the three kernels it replaced (a dx row kernel,
//                    dw_part, dw_sum; and res + dx the separate add's), with no partial buffer.
//                    Needs chunks ≤ PART_CAP / (WG / LANES); beyond that (N past ~12k rows) the
//                    host sets dw_groups = 0 and runs the two dw passes below.
//   rmsnorm_dw_part  dw is a column sum over N. No atomics: the rows are cut into fixed chunks of
//                    chunk_rows rows (a function of N only); invocation (chunk c, column j)
//                    sums its chunk in increasing n and writes partial[c, j]. Threads of a workgroup take COLS adjacent columns, so
//                    each row read is coalesced.
//   rmsnorm_dw_sum   dw[j] = Σ_c partial[c, j] in increasing c (skipped when there is one chunk:
//                    then rmsnorm_dw_part writes dw directly).
// Row kernels fold the workgroup index into 2-D grids (wid.x + wid.y·nwg.x) for N > 65535; a
// workgroup's first row is that index · ROWS; rows past N (in the last workgroup) reach every
// barrier but read and write nothing.
//
// Two paths, one body per kernel (rmsnorm_fwd_row, add_rmsnorm_fwd_row, rmsnorm_bwd_group). The
// host builds this module with lanes_tree.wgsl appended (entries rmsnorm_fwd, add_rmsnorm_fwd,
// rmsnorm_bwd: the row sum's tree all the way down in workgroup memory) or, where the device has
// `subgroups`, with lanes_subgroup.wgsl prepended and rmsnorm_subgroup.wgsl appended (entries
// *_subgroup): the tree's last log2(lanes) levels then run as subgroup shuffles, without barriers,
// and the sum reaches every thread by a broadcast. Same pairs, same order: the same bits.

override TPR: u32 = 256;   // the row tree's width (power of two): fixes the bits
override R: u32 = 256;     // threads per row (power of two ≤ TPR, ≥ TPR / VMAX)
override ROWS: u32 = 1;    // rows per workgroup (row kernels)
override WG: u32 = R * ROWS; // threads per workgroup (rmsnorm_segments.wgsl sets it directly)
override V: u32 = TPR / R; // tree lanes per thread
const VMAX: u32 = 32u;
override SG_CAP: u32 = 128u; // most lanes the subgroup levels use (a power of two; tests lower it)
override COLS: u32 = 64;   // columns per workgroup in the dw passes

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  chunks: u32,      // dw passes: number of row chunks
  chunk_rows: u32,  // dw passes: rows per chunk
}

var<workgroup> red: array<f32, WG>;

// Lanes of the register levels of a sum over n threads: the subgroup size (capped by SG_CAP),
// or 1 — the tree all the way — on the tree path (sg = 1) and when a subgroup is wider than n
// (it would not be full). Uniform: subgroup_size is the same in every invocation.
fn shuffle_width(sg: u32, n: u32) -> u32 {
  return select(1u, min(sg, SG_CAP), sg <= n);
}

// A row's tree (see the header): thread i = lid % R of the row holds tree lanes i + R·k in
// v[k], k < V. The levels s ≥ R in registers, then the levels s < R across the row's R threads
// — in workgroup memory down to the shuffle width, the rest by shuffles on the subgroup path,
// where every subgroup finishes every row of the workgroup (ROWS × log2(lanes) shuffles) and each
// thread keeps its own row's sum, so nothing is assumed about which invocations share a
// subgroup. lane and sg are the subgroup builtins, or 0 and 1 on the tree path. Must be called
// in uniform control flow. Every thread of the row gets the sum.
fn row_sum(lid: u32, v: ptr<function, array<f32, VMAX>>, lane: u32, sg: u32) -> f32 {
  for (var s = TPR / 2u; s >= R; s = s >> 1u) {
    let ks = s / R; // the thread's lanes below s are k < ks; lane i + R·k's partner is k + ks
    for (var k = 0u; k < ks; k++) {
      (*v)[k] = (*v)[k] + (*v)[k + ks];
    }
  }
  red[lid] = (*v)[0];
  workgroupBarrier();
  let t = lid % R;
  let lanes = shuffle_width(sg, R);
  for (var s = R / 2u; s >= lanes; s = s >> 1u) {
    if (t < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  let rb = lid - t;
  if (lanes == 1u) {
    return red[rb];
  }
  var mine = 0.0;
  for (var r = 0u; r < ROWS; r++) {
    let total = lanes_sum(red[r * R + (lane & (lanes - 1u))], lanes);
    if (r * R == rb) {
      mine = total;
    }
  }
  return mine;
}

// Sum of the first n threads' v (n a power of two ≤ WG, workgroup-uniform; the other threads' v
// is not read), by a fixed binary tree: levels in workgroup memory down to the shuffle width,
// the rest in registers (every subgroup merges slots 0 .. lanes-1 the same way, so each ends with
// the sum) — the same tree as row_sum's at width n. lane and sg as in row_sum. Must be called in
// uniform control flow. (rmsnorm_segments.wgsl's rows.)
fn workgroup_sum_n(lid: u32, v: f32, lane: u32, sg: u32, n: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  let lanes = shuffle_width(sg, n);
  for (var s = n / 2u; s >= lanes; s = s >> 1u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  if (lanes == 1u) {
    return red[0];
  }
  return lanes_sum(red[lane & (lanes - 1u)], lanes);
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
  let row0 = (wid.x + wid.y * nwg.x) * ROWS;  // workgroup-uniform, so returning early keeps barriers uniform
  if (row0 >= f_p.rows) {
    return;
  }
  rmsnorm_fwd_row(row0 + lid / R, lid, 0u, 1u);
}

// Row `row` forward; lane and sg are the subgroup builtins on the subgroup path, 0 and 1 on the tree path.
// A row past N only takes part in the sum's barriers (D = 0 for it).
fn rmsnorm_fwd_row(row: u32, lid: u32, lane: u32, sg: u32) {
  let D = select(0u, f_p.cols, row < f_p.rows);
  let i = lid % R;
  let base = row * D;
  var acc: array<f32, VMAX>;
  for (var k = 0u; k < V; k++) {
    var a = 0.0;
    for (var j = i + R * k; j < D; j += TPR) {
      let v = f_x[base + j];
      a += v * v;
    }
    acc[k] = a;
  }
  let r = 1.0 / sqrt(row_sum(lid, &acc, lane, sg) / f32(f_p.cols) + f_p.eps);
  if (i == 0u && D != 0u) {
    f_rstd[row] = r;
  }
  for (var j = i; j < D; j += R) {
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
  let row0 = (wid.x + wid.y * nwg.x) * ROWS;  // workgroup-uniform, so returning early keeps barriers uniform
  if (row0 >= a_p.rows) {
    return;
  }
  add_rmsnorm_fwd_row(row0 + lid / R, lid, 0u, 1u);
}

// Row `row` of the fused add + norm; lane and sg as in rmsnorm_fwd_row.
fn add_rmsnorm_fwd_row(row: u32, lid: u32, lane: u32, sg: u32) {
  let D = select(0u, a_p.cols, row < a_p.rows);
  let i = lid % R;
  let base = row * D;
  var acc: array<f32, VMAX>;
  for (var k = 0u; k < V; k++) {
    var a = 0.0;
    for (var j = i + R * k; j < D; j += TPR) {
      let v = a_a[base + j] + a_b[base + j];
      a_s[base + j] = v;
      a += v * v;
    }
    acc[k] = a;
  }
  let r = 1.0 / sqrt(row_sum(lid, &acc, lane, sg) / f32(a_p.cols) + a_p.eps);
  if (i == 0u && D != 0u) {
    a_rstd[row] = r;
  }
  // Each thread reads back only the elements of s it wrote itself (the columns ≡ i mod R).
  for (var j = i; j < D; j += R) {
    a_y[base + j] = a_s[base + j] * r * a_w[j];
  }
}

// ---- backward in one dispatch: dx rows, then dw column groups ----
override LANES: u32 = 16;     // chunk lanes per dw workgroup (divides WG)
const PART_CAP: u32 = 3072u;  // workgroup floats for the chunk partials (12 KiB)

struct BwdParams {
  rows: u32,
  cols: u32,
  chunks: u32,
  chunk_rows: u32,
  has_res: u32,    // 1: dx += res (res is bound to dy's first part otherwise, and not read)
  dw_groups: u32,  // workgroups after the row groups computing dw (0: dw by the two dw passes)
}

var<workgroup> part: array<f32, PART_CAP>;

@group(0) @binding(0) var<storage, read> g_x: array<f32>;
@group(0) @binding(1) var<storage, read> g_w: array<f32>;
@group(0) @binding(2) var<storage, read> g_rstd: array<f32>;
@group(0) @binding(3) var<storage, read> g_res: array<f32>;
@group(0) @binding(4) var<storage, read_write> g_dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> g_dw: array<f32>;
// The upstream gradient dy[i]. The tape may hand it over as P parts that it has not added yet
// (one per consumer of y, in the order they arrived): the host then compiles this block with
// bindings g_dy0 … g_dy{P−1} and dy_at = ((g_dy0[i] + g_dy1[i]) + …), the additions and order
// of the adds it replaces, so the values are the summed dy's bit for bit.
// DY_PARTS_BEGIN
@group(0) @binding(6) var<storage, read> g_dy0: array<f32>;
@group(0) @binding(7) var<uniform> g_p: BwdParams;
fn dy_at(i: u32) -> f32 {
  return g_dy0[i];
}
// DY_PARTS_END

@compute @workgroup_size(WG)
fn rmsnorm_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;  // workgroup-uniform: every branch on it keeps barriers uniform
  rmsnorm_bwd_group(g, lid, 0u, 1u);
}

// Workgroup g of the backward (ROWS dx rows, or a dw column group); lane and sg as in
// rmsnorm_fwd_row. Rows past N (in the last row group) only take part in the sum's barriers.
fn rmsnorm_bwd_group(g: u32, lid: u32, lane: u32, sg: u32) {
  let row_groups = (g_p.rows + ROWS - 1u) / ROWS;
  if (g < row_groups) {
    let row = g * ROWS + lid / R;
    let D = select(0u, g_p.cols, row < g_p.rows);
    let i = lid % R;
    let base = row * D;
    var acc: array<f32, VMAX>;
    for (var k = 0u; k < V; k++) {
      var a = 0.0;
      for (var j = i + R * k; j < D; j += TPR) {
        a += g_w[j] * dy_at(base + j) * g_x[base + j];
      }
      acc[k] = a;
    }
    let s = row_sum(lid, &acc, lane, sg);
    let r = g_rstd[min(row, g_p.rows - 1u)];
    let c = r * r * r * s / f32(g_p.cols);
    for (var j = i; j < D; j += R) {
      let v = r * g_w[j] * dy_at(base + j) - g_x[base + j] * c;
      if (g_p.has_res == 1u) {
        g_dx[base + j] = g_res[base + j] + v;
      } else {
        g_dx[base + j] = v;
      }
    }
    return;
  }
  let D = g_p.cols;
  let cg = g - row_groups;
  if (cg >= g_p.dw_groups) {
    return;
  }
  let CW = WG / LANES;
  let col = lid % CW;
  let chunk_lane = lid / CW;
  let j = cg * CW + col;
  if (j < D) {
    for (var c = chunk_lane; c < g_p.chunks; c += LANES) {
      let n0 = c * g_p.chunk_rows;
      let n1 = min(n0 + g_p.chunk_rows, g_p.rows);
      var acc = 0.0;
      for (var n = n0; n < n1; n++) {
        acc += dy_at(n * D + j) * g_x[n * D + j] * g_rstd[n];
      }
      part[c * CW + col] = acc;
    }
  }
  workgroupBarrier();
  if (chunk_lane == 0u && j < D) {
    var total = 0.0;
    for (var c = 0u; c < g_p.chunks; c++) {
      total += part[c * CW + col];
    }
    g_dw[j] = total;
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
