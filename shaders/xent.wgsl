// Fused, numerically stable softmax cross-entropy. logits [N, V], targets i32 [N].
//
// forward  lse[n] = log Σ_j exp(logits[n, j]);  loss[n] = lse[n] − logits[n, t_n]  (0 if t_n < 0)
//   Per row, a fixed binary tree over TPR lanes (TPR from V alone: it fixes the bits). Lane l
//   keeps an online softmax pair (m, s) over columns l, l + TPR, …: running max m and
//   s = Σ exp(x − m), rescaled whenever the max grows. So the row is read once and exp never
//   sees a positive argument: logits of ±1e4 stay finite. The TPR pairs are merged by the tree,
//     (m1, s1) ⊕ (m2, s2) = (M, s1·exp(m1 − M) + s2·exp(m2 − M)),  M = max(m1, m2),
//   level h combining lane t with lane t + h for t < h, so the result is a fixed function of V:
//   bit-identical run to run. An empty lane starts at (LOWEST, 0), a finite "−∞" so that
//   LOWEST − LOWEST = 0 and no NaN appears.
//   Threads (the host's rowShape, as RMSNorm's): R threads run a row, thread i holding lanes
//   i + R·k (k < TPR / R) in registers and doing the levels h ≥ R there, the levels h < R across
//   the row's threads in workgroup memory; ROWS rows share a workgroup. The same pairs in the
//   same order as a workgroup of TPR threads per row, with fewer threads and barriers.
//   Row groups fold into a 2-D grid past 65535: group = wid.x + wid.y · nwg.x.
//
// backward dlogits[n, j] = (exp(logits[n, j] − lse[n]) − 1[j = t_n]) · dloss[n]  (0 if t_n < 0)
//   One invocation per element, 1-D grid over N·V (folded into 2-D), row = i / V.
//   With scalar = 1 (the mean's backward) dloss is one element and every row takes
//   dloss[0] · factor: the f32 product broadcastScalar(dloss, [N], factor) would write to each
//   row, so the same bits without that [N] tensor and its dispatch.

override WG: u32 = 256;    // threads per workgroup (forward: R · ROWS)
override TPR: u32 = 256;   // forward: the row tree's width (power of two): fixes the bits
override R: u32 = 256;     // forward: threads per row (power of two ≤ TPR, ≥ TPR / VMAX)
override ROWS: u32 = 1;    // forward: rows per workgroup
const VMAX: u32 = 32u;     // tree lanes one thread may hold

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

// (m, s) ⊕ (m2, s2): lane t's pair merged with lane t + h's.
fn merge(m: f32, s: f32, m2: f32, s2: f32) -> vec2<f32> {
  let mm = max(m, m2);
  return vec2<f32>(mm, s * exp(m - mm) + s2 * exp(m2 - mm));
}

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = wid.x + wid.y * nwg.x;  // workgroup-uniform: returning keeps the barriers uniform
  if (g * ROWS >= f_p.rows) {
    return;
  }
  let i = lid % R;
  let row = g * ROWS + lid / R;
  let V = select(0u, f_p.vocab, row < f_p.rows); // rows past N only take part in the barriers
  let base = row * f_p.vocab;

  // Online max / sum of exponentials of each of this thread's lanes i + R·k over its columns.
  var m: array<f32, VMAX>;
  var s: array<f32, VMAX>;
  for (var k = 0u; k < TPR / R; k++) {
    var mk = LOWEST;
    var sk = 0.0;
    for (var j = i + R * k; j < V; j += TPR) {
      let x = f_logits[base + j];
      if (x > mk) {
        sk = sk * exp(mk - x) + 1.0;
        mk = x;
      } else {
        sk += exp(x - mk);
      }
    }
    m[k] = mk;
    s[k] = sk;
  }
  // The tree's levels h ≥ R in registers: lane i + R·k with lane i + R·(k + h / R).
  for (var h = TPR / 2u; h >= R; h = h >> 1u) {
    let ks = h / R;
    for (var k = 0u; k < ks; k++) {
      let r = merge(m[k], s[k], m[k + ks], s[k + ks]);
      m[k] = r.x;
      s[k] = r.y;
    }
  }
  // The levels h < R across the row's threads.
  var mt = m[0];
  var st = s[0];
  red_m[lid] = mt;
  red_s[lid] = st;
  workgroupBarrier();
  for (var h = R / 2u; h > 0u; h = h >> 1u) {
    if (i < h) {
      let r = merge(mt, st, red_m[lid + h], red_s[lid + h]);
      mt = r.x;
      st = r.y;
      red_m[lid] = mt;
      red_s[lid] = st;
    }
    workgroupBarrier();
  }

  if (i == 0u && row < f_p.rows) {
    let lse = mt + log(st);
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
