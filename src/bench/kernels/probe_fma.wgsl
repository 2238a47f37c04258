// FMA-throughput probe (bench only): each invocation runs `iters` rounds of 8 independent vec4
// fused multiply-adds (8 dependency chains, enough to hide FMA latency on GPUs and to fill SIMD
// lanes on a CPU), then writes one vec4 so nothing is dead code. iters comes from a uniform, so
// the compiler cannot fold the loop. FLOPs: invocations · iters · 8 · 4 lanes · 2.

override WG: u32 = 256;

struct P {
  n: u32,      // invocations that write (all of them)
  iters: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> p: P;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  let s = f32(i & 1023u) * 1e-3;
  var a0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 1.0;
  var a2 = a0 + 2.0;
  var a3 = a0 + 3.0;
  var a4 = a0 + 4.0;
  var a5 = a0 + 5.0;
  var a6 = a0 + 6.0;
  var a7 = a0 + 7.0;
  let m = vec4<f32>(0.9999);
  let c = vec4<f32>(1e-4);
  for (var k = 0u; k < p.iters; k++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  if (i < p.n) {
    out[i] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  }
}
