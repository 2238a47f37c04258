// RoPE with a start position per sequence (generation engine), DeepSeek-V3 adjacent pairs.
//
// x [B, n, H, D], D even, pos i32 [B]: token j of sequence b sits at position p = pos[b] + j.
// Pair i of each head vector, z_i = x[2i] + i·x[2i+1], is multiplied by e^{i·a}:
//   a = p · f_i,  f_i = theta^(−2i/D)
//   out[2i]   = x[2i]·cos a − x[2i+1]·sin a
//   out[2i+1] = x[2i]·sin a + x[2i+1]·cos a
// exactly as shaders/rope.wgsl with pos_offset replaced by a per-sequence start.
//
// One invocation per pair, loaded and stored as one vec2 (pairs are 8-byte aligned since D is
// even); neighbouring invocations touch neighbouring pairs, so accesses are coalesced.
//
// Precision (f32), the same scheme as rope.wgsl: f_i = exp2(−(i/(D/2))·log2(theta)) with
// log2(theta) from the host in f64, a = f32(p)·f_i, then a two-constant Cody–Waite reduction to
// r ∈ [−π, π] (WGSL bounds sin/cos error only there): 2π = 6.25 + 0.0331…, k·6.25 is exact for
// k < 2^19 and a − k·6.25 is exact (Sterbenz). The angle's own f32 rounding remains,
// |Δa| ≲ a·3e-7 rad: ≲ 1e-4 at positions of a few hundred.

override WG: u32 = 256;

struct Params {
  pairs: u32,      // B·n·H·D/2
  half_d: u32,     // D/2
  heads: u32,      // H
  n: u32,          // tokens per sequence in x
  log2_theta: f32,
}

@group(0) @binding(0) var<storage, read> x: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> pos: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> U: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * (nwg.x * WG);
  if (k >= U.pairs) {
    return;
  }
  let i = k % U.half_d;          // pair index within the head vector
  let bj = k / U.half_d / U.heads; // b·n + j
  let j = bj % U.n;
  let b = bj / U.n;
  let p = pos[b] + i32(j);

  y[k] = rope_rotate(x[k], i, U.half_d, f32(p), 1.0, U.log2_theta); // rope_math.wgsl, prepended
}
