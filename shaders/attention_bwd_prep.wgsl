// The softmax row term on its own, a test-only reference (src/backends/attention.test.ts, via
// setAttentionSeparatePrep): the training path computes it inside attention_bwd_dq.wgsl with
// this same sum, and that must give these bits.
//     D[b, h, t] = Σ_d dO[b, t, h, d] · O[b, t, h, d]   (= Σ_j P[t, j] · dP[t, j])
// which both the dQ and the dK/dV kernels subtract in dS = P ∘ (dP − D).
// One invocation per (b, h, t) row, summing over dV in order. 1-D grid (folded by grid1d).
// Layouts: o, dO [B,T,H,dV] → D [B,H,T].

override WG: u32 = 64u;

struct Params {
  B: u32,
  T: u32,
  H: u32,
  dV: u32,
}

@group(0) @binding(0) var<storage, read> o: array<f32>;
@group(0) @binding(1) var<storage, read> dO: array<f32>;
@group(0) @binding(2) var<storage, read_write> D: array<f32>;
@group(0) @binding(3) var<uniform> U: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * (nwg.x * WG);
  if (idx >= U.B * U.H * U.T) { return; }
  // idx enumerates D in its own layout [B, H, T].
  let t = idx % U.T;
  let h = (idx / U.T) % U.H;
  let b = idx / (U.T * U.H);
  let base = ((b * U.T + t) * U.H + h) * U.dV;
  var s = 0.0;
  for (var d = 0u; d < U.dV; d++) { s += dO[base + d] * o[base + d]; }
  D[idx] = s;
}
