// Row softmax over the last dim of x [R, Tq, Tk], with an optional causal mask.
//
// Row (r, i) — flattened as row = r·Tq + i — sees columns j < lim(i):
//   lim(i) = Tk                               without a mask,
//   lim(i) = clamp(i + offset + 1, 0, Tk)     with the mask "j > i + offset is masked out".
// Masked entries get probability exactly 0. A row with no visible column (possible only for a
// negative offset) is all zeros.
//
//   forward   y[j] = exp(x[j] − m) / s,  m = max_{j<lim} x[j],  s = Σ_{j<lim} exp(x[j] − m)
//   backward  dx[j] = y[j] · (dy[j] − Σ_k dy[k]·y[k])       (masked: y = 0, so dx = 0),
//             evaluated in the shifted form described below, exact for any y with Σ y = 1.
//
// Both kernels run one workgroup per row. WG threads stride the row (thread l takes columns
// l, l + WG, …: neighbouring threads read neighbouring addresses), reduce privately, then
// combine the WG partial results with a fixed binary tree in workgroup memory. WG is chosen
// from Tk alone, so the tree — and hence every bit of the result — is a fixed function of the
// shape: identical run to run.
//
// Forward reduction: each thread keeps an online pair (m, s): the running max m and
// s = Σ exp(x − m) over its columns, rescaled when the max grows. So exp never sees a positive
// argument (logits of ±1e4 stay finite) and the row is read once for the statistics and once
// more for the output. Pairs merge as
//   (m1, s1) ⊕ (m2, s2) = (M, s1·exp(m1 − M) + s2·exp(m2 − M)),  M = max(m1, m2).
// A thread with no columns holds (LOWEST, 0): LOWEST − LOWEST = 0, so no NaN appears.
//
// Backward reduction. Taken literally, dy[b] − Σ_k dy[k]·y[k] cancels catastrophically at a
// dominant entry b (y[b] = 1 − δ, δ ≪ 1): both terms are ≈ dy[b], their difference is ≈ δ·dy,
// and the f32 rounding of y[b] and of the sum leave it only ε/δ accurate. Since Σ_k y[k] = 1,
// any shift c gives the same value:
//   dy[j] − Σ_k dy[k]·y[k] = (dy[j] − c) − p,   p = Σ_k y[k]·(dy[k] − c),
// and with c = dy[b] at the row's largest y the b term drops out of p exactly, so p is a sum
// of small terms (weights y[k], k ≠ b, at most δ in total) and dx[b] = −y[b]·p is accurate to
// a few ε. The kernel finds b and p in ONE pass, online, as the forward finds m and s: each
// thread keeps (yb, c, p, S) — its largest y, c = dy there, p relative to c, S = Σ y — and
// re-bases when its best changes, p ← p + (c_old − c_new)·S. Pairs merge the same way,
// keeping the left one's best on ties:
//   (y1, c1, p1, S1) ⊕ (y2, c2, p2, S2) = (y1, c1, p1 + p2 + (c2 − c1)·S2, S1 + S2)  if y1 ≥ y2.
// The re-basing term is small exactly when it matters: if the best y is 1 − δ, the side that
// loses holds at most δ of the mass. A thread with no columns holds (−1, 0, 0, 0). (Workgroup
// memory: 4 arrays of WG floats, 4 KiB at WG = 256.)
//
// Rows fold into a 2-D grid past 65535 workgroups: row = wid.x + wid.y · nwg.x. The row index
// is workgroup-uniform, so the early return keeps every barrier in uniform control flow.
//
// Two paths, one body (softmax_fwd_row / softmax_bwd_row). The host builds this module with
// lanes_tree.wgsl appended (entries softmax_fwd / softmax_bwd: the tree all the way down) or,
// where the device has `subgroups`, with lanes_subgroup.wgsl prepended and softmax_subgroup.wgsl
// appended (entries softmax_fwd_subgroup / softmax_bwd_subgroup): the tree's last log2(lanes)
// levels then run as subgroup shuffles in registers, without barriers, and the row's statistics
// reach every thread by a subgroup broadcast instead of a load from workgroup memory. Each level
// merges the same pairs in the same order with the same expressions, so both paths give the
// same bits (lanes_subgroup.wgsl says why the subgroup path is faster).

override WG: u32 = 256;  // threads per row (power of two)
override SG_CAP: u32 = 128u;  // most lanes the subgroup levels use (a power of two; tests lower it)

const LOWEST: f32 = -0x1.fffffep+127f;  // −FLT_MAX, a finite "−∞"

struct Params {
  rows: u32,    // R·Tq
  tq: u32,      // Tq
  tk: u32,      // Tk
  causal: u32,  // 1: apply the mask with `offset`; 0: no mask
  offset: i32,  // causal offset
}

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

// Number of visible columns of row `row` (see the header).
fn visible(row: u32, p: Params) -> u32 {
  if (p.causal == 0u) {
    return p.tk;
  }
  let i = i32(row % p.tq);
  return u32(clamp(i + p.offset + 1, 0, i32(p.tk)));
}

// Lanes of the register levels: the subgroup size (capped by SG_CAP), or 1 — the tree all the
// way — on the tree path (sg = 1) and when a subgroup is wider than the workgroup (it would not
// be full). Uniform: subgroup_size is the same in every invocation.
fn shuffle_width(sg: u32) -> u32 {
  return select(1u, min(sg, SG_CAP), sg <= WG);
}

// ---- forward ----
@group(0) @binding(0) var<storage, read> f_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> f_y: array<f32>;
@group(0) @binding(2) var<uniform> f_p: Params;

