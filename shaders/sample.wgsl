// Sampling and speculative-decoding kernels for the generation engine (inference only).
// Exact semantics: samplingProbs, sampleCategorical, tokenLogprob, specResidual, specAccept in
// src/engine/backend.ts; the float64 reference is src/backends/cpu/sample.ts.
//
// The three row kernels run ONE WORKGROUP PER ROW of [R, V]: WG threads (a power of two, an
// override constant chosen from V on the host) loop over the row in strides, so any V works,
// from 1 to a full vocabulary. Every reduction is a fixed binary tree in workgroup memory, so
// each result is a fixed function of the inputs and the shape: bit-identical run to run.
// Rows fold into a 2-D grid past 65535 workgroups: row = wid.x + wid.y · nwg.x. The row index
// is workgroup-uniform, so the early return keeps every barrier in uniform control flow.
//
// samplingProbs (entry sampling_probs), per row:
//   1. argmax of x (ties → lowest index). Temperature 0: write the one-hot and stop.
//   2. top-k: the threshold is the k-th largest logit, found EXACTLY by bisection. f32 values
//      map to u32 "order keys" whose unsigned order is the float order; the threshold key τ is
//      built bit by bit from the top: try τ | bit, keep the bit if at least k logits have
//      key ≥ τ | bit (a parallel count). After 32 steps τ is the largest key with count ≥ k,
//      which is the key of the k-th largest value, so ties at the boundary are all kept.
//      (Ranking raw logits equals ranking z = x / T for T > 0, and it avoids the ties that
//      rounding x / T to f32 could create.)
//   3. e_i = exp(z_i − z_max) on the kept set (0 elsewhere), S = Σ e: stored in the output row,
//      which serves as scratch. Each thread later reads back only the columns it wrote itself
//      (same strided set), so no barrier is needed for that.
//   4. top-p: τ = the largest value with Σ_{e_j ≥ τ} e_j ≥ topP · S, by the same bit-by-bit
//      bisection over the bit patterns of e ≥ 0 (which order like the values); each step is a
//      fixed-order sum. A fixed-order f32 sum of non-negative terms is monotone in the set
//      summed (rounding is monotone), so the bisection finds the exact threshold of the mass
//      function it evaluates. Ties are kept by construction.
//   5. p_i = e_i / Σ_{kept} e, zero outside the kept set.
//
// sampleCategorical (entry sample_categorical), per row: thread l owns the contiguous chunk
// [l·c, (l+1)·c), c = ceil(V / WG). Chunk sums → a Hillis–Steele inclusive scan over the WG
// chunk sums (fixed order) → each thread knows the mass before its chunk. Goal = u · total.
// Every thread scans its own chunk from its exclusive prefix and reports the first column with
// w > 0 whose running sum exceeds the goal (threads past the goal report their chunk's
// first positive column at once); the minimum over threads is the draw. Taking the minimum
// (instead of trusting only the chunk whose sum "contains" the goal) keeps the answer
// well defined even where f32 rounding makes a chunk's scanned end differ from the next chunk's
// prefix. No column found (rounding at u → 1) → the last positive column; all-zero row → 0.
//
// tokenLogprob (entry token_logprob): row max of z = x / T, S = Σ exp(z − max), then
// z[id] − max − log S (T = 0 is mapped to 1 on the host).
//
// specResidual (entry spec_residual): max(0, p − q) elementwise, one invocation per element.
// specAccept (entry spec_accept): one invocation per row, u · q[d] < p[d] ? (d, 1) : (resid, 0).

override WG: u32 = 256;  // threads per workgroup (power of two for the row kernels)

const NONE: u32 = 0xffffffffu;           // "no column"
const LOWEST: f32 = -0x1.fffffep+127f;   // −FLT_MAX, a finite "−∞"
const OP_SUM: u32 = 0u;
const OP_MIN: u32 = 1u;
const OP_MAX: u32 = 2u;

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;

// ---- workgroup reductions (fixed binary trees; results are workgroup-uniform) ----

fn wg_reduce_f(v: f32, t: u32, op: u32) -> f32 {
  red_f[t] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h >> 1u) {
    if (t < h) {
      let a = red_f[t];
      let b = red_f[t + h];
      red_f[t] = select(a + b, max(a, b), op == OP_MAX);
    }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red_f[0]);
  workgroupBarrier();  // everyone has read red_f[0] before the next reduction overwrites it
  return r;
}

fn wg_reduce_u(v: u32, t: u32, op: u32) -> u32 {
  red_u[t] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h >> 1u) {
    if (t < h) {
      let a = red_u[t];
      let b = red_u[t + h];
      var r = a + b;
      if (op == OP_MIN) {
        r = min(a, b);
      } else if (op == OP_MAX) {
        r = max(a, b);
      }
      red_u[t] = r;
    }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red_u[0]);
  workgroupBarrier();
  return r;
}

