// Split-K epilogue for matmul.wgsl: out[i] = Σ_{s = 0 … splits-1} partial[s · total + i],
// summed in increasing s by one thread per output (fixed order: deterministic, no atomics).
// Neighbouring threads read neighbouring addresses of each partial slab, so reads coalesce.
// 1-D grid, folded into y past 65535 workgroups (see grid1d in runtime.ts).

override WG: u32 = 256u;

struct Params {
  total: u32,  // batch · M · N
  splits: u32,
}

@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= p.total) { return; }
  var acc = partial[i];
  for (var s = 1u; s < p.splits; s++) {
    acc += partial[s * p.total + i];
  }
  out[i] = acc;
}
