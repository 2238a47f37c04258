// The router's sigmoid gate, elementwise over flat f32 tensors.
//
//   sigmoid      y  = σ(x) = 1/(1 + e^{−x})
//   sigmoid_bwd  dx = dy · y · (1 − y)          (y = σ(x), the forward output)
//
// σ is evaluated from e = exp(−|x|) ∈ (0, 1]: σ(|x|) = 1/(1+e), σ(−|x|) = e/(1+e), so no exp
// can overflow for large |x| and both tails keep full relative precision.
//
// V is the element type one invocation handles. As written V = vec4<f32> (16-byte loads and
// stores; ceil(n/4) vec4s cover the tensor, lanes past n−1 land in the pooled buffer's padding);
// the TS side also compiles a copy with `alias V = f32;` for buffers whose byte size is not a
// multiple of 16. Launch: 1-D, WG invocations per workgroup, folded into 2-D past 65535
// workgroups: i = gid.x + gid.y·(nwg.x·WG).

alias V = vec4<f32>;

override WG: u32 = 256;

struct Params {
  n: u32,  // number of V-elements
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * (nwg.x * WG);
}

// ---- y = σ(x) ----
@group(0) @binding(0) var<storage, read> sg_x: array<V>;
@group(0) @binding(1) var<storage, read_write> sg_y: array<V>;
@group(0) @binding(2) var<uniform> sg_p: Params;

@compute @workgroup_size(WG)
fn sigmoid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < sg_p.n) {
    let x = sg_x[i];
    let e = exp(-abs(x));
    let r = 1.0 / (1.0 + e);
    // x ≥ 0: σ(x) = 1/(1+e);  x < 0: σ(x) = e/(1+e) = e·r.
    sg_y[i] = select(e * r, r, x >= V(0.0));
  }
}

// ---- dx = dy·y·(1 − y) ----
@group(0) @binding(0) var<storage, read> sgb_y: array<V>;
@group(0) @binding(1) var<storage, read> sgb_dy: array<V>;
@group(0) @binding(2) var<storage, read_write> sgb_dx: array<V>;
@group(0) @binding(3) var<uniform> sgb_p: Params;

@compute @workgroup_size(WG)
fn sigmoid_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i < sgb_p.n) {
    let y = sgb_y[i];
    sgb_dx[i] = sgb_dy[i] * y * (1.0 - y);
  }
}
