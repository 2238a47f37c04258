// AdamW (decoupled weight decay), in place on param, m, v; elementwise.
//
//   c  = use_clip ? min(1, max_norm / (sqrt(norm_sq[0]) + 1e-6)) : 1
//   g' = g · c
//   m  = β1 m + (1−β1) g';   v = β2 v + (1−β2) g'²
//   p  = p − lr·wd·p − lr · (m / bc1) / (sqrt(v / bc2) + eps),   bc1 = 1−β1^t, bc2 = 1−β2^t
//
// norm_sq (the global squared grad norm from sumSquares) is read here, on the device, so the
// step never waits for the host. The host computes 1−β1, 1−β2, bc1 and bc2 in float64 and
// passes them rounded once to f32. Without clipping the host binds any read-only buffer (the
// grad) at norm_sq and sets use_clip = 0.
//
// V = vec4<f32>: one invocation updates 4 parameters with 16-byte loads/stores, when every
// buffer's byte size is a multiple of 16 (pooled buffers are); padding lanes past the end are
// updated on garbage and never read. The TS side compiles an `alias V = f32;` build otherwise.
// 1-D grid over V-elements, folded into 2-D past 65535 workgroups.

alias V = vec4<f32>;

override WG: u32 = 256;

struct Hp {
  n: u32,         // V-elements
  use_clip: u32,
  max_norm: f32,
  lr: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  wd: f32,
  bc1: f32,
  bc2: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<V>;
@group(0) @binding(1) var<storage, read> grad: array<V>;
@group(0) @binding(2) var<storage, read_write> m1: array<V>;
@group(0) @binding(3) var<storage, read_write> m2: array<V>;
@group(0) @binding(4) var<storage, read> norm_sq: array<f32>;
@group(0) @binding(5) var<uniform> hp: Hp;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= hp.n) {
    return;
  }
  var c = 1.0;
  if (hp.use_clip != 0u) {
    c = min(1.0, hp.max_norm / (sqrt(norm_sq[0]) + 1e-6));
  }
  let g = grad[i] * c;
  let m = hp.beta1 * m1[i] + hp.one_minus_beta1 * g;
  let v = hp.beta2 * m2[i] + hp.one_minus_beta2 * g * g;
  m1[i] = m;
  m2[i] = v;
  let p = param[i];
  param[i] = p - hp.lr * hp.wd * p - hp.lr * (m / hp.bc1) / (sqrt(v / hp.bc2) + hp.eps);
}
