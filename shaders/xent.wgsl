// Fused, numerically stable softmax cross-entropy. logits [N, V], targets i32 [N].
//
// forward  lse[n] = log Σ_j exp(logits[n, j]);  loss[n] = lse[n] − logits[n, t_n]  (0 if t_n < 0)
//   One workgroup per row, WG threads striding the row (thread l takes columns l, l + WG, …:
//   coalesced). Each thread keeps an online softmax pair (m, s): running max m and
//   s = Σ exp(x − m) over its columns, rescaled whenever the max grows. So the row is read
//   once and exp never sees a positive argument: logits of ±1e4 stay finite. The WG pairs are
//   merged by a fixed binary tree in workgroup memory,
//     (m1, s1) ⊕ (m2, s2) = (M, s1·exp(m1 − M) + s2·exp(m2 − M)),  M = max(m1, m2),
//   so the result is a fixed function of V: bit-identical run to run. An empty thread starts at
//   (LOWEST, 0), a finite "−∞" so that LOWEST − LOWEST = 0 and no NaN appears.
//   Rows fold into a 2-D grid past 65535: row = wid.x + wid.y · nwg.x.
//
// backward dlogits[n, j] = (exp(logits[n, j] − lse[n]) − 1[j = t_n]) · dloss[n]  (0 if t_n < 0)
//   One invocation per element, 1-D grid over N·V (folded into 2-D), row = i / V.
//   With scalar = 1 (the mean's backward) dloss is one element and every row takes
//   dloss[0] · factor: the f32 product broadcastScalar(dloss, [N], factor) would write to each
//   row, so the same bits without that [N] tensor and its dispatch.

override WG: u32 = 256;

const LOWEST: f32 = -0x1.fffffep+127f;  // −FLT_MAX

struct Params {
  rows: u32,    // N (forward) or N·V (backward: elements)
  vocab: u32,   // V
  scalar: u32,  // backward: 1 = dloss is [1], scaled by factor; 0 = dloss is [N]
  factor: f32,  // backward, scalar = 1
}

// ---- forward ----
@group(0) @binding(0) var<storage, read> f_logits: array<f32>;
@group(0) @binding(1) var<storage, read> f_targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> f_loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> f_lse: array<f32>;
@group(0) @binding(4) var<uniform> f_p: Params;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;  // workgroup-uniform: returning keeps the barriers uniform
  if (row >= f_p.rows) {
    return;
  }
  let V = f_p.vocab;
  let base = row * V;

  // Online max / sum of exponentials over this thread's columns.
  var m = LOWEST;
  var s = 0.0;
  for (var j = t; j < V; j += WG) {
    let x = f_logits[base + j];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }

  // Fixed tree over the workgroup.
  red_m[t] = m;
  red_s[t] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h >> 1u) {
    if (t < h) {
      let m2 = red_m[t + h];
      let s2 = red_s[t + h];
      let mm = max(m, m2);
      s = s * exp(m - mm) + s2 * exp(m2 - mm);
      m = mm;
      red_m[t] = m;
      red_s[t] = s;
    }
    workgroupBarrier();
  }

  if (t == 0u) {
    let lse = m + log(s);
    f_lse[row] = lse;
    let tgt = f_targets[row];
    var loss = 0.0;
    if (tgt >= 0 && u32(tgt) < V) {
      loss = lse - f_logits[base + u32(tgt)];
    }
    f_loss[row] = loss;
  }
}

// ---- backward ----
@group(0) @binding(0) var<storage, read> b_logits: array<f32>;
@group(0) @binding(1) var<storage, read> b_targets: array<i32>;
@group(0) @binding(2) var<storage, read> b_lse: array<f32>;
@group(0) @binding(3) var<storage, read> b_dloss: array<f32>;
@group(0) @binding(4) var<storage, read_write> b_dlogits: array<f32>;
@group(0) @binding(5) var<uniform> b_p: Params;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= b_p.rows) {
    return;
  }
  let V = b_p.vocab;
  let row = i / V;
  let j = i - row * V;
  let tgt = b_targets[row];
  var g = 0.0;
  if (tgt >= 0) {
    let p = exp(b_logits[i] - b_lse[row]);
    let scalar = b_p.scalar != 0u;
    let dl = b_dloss[select(row, 0u, scalar)];
    let d = select(dl, dl * b_p.factor, scalar);
    g = (p - select(0.0, 1.0, u32(tgt) == j)) * d;
  }
  b_dlogits[i] = g;
}
