// MoE dispatch / combine: the row gathers around the expert GEMMs (moe_grouped_matmul.wgsl).
// A plan (engine/backend.ts, MoePlan) sorts the M = N·K assignments a = n·K + k by expert;
// slot m of the sorted order holds assignment slotAssign[m], and assignSlot is its inverse.
//
//   gather            out[m, :] = x[slotAssign[m] / K, :]                           [N, d] → [M, d]
//   gather_backward   dx[n, :] = Σ_k dy[assignSlot[n·K + k], :], k = 0, 1, …        [M, d] → [N, d]
//   gather_backward_acc  the same added to an earlier gradient: prev[n, :] + Σ_k …  (the add the
//                     autograd tape would do next, same operands: the same bits)
//   combine           out[n, :] = Σ_k weight[n·K + k] · y[assignSlot[n·K + k], :]   [M, d] → [N, d]
//   combine_bwd       dy[m, :] = weight[a] · dOut[a / K, :], a = slotAssign[m]      [N, d] → [M, d]
//                     and dWeight[a] = dOut[a / K, :] · y[assignSlot[a], :]         → [N, K]
//
// Every backward is written as a gather: each output element is produced by exactly one
// invocation (or one workgroup) that reads what it needs, so there is no scatter, no atomic,
// and every sum runs in a fixed order (k = 0, 1, … for the token sums; a fixed tree for dWeight).
//
// The four forward/gather kernels are flat 1-D launches over the V-elements of their output (grid
// folded into y past 65535 workgroups, see grid1d in runtime.ts). V = vec4<f32> when d % 4 == 0
// (whole 16-byte rows), else the host swaps the two marked lines below for their scalar versions.
// dv = d in V units.
//
// combine_bwd is one launch of DWG-thread workgroups in two ranges. The first M are dot products
// of length d, one per assignment a: thread t sums V-elements t, t + DWG, … in order, then a
// fixed halving tree adds the DWG partials. The rest cover dy, DWG V-elements each.

alias V = vec4<f32>;
fn hsum(v: V) -> f32 { return v.x + v.y + v.z + v.w; }

override WG: u32 = 256u;   // row kernels: invocations per workgroup
override DWG: u32 = 64u;   // combine_bwd: threads per workgroup = per dot product (power of two)

struct Params {
  count: u32,  // V-elements of the output (rows · dv)
  dv: u32,     // row length in V units
  K: u32,      // experts per token
}

// ---- gather: out[m] = x[slotAssign[m] / K] ----
@group(0) @binding(0) var<storage, read> g_x: array<V>;
@group(0) @binding(1) var<storage, read> g_slotAssign: array<i32>;
@group(0) @binding(2) var<storage, read_write> g_out: array<V>;
@group(0) @binding(3) var<uniform> g_p: Params;

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= g_p.count) { return; }
  let m = i / g_p.dv;
  let c = i - m * g_p.dv;
  let n = u32(g_slotAssign[m]) / g_p.K;
  g_out[i] = g_x[n * g_p.dv + c];
}

// ---- gather_backward: dx[n] = Σ_k dy[assignSlot[n·K + k]] ----
@group(0) @binding(0) var<storage, read> gb_dy: array<V>;
@group(0) @binding(1) var<storage, read> gb_assignSlot: array<i32>;
@group(0) @binding(2) var<storage, read_write> gb_dx: array<V>;
@group(0) @binding(3) var<uniform> gb_p: Params;

// Σ_k dy[assignSlot[n·K + k]] at V-column c, k = 0, 1, … (gb_dy and gb_assignSlot are bindings
// 0 and 1 of both gather_backward entries).
fn gatherSum(n: u32, c: u32, K: u32, dv: u32) -> V {
  var acc = V(0.0);
  for (var k = 0u; k < K; k++) {
    let slot = u32(gb_assignSlot[n * K + k]);
    acc += gb_dy[slot * dv + c];
  }
  return acc;
}

@compute @workgroup_size(WG)
fn gather_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= gb_p.count) { return; }
  let n = i / gb_p.dv;
  gb_dx[i] = gatherSum(n, i - n * gb_p.dv, gb_p.K, gb_p.dv);
}

@group(0) @binding(3) var<storage, read> gba_prev: array<V>;
@group(0) @binding(4) var<uniform> gba_p: Params;

@compute @workgroup_size(WG)
fn gather_backward_acc(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= gba_p.count) { return; }
  let n = i / gba_p.dv;
  gb_dx[i] = gba_prev[i] + gatherSum(n, i - n * gba_p.dv, gba_p.K, gba_p.dv);
}

// ---- combine: out[n] = Σ_k weight[n·K + k] · y[assignSlot[n·K + k]] ----
@group(0) @binding(0) var<storage, read> c_y: array<V>;
@group(0) @binding(1) var<storage, read> c_weight: array<f32>;
@group(0) @binding(2) var<storage, read> c_assignSlot: array<i32>;
@group(0) @binding(3) var<storage, read_write> c_out: array<V>;
@group(0) @binding(4) var<uniform> c_p: Params;