// Argmax over (value, column) pairs: the larger value wins, the lower column on equal values;
// column NONE marks an empty slot. Returns the winning column (uniform).
fn wg_argmax(v: f32, i: u32, t: u32) -> u32 {
  red_f[t] = v;
  red_u[t] = i;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h >> 1u) {
    if (t < h) {
      let va = red_f[t];
      let ia = red_u[t];
      let vb = red_f[t + h];
      let ib = red_u[t + h];
      if (ib != NONE && (ia == NONE || vb > va || (vb == va && ib < ia))) {
        red_f[t] = vb;
        red_u[t] = ib;
      }
    }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red_u[0]);
  workgroupBarrier();
  return r;
}

// Order key: a < b (as f32, no NaN) ⇔ key(a) < key(b) (as u32). Positive floats get the sign
// bit set (above every negative); negative floats are bit-inverted (larger magnitude → smaller
// key). −0 is folded onto +0 so that equal floats get equal keys.
fn order_key(x: f32) -> u32 {
  var b = bitcast<u32>(x);
  if (b == 0x80000000u) {
    b = 0u;
  }
  if ((b & 0x80000000u) != 0u) {
    return ~b;
  }
  return b | 0x80000000u;
}

// ---- samplingProbs ----

struct ProbParams {
  rows: u32,
  v: u32,
  temperature: f32,  // 0 = greedy
  top_k: u32,        // 0 = off; ≥ v = off
  top_p: f32,        // in (0, 1); anything else = off
}

@group(0) @binding(0) var<storage, read> sp_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sp_out: array<f32>;
@group(0) @binding(2) var<uniform> sp: ProbParams;

@compute @workgroup_size(WG)
fn sampling_probs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) t: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= sp.rows) {
    return;
  }
  let V = sp.v;
  let base = row * V;

  // 1. Argmax (lowest column among equal maxima).
  var bv = 0.0;
  var bi = NONE;
  for (var j = t; j < V; j += WG) {
    let x = sp_x[base + j];
    if (bi == NONE || x > bv) {
      bv = x;
      bi = j;
    }
  }
  let imax = wg_argmax(bv, bi, t);
  if (sp.temperature == 0.0) {
    for (var j = t; j < V; j += WG) {
      sp_out[base + j] = select(0.0, 1.0, j == imax);
    }
    return;
  }

  // 2. Top-k threshold key (0 keeps everything): the k-th largest logit, by bisection.
  var floor_key = 0u;
  if (sp.top_k >= 1u && sp.top_k < V) {
    for (var b = 0u; b < 32u; b++) {
      let cand = floor_key | (0x80000000u >> b);
      var c = 0u;
      for (var j = t; j < V; j += WG) {
        c += select(0u, 1u, order_key(sp_x[base + j]) >= cand);
      }
      if (wg_reduce_u(c, t, OP_SUM) >= sp.top_k) {
        floor_key = cand;
      }
    }
  }

  // 3. Unnormalized softmax over the kept set, parked in the output row.
  let T = sp.temperature;
  let zmax = sp_x[base + imax] / T;  // the max of z = x / T is at the argmax of x (T > 0)
  var s = 0.0;
  for (var j = t; j < V; j += WG) {
    let x = sp_x[base + j];
    var e = 0.0;
    if (order_key(x) >= floor_key) {
      e = exp(x / T - zmax);
    }
    sp_out[base + j] = e;
    s += e;
  }
  let S = wg_reduce_f(s, t, OP_SUM);

  // 4. Top-p threshold on the bit patterns of e ≥ 0 (0 keeps everything). Bit 31 (the sign)
  //    is never set, so the bisection starts at bit 30.
  var tau = 0u;
  var kept = S;  // Σ e over e ≥ tau: the same fixed-order sum as S while tau = 0
  if (sp.top_p > 0.0 && sp.top_p < 1.0) {
    let goal = sp.top_p * S;
    for (var b = 1u; b < 32u; b++) {
      let cand = tau | (0x80000000u >> b);
      var m = 0.0;
      for (var j = t; j < V; j += WG) {
        let e = sp_out[base + j];
        if (bitcast<u32>(e) >= cand) {
          m += e;
        }
      }
      let mass = wg_reduce_f(m, t, OP_SUM);
      if (mass >= goal) {
        tau = cand;
        kept = mass;
      }
    }
  }

  // 5. Renormalize over the kept set; exact zeros elsewhere.
  for (var j = t; j < V; j += WG) {
    let e = sp_out[base + j];
    sp_out[base + j] = select(0.0, e / kept, bitcast<u32>(e) >= tau);
  }
}

// ---- sampleCategorical ----

struct CatParams {
  rows: u32,
  v: u32,
}

