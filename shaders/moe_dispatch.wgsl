// MoE dispatch / combine: the row gathers around the expert GEMMs (moe_grouped_matmul.wgsl).
// A plan (engine/backend.ts, MoePlan) sorts the M = N·K assignments a = n·K + k by expert;
// slot m of the sorted order holds assignment slotAssign[m], and assignSlot is its inverse.
//
//   gather            out[m, :] = x[slotAssign[m] / K, :]                           [N, d] → [M, d]
//   gather_backward   dx[n, :] = Σ_k dy[assignSlot[n·K + k], :], k = 0, 1, …        [M, d] → [N, d]
//   gather_backward_acc  the same added to an earlier gradient: prev[n, :] + Σ_k …  (the add the
//                     autograd tape would do next, same operands: the same bits)
//   combine           out[n, :] = Σ_k weight[n·K + k] · y[assignSlot[n·K + k], :]   [M, d] → [N, d]
//   combine_bwd_dy    dy[m, :] = weight[a] · dOut[a / K, :], a = slotAssign[m]      [N, d] → [M, d]
//   combine_bwd_dw    dWeight[a] = dOut[a / K, :] · y[assignSlot[a], :]             → [N, K]
//
// Every backward is written as a gather: each output element is produced by exactly one
// invocation (or one workgroup) that reads what it needs, so there is no scatter, no atomic,
// and every sum runs in a fixed order (k = 0, 1, … for the token sums; a fixed tree for dWeight).
//
// The four row kernels are flat 1-D launches over the V-elements of their output (grid folded
// into y past 65535 workgroups, see grid1d in runtime.ts). V = vec4<f32> when d % 4 == 0 (whole
// 16-byte rows), else the host swaps the two marked lines below for their scalar versions.
// dv = d in V units.
//
// combine_bwd_dw is a dot product of length d per assignment: one workgroup of DWG threads per a;
// thread t sums elements t, t + DWG, … in order, then a fixed halving tree adds the DWG partials.

alias V = vec4<f32>;
fn hsum(v: V) -> f32 { return v.x + v.y + v.z + v.w; }

override WG: u32 = 256u;   // row kernels: invocations per workgroup
override DWG: u32 = 64u;   // combine_bwd_dw: threads per assignment (power of two)

struct Params {
  count: u32,  // V-elements of the output (rows · dv); for combine_bwd_dw: number of assignments M
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

// ---- combine_bwd_dy: dy[m] = weight[a] · dOut[a / K], a = slotAssign[m] ----
@group(0) @binding(0) var<storage, read> cd_dout: array<V>;
@group(0) @binding(1) var<storage, read> cd_weight: array<f32>;
@group(0) @binding(2) var<storage, read> cd_slotAssign: array<i32>;
@group(0) @binding(3) var<storage, read_write> cd_dy: array<V>;
@group(0) @binding(4) var<uniform> cd_p: Params;

@compute @workgroup_size(WG)
fn combine_bwd_dy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= cd_p.count) { return; }
  let m = i / cd_p.dv;
  let c = i - m * cd_p.dv;
  let a = u32(cd_slotAssign[m]);
  cd_dy[i] = cd_weight[a] * cd_dout[(a / cd_p.K) * cd_p.dv + c];
}

// ---- combine_bwd_dw: dWeight[a] = dOut[a / K] · y[assignSlot[a]], one workgroup per a ----
@group(0) @binding(0) var<storage, read> cw_dout: array<V>;
@group(0) @binding(1) var<storage, read> cw_y: array<V>;
@group(0) @binding(2) var<storage, read> cw_assignSlot: array<i32>;
@group(0) @binding(3) var<storage, read_write> cw_dweight: array<f32>;
@group(0) @binding(4) var<uniform> cw_p: Params;

var<workgroup> partial: array<f32, DWG>;

@compute @workgroup_size(DWG)
fn combine_bwd_dw(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = wid.x + wid.y * nwg.x;  // workgroup-uniform, so returning keeps the barriers uniform
  if (a >= cw_p.count) { return; }
  let dRow = (a / cw_p.K) * cw_p.dv;
  let yRow = u32(cw_assignSlot[a]) * cw_p.dv;
  // Per-thread partial in a fixed order (V lanes summed at the end: a fixed order too).
  var acc = V(0.0);
  for (var c = t; c < cw_p.dv; c += DWG) {
    acc += cw_dout[dRow + c] * cw_y[yRow + c];
  }
  partial[t] = hsum(acc);
  workgroupBarrier();
  // Halving tree: step h adds partial[t + h] into partial[t] for t < h.
  for (var h = DWG / 2u; h > 0u; h = h / 2u) {
    if (t < h) { partial[t] += partial[t + h]; }
    workgroupBarrier();
  }
  if (t == 0u) { cw_dweight[a] = partial[0]; }
}
