// Elementwise ops over flat f32 tensors (shape does not matter, only the element count).
//
//   add         out = a + b
//   mul         out = a * b
//   scale       out = a * s
//   add_inplace dst += src
//   broadcast   out = s[0] * factor   (s is a one-element tensor, read here: no host round trip)
//
// V is the element type one invocation handles. The TS side compiles this text twice:
//   - as written, V = vec4<f32>: one invocation moves 16 bytes per operand (one wide load and
//     store). Used when every bound buffer's byte size is a multiple of 16, which the buffer
//     pool guarantees for all bucketed buffers. Then ceil(n/4) vec4s cover the tensor; lanes
//     past element n-1 fall into the buffer's padding: computed on garbage, stored to padding,
//     never read by anyone.
//   - with the alias line replaced by `alias V = f32;` (one float per invocation), for the
//     rare exact-size buffer whose byte size is not a multiple of 16.
// Launch: 1-D over the V-elements, WG invocations per workgroup, folded into a 2-D grid when
// there are more than 65535 workgroups: i = gid.x + gid.y * (nwg.x * WG).
//
// Entry points declare their own resource variables; variables sharing a binding number are
// never used by the same entry point.

alias V = vec4<f32>;

override WG: u32 = 256;

struct Params {
  n: u32,  // number of V-elements to write
  s: f32,  // scale factor (scale, broadcast)
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * (nwg.x * WG);
}

// ---- binary: add, mul ----
@group(0) @binding(0) var<storage, read> bin_a: array<V>;
@group(0) @binding(1) var<storage, read> bin_b: array<V>;
@group(0) @binding(2) var<storage, read_write> bin_out: array<V>;
@group(0) @binding(3) var<uniform> bin_p: Params;

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < bin_p.n) {
    bin_out[i] = bin_a[i] + bin_b[i];
  }
}

@compute @workgroup_size(WG)
fn mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < bin_p.n) {
    bin_out[i] = bin_a[i] * bin_b[i];
  }
}

// ---- scale ----
@group(0) @binding(0) var<storage, read> sc_a: array<V>;
@group(0) @binding(1) var<storage, read_write> sc_out: array<V>;
@group(0) @binding(2) var<uniform> sc_p: Params;

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < sc_p.n) {
    sc_out[i] = sc_a[i] * sc_p.s;
  }
}

// ---- add_inplace: dst += src ----
@group(0) @binding(0) var<storage, read_write> ip_dst: array<V>;
@group(0) @binding(1) var<storage, read> ip_src: array<V>;
@group(0) @binding(2) var<uniform> ip_p: Params;

@compute @workgroup_size(WG)
fn add_inplace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < ip_p.n) {
    ip_dst[i] = ip_dst[i] + ip_src[i];
  }
}

// ---- broadcast: out = s[0] * factor ----
@group(0) @binding(0) var<storage, read> bc_s: array<f32>;
@group(0) @binding(1) var<storage, read_write> bc_out: array<V>;
@group(0) @binding(2) var<uniform> bc_p: Params;

@compute @workgroup_size(WG)
fn broadcast(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < bc_p.n) {
    bc_out[i] = V(bc_s[0] * bc_p.s);
  }
}
