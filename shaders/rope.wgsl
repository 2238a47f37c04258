// Rotary position embedding (RoPE), DeepSeek-V3 convention: adjacent pairs.
//
// x [B, T, H, D], D even, viewed as complex numbers z_i = x[2i] + i·x[2i+1], i < D/2.
// Each is multiplied by e^{i·a}, a = (t + pos_offset)·f_i, f_i = theta^(−2i/D):
//   out[2i]   = x[2i]·cos a − x[2i+1]·sin a
//   out[2i+1] = x[2i]·sin a + x[2i+1]·cos a
// `sign` = −1 rotates by −a instead (the inverse, which is also the backward pass).
//
// One invocation per pair, loaded and stored as one vec2 (pairs are 8-byte aligned since D is
// even); neighbouring invocations touch neighbouring pairs, so accesses are coalesced.
//
// Precision (f32). The angle is computed as
//   f_i = exp2(−(i/(D/2))·log2(theta))   (log2(theta) is computed on the host in f64)
//   a   = (t + pos_offset)·f_i
// then reduced to r = a − k·2π ∈ [−π, π] by a two-constant Cody–Waite step before sin/cos,
// because WGSL only bounds sin/cos error on [−π, π] (fast hardware paths lose precision for large
// arguments). 2π = C1 + C2 with C1 = 6.25 (5 significant bits, so k·C1 is exact for k < 2^19)
// and a − k·C1 is exact (Sterbenz), so the reduction adds ≈ 1e-6 rad at positions in the
// thousands. What remains is the f32 angle itself: the product's rounding (≤ ½ ulp(a), e.g.
// 1.2e-4 rad at a ≈ 4096, 1.5e-5 at a ≈ 300) and exp2's few-ulp error in f_i (relative, so
// ≈ a·4·2^-24). Expect |Δa| ≲ a·3e-7: ≲ 1.2e-3 rad at a ≈ 4096 (measured on lavapipe: 2.8e-4
// normwise output error at positions 4000..4099, D=64) and ≲ 1e-4 at positions of a few hundred
// (measured ≈ 2e-5). PyTorch's f32 reference (torch.outer(t, freqs)) rounds the angle the same way.

override WG: u32 = 256;

struct Params {
  pairs: u32,       // B·T·H·D/2
  half_d: u32,      // D/2
  heads: u32,       // H
  seq: u32,         // T
  pos_offset: u32,
  sign: f32,        // +1 forward, −1 inverse
  log2_theta: f32,
}

@group(0) @binding(0) var<storage, read> x: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

// Pair i of the head vector at sequence position t (rope_math.wgsl, prepended by the host).
fn rotate(z: vec2<f32>, i: u32, t: u32, half_d: u32, pos_offset: u32, sign: f32, log2_theta: f32) -> vec2<f32> {
  return rope_rotate(z, i, half_d, f32(t + pos_offset), sign, log2_theta);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * (nwg.x * WG);
  if (k >= p.pairs) {
    return;
  }
  let i = k % p.half_d;            // pair index within the head vector
  let row = k / p.half_d;          // (b, t, h) flattened
  let t = (row / p.heads) % p.seq;
  y[k] = rotate(x[k], i, t, p.half_d, p.pos_offset, p.sign, p.log2_theta);
}

// ---- pair: two tensors with the same B, T and D (an attention's q and k, whose head counts
// may differ) in one dispatch: invocations [0, pairs_a) rotate a, the next pairs_b rotate b.

struct PairParams {
  pairs_a: u32,
  pairs_b: u32,
  half_d: u32,
  heads_a: u32,
  heads_b: u32,
  seq: u32,
  pos_offset: u32,
  sign: f32,
  log2_theta: f32,
}

@group(0) @binding(0) var<storage, read> xa: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> ya: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> xb: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> yb: array<vec2<f32>>;
@group(0) @binding(4) var<uniform> pp: PairParams;

@compute @workgroup_size(WG)
fn pair(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * (nwg.x * WG);
  if (g < pp.pairs_a) {
    let i = g % pp.half_d;
    let t = (g / pp.half_d / pp.heads_a) % pp.seq;
    ya[g] = rotate(xa[g], i, t, pp.half_d, pp.pos_offset, pp.sign, pp.log2_theta);
  } else if (g < pp.pairs_a + pp.pairs_b) {
    let k = g - pp.pairs_a;
    let i = k % pp.half_d;
    let t = (k / pp.half_d / pp.heads_b) % pp.seq;
    yb[k] = rotate(xb[k], i, t, pp.half_d, pp.pos_offset, pp.sign, pp.log2_theta);
  }
}
