// Bandwidth probe (bench only): y = x over n vec4s, one 16-byte load and one 16-byte store per
// invocation, consecutive invocations on consecutive addresses (fully coalesced). The buffers are
// far larger than any cache, so the time is DRAM (or, on a software adapter, host memory)
// traffic: 2 · 16 · n bytes. 1-D grid folded into 2-D past 65535 workgroups.

override WG: u32 = 256;

struct P {
  n: u32,  // vec4s
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i < p.n) {
    y[i] = x[i];
  }
}
