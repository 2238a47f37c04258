// Loss-free balancing, one or several MoE layers per dispatch (Backend.moeBiasUpdate is one):
// b_e += γ·sign(mean(c) − c_e), c_e = offsets[e+1] − offsets[e] (the plan's offsets, see
// moe_route_plan.wgsl), mean = M / E; sign(M/E − c_e) = sign(M − E·c_e), taken exactly in
// integers (no rounding of the mean). Workgroup l updates layer l's bias, thread t experts t,
// t + WG, …; each expert's update is the same expression whichever dispatch it is in.
//
// The host (moe_route.ts) instantiates the `layer` section once per layer (`$` → the layer's
// suffix, `@binding(#k)` numbered from 2·l) and writes the entry's calls: one `if` per layer at
// the `// LAYERS` line. Every layer of a dispatch has the same E.

// ==== layer
@group(0) @binding(#0) var<storage, read_write> UB$: array<f32>;
@group(0) @binding(#1) var<storage, read> UO$: array<i32>;

fn update$(t: u32) {
  let E = um_p.e;
  let m = UO$[E];
  for (var e = t; e < E; e += WG) {
    let c = UO$[e + 1u] - UO$[e];
    let s = sign(m - i32(E) * c);  // = sign(mean − c_e)
    UB$[e] += um_p.gamma * f32(s);
  }
}

// ==== entry
override WG: u32 = 64;

struct BiasParams {
  e: u32,
  gamma: f32,
}

@group(0) @binding(#U) var<uniform> um_p: BiasParams;

@compute @workgroup_size(WG)
fn bias_update_many(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let l = wid.x;
  // LAYERS
}