@compute @workgroup_size(WG)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= c_p.count) { return; }
  let n = i / c_p.dv;
  let c = i - n * c_p.dv;
  var acc = V(0.0);
  for (var k = 0u; k < c_p.K; k++) {
    let a = n * c_p.K + k;
    acc += c_weight[a] * c_y[u32(c_assignSlot[a]) * c_p.dv + c];
  }
  c_out[i] = acc;
}

// ---- combine_bwd: both gradients of combine in one dispatch ----
//   workgroups w < G = ceil(M / DOTS):  dWeight[a] = dOut[a / K] · y[assignSlot[a]] for the DOTS
//                       assignments a = w·DOTS + j, RD threads each (the tree below)
//   workgroups w ≥ G:   dy[i] = weight[a] · dOut[a / K, c] for the DWG V-elements
//                       i = (w − G)·DWG + t of dy, m = i / dv, c = i mod dv, a = slotAssign[m]
// A dot's tree has DWG lanes (that fixes the bits): lane l sums V-elements l, l + DWG, … in order,
// then a halving tree adds the lanes. Its RD threads hold DWG / RD lanes each: thread i has lanes
// i + RD·k, adds the levels h ≥ RD in registers, and the levels below RD go through workgroup
// memory. (One dot per 64-thread workgroup passed 7 barriers per dot; with RD = 8, 8 dots share a
// workgroup's 4 barriers — on lavapipe browser-v3's combine backward was 7.6 ms a layer.)
// w (the workgroup's linear index: folded into y past 65535, see grid1d) is workgroup-uniform, so
// every thread of a dWeight workgroup reaches the tree's barriers and no dy workgroup meets one.
struct CombineBwdParams {
  M: u32,        // assignments (= dWeight workgroups)
  dyCount: u32,  // V-elements of dy (M · dv)
  dv: u32,       // row length in V units
  K: u32,        // experts per token
}

@group(0) @binding(0) var<storage, read> cb_dout: array<V>;
@group(0) @binding(1) var<storage, read> cb_y: array<V>;
@group(0) @binding(2) var<storage, read> cb_weight: array<f32>;
@group(0) @binding(3) var<storage, read> cb_slotAssign: array<i32>;
@group(0) @binding(4) var<storage, read> cb_assignSlot: array<i32>;
@group(0) @binding(5) var<storage, read_write> cb_dy: array<V>;
@group(0) @binding(6) var<storage, read_write> cb_dweight: array<f32>;
@group(0) @binding(7) var<uniform> cb_p: CombineBwdParams;

override RD: u32 = 8u;           // combine_bwd: threads per dot product (power of two ≤ DWG)
override DOTS: u32 = DWG / RD;   // … dot products per workgroup
override LD: u32 = DWG / RD;     // … tree lanes per thread
const LDMAX: u32 = 64u;

var<workgroup> partial: array<f32, DWG>;

@compute @workgroup_size(DWG)
fn combine_bwd(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;
  let G = (cb_p.M + DOTS - 1u) / DOTS;
  if (w < G) {
    let j = t / RD;           // this thread's dot in the workgroup
    let r = t - j * RD;       // … and its thread within the dot
    let a = w * DOTS + j;
    let live = a < cb_p.M;    // a dead dot (past M) only takes part in the barriers
    var lane: array<f32, LDMAX>;
    if (live) {
      let dRow = (a / cb_p.K) * cb_p.dv;
      let yRow = u32(cb_assignSlot[a]) * cb_p.dv;
      // Each lane's partial in a fixed order (V lanes summed at the end: a fixed order too).
      for (var k = 0u; k < LD; k++) {
        var acc = V(0.0);
        for (var c = r + RD * k; c < cb_p.dv; c += DWG) {
          acc += cb_dout[dRow + c] * cb_y[yRow + c];
        }
        lane[k] = hsum(acc);
      }
    }
    // Halving tree: step h adds lane l + h into lane l for l < h; h ≥ RD within the thread …
    for (var h = DWG / 2u; h >= RD; h = h / 2u) {
      let kh = h / RD;
      for (var k = 0u; k < kh; k++) { lane[k] += lane[k + kh]; }
    }
    // … the rest across the dot's threads.
    partial[t] = lane[0];
    workgroupBarrier();
    for (var h = RD / 2u; h > 0u; h = h / 2u) {
      if (r < h) { partial[t] += partial[t + h]; }
      workgroupBarrier();
    }
    if (r == 0u && live) { cb_dweight[a] = partial[t]; }
  } else {
    // Each slot's row written once, one element per invocation.
    let i = (w - G) * DWG + t;
    if (i < cb_p.dyCount) {
      let m = i / cb_p.dv;
      let c = i - m * cb_p.dv;
      let a = u32(cb_slotAssign[m]);
      cb_dy[i] = cb_weight[a] * cb_dout[(a / cb_p.K) * cb_p.dv + c];
    }
  }
}