@compute @workgroup_size(WG)
fn softmax_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= f_p.rows) {
    return;
  }
  softmax_fwd_row(row, t, 0u, 1u);
}

// Row `row` forward; lane and sg are the subgroup builtins on the subgroup path, 0 and 1 on the tree path.
fn softmax_fwd_row(row: u32, t: u32, lane: u32, sg: u32) {
  let Tk = f_p.tk;
  let lim = visible(row, f_p);
  let base = row * Tk;

  // Online max / sum of exponentials over this thread's visible columns.
  var m = LOWEST;
  var s = 0.0;
  for (var j = t; j < lim; j += WG) {
    let x = f_x[base + j];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }

  // Fixed tree over the workgroup: slot 0 ends with the row's (m, s). Levels in workgroup memory
  // down to the shuffle width (to stride 1 on the tree path), the rest in registers.
  red_m[t] = m;
  red_s[t] = s;
  workgroupBarrier();
  let lanes = shuffle_width(sg);
  for (var h = WG / 2u; h >= lanes; h = h >> 1u) {
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
  var M: f32;
  var S: f32;
  if (lanes > 1u) {
    // Every subgroup merges slots 0 .. lanes-1 the same way; lane 0 ends with the row's pair.
    var lm = red_m[lane & (lanes - 1u)];
    var ls = red_s[lane & (lanes - 1u)];
    for (var h = lanes / 2u; h > 0u; h = h >> 1u) {
      let m2 = lanes_down(lm, h);
      let s2 = lanes_down(ls, h);
      let mm = max(lm, m2);
      ls = ls * exp(lm - mm) + s2 * exp(m2 - mm);
      lm = mm;
    }
    M = lanes_first(lm);
    S = lanes_first(ls);
  } else {
    M = red_m[0];
    S = red_s[0];
  }
  let inv = 1.0 / S;  // S ≥ 1 whenever lim > 0 (the max term contributes exp(0) = 1)

  // Write every column: probabilities where visible, exact zeros where masked.
  for (var j = t; j < Tk; j += WG) {
    var y = 0.0;
    if (j < lim) {
      y = exp(f_x[base + j] - M) * inv;
    }
    f_y[base + j] = y;
  }
}

// ---- backward ----
@group(0) @binding(0) var<storage, read> b_y: array<f32>;
@group(0) @binding(1) var<storage, read> b_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> b_dx: array<f32>;
@group(0) @binding(3) var<uniform> b_p: Params;

var<workgroup> red_yb: array<f32, WG>;
var<workgroup> red_c: array<f32, WG>;
var<workgroup> red_p: array<f32, WG>;
// (red_s holds S.)

@compute @workgroup_size(WG)
fn softmax_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= b_p.rows) {
    return;
  }
  softmax_bwd_row(row, t, 0u, 1u);
}

// Row `row` backward; lane and sg as in softmax_fwd_row.
fn softmax_bwd_row(row: u32, t: u32, lane: u32, sg: u32) {
  let Tk = b_p.tk;
  let base = row * Tk;

  // Online (yb, c, p, S) over this thread's columns (see the header).
  var yb = -1.0;
  var c = 0.0;
  var p = 0.0;
  var S = 0.0;
  for (var j = t; j < Tk; j += WG) {
    let y = b_y[base + j];
    let d = b_dy[base + j];
    if (y > yb) {
      p += (c - d) * S;  // re-base the columns seen so far on the new shift
      c = d;
      yb = y;
    }
    p += y * (d - c);    // exactly 0 for the new best
    S += y;
  }

  // Fixed tree over the workgroup; the left operand's best wins ties.
  red_yb[t] = yb;
  red_c[t] = c;
  red_p[t] = p;
  red_s[t] = S;
  workgroupBarrier();
  let lanes = shuffle_width(sg);
  for (var h = WG / 2u; h >= lanes; h = h >> 1u) {
    if (t < h) {
      let yb2 = red_yb[t + h];
      let c2 = red_c[t + h];
      let p2 = red_p[t + h];
      let S2 = red_s[t + h];
      if (yb >= yb2) {
        p = p + p2 + (c2 - c) * S2;
      } else {
        p = p + p2 + (c - c2) * S;
        c = c2;
        yb = yb2;
      }
      S += S2;
      red_yb[t] = yb;
      red_c[t] = c;
      red_p[t] = p;
      red_s[t] = S;
    }
    workgroupBarrier();
  }
  var cr: f32;
  var pr: f32;
  if (lanes > 1u) {
    // The remaining levels in registers, merged as above (S, the mass, is shuffled too).
    let l = lane & (lanes - 1u);
    var lyb = red_yb[l];
    var lc = red_c[l];
    var lp = red_p[l];
    var lS = red_s[l];
    for (var h = lanes / 2u; h > 0u; h = h >> 1u) {
      let yb2 = lanes_down(lyb, h);
      let c2 = lanes_down(lc, h);
      let p2 = lanes_down(lp, h);
      let S2 = lanes_down(lS, h);
      if (lyb >= yb2) {
        lp = lp + p2 + (c2 - lc) * S2;
      } else {
        lp = lp + p2 + (lc - c2) * lS;
        lc = c2;
        lyb = yb2;
      }
      lS += S2;
    }
    cr = lanes_first(lc);
    pr = lanes_first(lp);
  } else {
    cr = red_c[0];
    pr = red_p[0];
  }

  for (var j = t; j < Tk; j += WG) {
    b_dx[base + j] = b_y[base + j] * ((b_dy[base + j] - cr) - pr);
  }
}
