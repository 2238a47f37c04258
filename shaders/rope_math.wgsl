// The RoPE rotation shared by rope.wgsl, mla_rope.wgsl and decode_rope.wgsl (prepended to each by
// its host), so their values agree bit for bit. The precision argument is in rope.wgsl's header:
// f_i = exp2(−(i / half_d)·log2(theta)) (log2(theta) from the host in f64), a = position·f_i in
// f32, then a two-constant Cody–Waite reduction to r ∈ [−π, π] (WGSL bounds sin/cos error only
// there): 2π = C1 + C2 with C1 = 6.25 (5 significant bits, so k·C1 is exact for k < 2^19) and
// a − k·C1 exact (Sterbenz).

const INV_TWO_PI: f32 = 0.15915494309189535;
const TWO_PI_HI: f32 = 6.25;                   // exactly representable, 5 significant bits
const TWO_PI_LO: f32 = 0.033185307179586477;   // 2π − 6.25

// Pair i (z = x[2i] + i·x[2i+1]) of a head vector of 2·half_d at `position`, rotated by sign·a.
fn rope_rotate(z: vec2<f32>, i: u32, half_d: u32, position: f32, sign: f32, log2_theta: f32) -> vec2<f32> {
  let freq = exp2(-(f32(i) / f32(half_d)) * log2_theta);
  let a = position * freq;
  let turns = round(a * INV_TWO_PI);
  let r = (a - turns * TWO_PI_HI) - turns * TWO_PI_LO;
  let c = cos(r);
  let s = sign * sin(r);
  return vec2<f32>(z.x * c - z.y * s, z.x * s + z.y * c);
}