@group(0) @binding(0) var<storage, read> sc_w: array<f32>;
@group(0) @binding(1) var<storage, read> sc_u: array<f32>;
@group(0) @binding(2) var<storage, read_write> sc_out: array<i32>;
@group(0) @binding(3) var<uniform> sc: CatParams;

@compute @workgroup_size(WG)
fn sample_categorical(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) t: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= sc.rows) {
    return;
  }
  let V = sc.v;
  let base = row * V;
  let chunk = (V + WG - 1u) / WG;
  let lo = min(t * chunk, V);
  let hi = min(lo + chunk, V);

  // Chunk sum and the chunk's last positive column.
  var s = 0.0;
  var last = 0u;
  for (var i = lo; i < hi; i++) {
    let w = sc_w[base + i];
    s += w;
    if (w > 0.0) {
      last = i;
    }
  }

  // Inclusive Hillis–Steele scan of the chunk sums: after the step with offset o,
  // red_f[l] = Σ of chunks (l − 2o, l]; read everything, barrier, then write.
  red_f[t] = s;
  workgroupBarrier();
  for (var o = 1u; o < WG; o = o << 1u) {
    var v = red_f[t];
    if (t >= o) {
      v = red_f[t - o] + v;
    }
    workgroupBarrier();
    red_f[t] = v;
    workgroupBarrier();
  }
  let total = red_f[WG - 1u];
  var acc = 0.0;
  if (t > 0u) {
    acc = red_f[t - 1u];
  }

  // First column of this chunk (with w > 0) whose running sum passes the goal.
  let goal = sc_u[row] * total;
  var found = NONE;
  for (var i = lo; i < hi; i++) {
    let w = sc_w[base + i];
    acc += w;
    if (w > 0.0 && acc > goal) {
      found = i;
      break;
    }
  }
  let first = wg_reduce_u(found, t, OP_MIN);
  let last_pos = wg_reduce_u(last, t, OP_MAX);
  if (t == 0u) {
    var pick = 0;
    if (total > 0.0) {
      pick = i32(min(select(first, last_pos, first == NONE), last_pos));
    }
    sc_out[row] = pick;
  }
}

// ---- tokenLogprob ----

struct LogprobParams {
  rows: u32,
  v: u32,
  temperature: f32,  // > 0 (greedy's 0 arrives as 1)
}

@group(0) @binding(0) var<storage, read> lp_x: array<f32>;
@group(0) @binding(1) var<storage, read> lp_ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> lp_out: array<f32>;
@group(0) @binding(3) var<uniform> lp: LogprobParams;

@compute @workgroup_size(WG)
fn token_logprob(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) t: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= lp.rows) {
    return;
  }
  let V = lp.v;
  let base = row * V;
  let T = lp.temperature;
  var m = LOWEST;
  for (var j = t; j < V; j += WG) {
    m = max(m, lp_x[base + j] / T);
  }
  let M = wg_reduce_f(m, t, OP_MAX);
  var s = 0.0;
  for (var j = t; j < V; j += WG) {
    s += exp(lp_x[base + j] / T - M);
  }
  let S = wg_reduce_f(s, t, OP_SUM);
  if (t == 0u) {
    let id = u32(lp_ids[row]);
    lp_out[row] = (lp_x[base + id] / T - M) - log(S);
  }
}

// ---- specResidual ----

struct ElemParams {
  n: u32,
}

@group(0) @binding(0) var<storage, read> sr_p: array<f32>;
@group(0) @binding(1) var<storage, read> sr_q: array<f32>;
@group(0) @binding(2) var<storage, read_write> sr_out: array<f32>;
@group(0) @binding(3) var<uniform> sr: ElemParams;

@compute @workgroup_size(WG)
fn spec_residual(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= sr.n) {
    return;
  }
  sr_out[i] = max(0.0, sr_p[i] - sr_q[i]);
}

// ---- specAccept ----

struct AcceptParams {
  rows: u32,
  v: u32,
}

@group(0) @binding(0) var<storage, read> sa_p: array<f32>;
@group(0) @binding(1) var<storage, read> sa_q: array<f32>;
@group(0) @binding(2) var<storage, read> sa_draft: array<i32>;
@group(0) @binding(3) var<storage, read> sa_u: array<f32>;
@group(0) @binding(4) var<storage, read> sa_resid: array<i32>;
@group(0) @binding(5) var<storage, read_write> sa_out: array<i32>;
@group(0) @binding(6) var<uniform> sa: AcceptParams;

@compute @workgroup_size(WG)
fn spec_accept(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * (nwg.x * WG);
  if (r >= sa.rows) {
    return;
  }
  let d = sa_draft[r];
  let k = r * sa.v + u32(d);
  let ok = sa_u[r] * sa_q[k] < sa_p[k];
  sa_out[2u * r] = select(sa_resid[r], d, ok);
  sa_out[2u * r + 1u] = select(0, 1, ok);
}
