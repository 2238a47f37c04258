// Sequence-wise MoE balance loss (V3 eqs. 17–20), forward and backward. scores [B, T, E],
// idx i32 [B, T, K]. One workgroup per sequence b (WG threads).
//   f_i = E/(K·T)·#{t : i ∈ idx[b, t]}      (thread i counts expert i; loops over t, k in order)
//   forward: L_b = Σ_t (Σ_i f_i·s_ti) / S_t / T,  S_t = Σ_j s_tj
//   backward: ds_tj = dL_b/T · (f_j/S_t − (Σ_i f_i·s_ti)/S_t²)
// Every sum runs in a fixed order (loops, then a fixed tree), so results are deterministic.

override WG: u32 = 64u;
override MAX_E: u32 = 256u;

struct Params {
  T: u32,
  E: u32,
  K: u32,
}

@group(0) @binding(0) var<storage, read> scores: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
// forward: 2 = loss [B], 3 = uniform
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<uniform> Uf: Params;
// backward: 2 = dL [B], 3 = dScores [B, T, E], 4 = uniform
@group(0) @binding(2) var<storage, read> dL: array<f32>;
@group(0) @binding(3) var<storage, read_write> dS: array<f32>;
@group(0) @binding(4) var<uniform> Ub: Params;

var<workgroup> f: array<f32, MAX_E>;
var<workgroup> part: array<f32, WG>;

// f for sequence b, into workgroup memory.
fn loadFractions(U: Params, b: u32, lid: u32) {
  for (var i = lid; i < U.E; i += WG) {
    var c = 0u;
    for (var t = 0u; t < U.T; t++) {
      for (var k = 0u; k < U.K; k++) {
        if (u32(idx[(b * U.T + t) * U.K + k]) == i) { c += 1u; }
      }
    }
    f[i] = f32(c) * f32(U.E) / f32(U.K * U.T);
  }
  workgroupBarrier();
}

// (S_t, Σ_i f_i·s_ti) for one token row.
fn rowSums(E: u32, row: u32) -> vec2<f32> {
  var S = 0.0;
  var fs = 0.0;
  for (var j = 0u; j < E; j++) {
    let v = scores[row + j];
    S += v;
    fs += f[j] * v;
  }
  return vec2<f32>(S, fs);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let U = Uf;
  let b = wid.x;
  loadFractions(U, b, lid);
  var acc = 0.0;
  for (var t = lid; t < U.T; t += WG) {
    let r = rowSums(U.E, (b * U.T + t) * U.E);
    acc += r.y / r.x;
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { part[lid] += part[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[b] = part[0] / f32(U.T); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let U = Ub;
  let b = wid.x;
  loadFractions(U, b, lid);
  let g = dL[b] / f32(U.T);
  for (var t = lid; t < U.T; t += WG) {
    let row = (b * U.T + t) * U.E;
    let r = rowSums(U.E, row);
    for (var j = 0u; j < U.E; j++) {
      dS[row + j] = g * (f[j] / r.x - r.y / (r.x * r.x));
    }
  }
}
