// SiLU and SwiGLU, forward and backward, elementwise.
//
//   σ(x) = 1/(1 + e^{−x}),   silu(x) = x·σ(x),   silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
//   swiglu(g, u) = silu(g)·u;   dg = dy·u·silu'(g),   du = dy·silu(g)
//
// σ is evaluated from e = exp(−|x|) ∈ (0, 1]: σ(|x|) = 1/(1+e), σ(−|x|) = e/(1+e). No exp can
// overflow, and 1 − σ(x) is computed directly as σ(−x) rather than by cancellation.
//
// Two variants of every op: `*_v4` works on vec4s (one invocation per 4 elements, 16-byte loads),
// used when the element count is a multiple of 4; `*_s` handles one element per invocation (any
// count). Both call the same vec4 helpers (the scalar variant splats its element into a vec4 and
// keeps .x), so there is one copy of the math: shaders/swiglu_math.wgsl, which the host puts
// before this file (the matmul's SwiGLU prologue and epilogue use the same functions). Grids may be folded into 2-D:
// i = gid.x + gid.y·(nwg.x·WG). Module-scope bindings are declared per entry point (an entry
// point's interface only includes the variables it uses).

override WG: u32 = 256;

struct Params {
  n: u32,  // number of elements (_s) or of vec4s (_v4)
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * (nwg.x * WG);
}

// ---- silu(x) ----
@group(0) @binding(0) var<storage, read> silu_x4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> silu_y4: array<vec4<f32>>;
@group(0) @binding(0) var<storage, read> silu_x1: array<f32>;
@group(0) @binding(1) var<storage, read_write> silu_y1: array<f32>;
@group(0) @binding(2) var<uniform> silu_p: Params;

@compute @workgroup_size(WG)
fn silu_v4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < silu_p.n) {
    silu_y4[i] = silu4(silu_x4[i]);
  }
}

@compute @workgroup_size(WG)
fn silu_s(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < silu_p.n) {
    silu_y1[i] = silu4(vec4<f32>(silu_x1[i])).x;
  }
}

// ---- siluBackward(x, dy) = dy·silu'(x) ----
@group(0) @binding(0) var<storage, read> silub_x4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> silub_dy4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> silub_dx4: array<vec4<f32>>;
@group(0) @binding(0) var<storage, read> silub_x1: array<f32>;
@group(0) @binding(1) var<storage, read> silub_dy1: array<f32>;
@group(0) @binding(2) var<storage, read_write> silub_dx1: array<f32>;
@group(0) @binding(3) var<uniform> silub_p: Params;

@compute @workgroup_size(WG)
fn silu_bwd_v4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < silub_p.n) {
    silub_dx4[i] = silub_dy4[i] * silu_grad4(silub_x4[i]);
  }
}

@compute @workgroup_size(WG)
fn silu_bwd_s(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < silub_p.n) {
    silub_dx1[i] = (vec4<f32>(silub_dy1[i]) * silu_grad4(vec4<f32>(silub_x1[i]))).x;
  }
}

// ---- swiglu(g, u) = silu(g)·u ----
@group(0) @binding(0) var<storage, read> swi_g4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> swi_u4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> swi_y4: array<vec4<f32>>;
@group(0) @binding(0) var<storage, read> swi_g1: array<f32>;
@group(0) @binding(1) var<storage, read> swi_u1: array<f32>;
@group(0) @binding(2) var<storage, read_write> swi_y1: array<f32>;
@group(0) @binding(3) var<uniform> swi_p: Params;

@compute @workgroup_size(WG)
fn swiglu_v4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < swi_p.n) {
    swi_y4[i] = swiglu4(swi_g4[i], swi_u4[i]);
  }
}

@compute @workgroup_size(WG)
fn swiglu_s(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < swi_p.n) {
    swi_y1[i] = swiglu4(vec4<f32>(swi_g1[i]), vec4<f32>(swi_u1[i])).x;
  }
}

// ---- swigluBackward(g, u, dy): dg = dy·u·silu'(g), du = dy·silu(g) ----
@group(0) @binding(0) var<storage, read> swib_g4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> swib_u4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> swib_dy4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> swib_dg4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> swib_du4: array<vec4<f32>>;
@group(0) @binding(0) var<storage, read> swib_g1: array<f32>;
@group(0) @binding(1) var<storage, read> swib_u1: array<f32>;
@group(0) @binding(2) var<storage, read> swib_dy1: array<f32>;
@group(0) @binding(3) var<storage, read_write> swib_dg1: array<f32>;
@group(0) @binding(4) var<storage, read_write> swib_du1: array<f32>;
@group(0) @binding(5) var<uniform> swib_p: Params;

@compute @workgroup_size(WG)
fn swiglu_bwd_v4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < swib_p.n) {
    let r = swiglu_bwd4(swib_g4[i], swib_u4[i], swib_dy4[i]);
    swib_dg4[i] = r[0];
    swib_du4[i] = r[1];
  }
}

@compute @workgroup_size(WG)
fn swiglu_bwd_s(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < swib_p.n) {
    let r = swiglu_bwd4(vec4<f32>(swib_g1[i]), vec4<f32>(swib_u1[i]), vec4<f32>(swib_dy1[i]));
    swib_dg1[i] = r[0].x;
    swib_du1[i] = r[1].x;
  }
}
