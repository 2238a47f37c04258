// DeepSeekMoE group-limited top-K routing (spec §2), forward and backward.
//
// route (forward): scores [N, E] f32, bias [E] f32 → idx i32 [N, K], weight f32 [N, K]
//   sel[e]      = scores[n, e] + bias[e]                    (f32; selection only)
//   group g     = experts [g·gs, (g+1)·gs), gs = E / G
//   gscore[g]   = sum of the two largest sel in g           (the single sel when gs = 1)
//   keep the topk_group groups with the best gscore, then the K best sel among their experts
//   weight[k]   = scores[n, idx[k]] (NOT the biased sel), / Σ_j scores[n, idx[j]] if norm, · scale
//   Order: "a before b" ⇔ val_a > val_b, or val_a == val_b and a < b (ties → the lower index),
//   for groups and for experts. This is a strict total order, so every candidate has a unique
//   rank = number of candidates before it, and the chosen ones are exactly ranks 0..K−1:
//   idx[n, rank] = e lists them in decreasing sel order with no sorting pass and no races.
//
//   Layout: one workgroup handles ROWS token rows with TPR threads each (WG = ROWS·TPR; the TS
//   side picks TPR ≈ E rounded up to a power of two, at most 64, so small E packs many rows into
//   one workgroup and E = 256 gets a whole workgroup per row). Per row, in workgroup memory:
//     1. sel[E]              thread lane loads experts lane, lane + TPR, …
//     2. gscore[G]           one thread per group scans its gs experts for the top two values
//     3. gkeep[G]            one thread per group counts the groups before it (stops at
//                            topk_group: only "kept or not" matters)
//     4. chosen[K]           one thread per kept expert counts the kept experts before it
//                            (stops at K); rank < K ⇒ chosen[rank] = e
//     5. outputs             thread k < K: S = Σ_j scores[chosen[j]] in j order, writes idx, weight
//   Rank counting is O(E) per expert (O(E²/TPR) per thread, cut short at rank K): at E ≤ 256
//   that is a few hundred workgroup-memory reads per thread, all broadcast (every thread of a
//   row reads the same sel[f] at the same time), with no barrier inside the loops.
//   Rows past N (the last workgroup) skip the work but still reach every barrier.
//   (Where the device has `subgroups`, moe_route_subgroup.wgsl's entries replace route and
//   route_sigmoid: the same choice in K rounds of subgroup argmax, no O(E²) rank counting.)
//   Grid: one workgroup per ROWS rows, folded into 2-D: wgIndex = wid.x + wid.y·nwg.x.
//
// route_sigmoid (forward, fused with the router's gate): logits [N, E] f32, bias [E] f32 →
//   scores = σ(logits) [N, E] f32 (written out: the backward and the balance loss read them), then
//   route on the scores exactly as `route` does. σ is the scalar form of moe_route_sigmoid.wgsl's
//   `sigmoid` (same expression, so the same bits). Layout as in `route`, with one step before 1:
//     0. sig[E]              thread lane: σ of experts lane, lane + TPR, … into sig and out to
//                            scores; then a barrier, and step 1 reads sel's scores from sig.
//   Step 5 reads the chosen scores from sig too: they are in workgroup memory already, and the
//   scores buffer was written by other threads of the workgroup with no storage barrier since.
//   Going through workgroup memory and a barrier also rounds each σ to f32 before it is added
//   (step 1) or summed (step 5), exactly where the unfused path stored it: a compiler cannot
//   fuse σ's last multiply (e·r) with the bias add into one FMA across the barrier.
//   Workgroup memory: five CAP arrays (route: four).
//
// route_bwd: dScores [N, E] from dWeight [N, K] (selection is not differentiable)
//   dScores[n, e] = 0 unless e = idx[n, k]; then
//     !norm: scale · dW[k]
//      norm: w_k = scale·s_k/S, S = Σ_j s_j  ⇒  ∂L/∂s_k = scale · (dW[k] − Σ_j dW[j]·s_j / S) / S
//   One invocation per element of dScores (coalesced writes of the zeros); the K indices of the
//   row are read by all E threads of the row (broadcast loads). 1-D grid folded into 2-D.
//
// route_sigmoid_bwd, route_sigmoid_bwd_extra: dLogits [N, E] for route_sigmoid, from the scores
// y [N, E] (its output), idx, dWeight and, in the _extra entry, dExtra [N, E]: a gradient that
// reached the scores from elsewhere (the balance loss):
//   dy       = dScores (route_bwd's value)  [+ dExtra]
//   dLogits  = dy · y · (1 − y)             (moe_route_sigmoid.wgsl's sigmoid_bwd, same expression)
// The bits of route_bwd, then the add (the tape's, a + b = b + a), then sigmoid_bwd. In _extra
// the route part goes through workgroup memory and a barrier before the add, so that it is
// rounded to f32 first as the unfused path stored it (scale·dW + dExtra must not become one FMA).

override WG: u32 = 64;    // invocations per workgroup: ROWS · TPR (route), 128 (the subgroup entries), any (backward)
override TPR: u32 = 64;   // threads per token row
override ROWS: u32 = 1;   // token rows per workgroup
override CAP: u32 = 256;  // workgroup slots per array; the TS side ensures ROWS·E ≤ CAP

struct RouteParams {
  n: u32,           // tokens N
  e: u32,           // experts E
  n_group: u32,     // G (divides E)
  topk_group: u32,  // groups kept per token
  k: u32,           // experts per token
  norm: u32,        // 1: normalize the chosen scores to sum to 1
  scale: f32,       // routed scaling factor
}

// Bindings: the storage buffers, then the uniform block.
//   route:          0 scores, 1 bias, 2 idx, 3 weight, 4 params
//   route_sigmoid:  0 logits, 1 bias, 2 idx, 3 weight, 4 scores (out), 5 params
// The helpers below take the params by value, as each entry point reads its own binding.
@group(0) @binding(0) var<storage, read> r_scores: array<f32>;
@group(0) @binding(0) var<storage, read> r_logits: array<f32>;
@group(0) @binding(1) var<storage, read> r_bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> r_idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> r_weight: array<f32>;
@group(0) @binding(4) var<uniform> r_p: RouteParams;
@group(0) @binding(4) var<storage, read_write> r_scores_out: array<f32>;
@group(0) @binding(5) var<uniform> rs_p: RouteParams;

var<workgroup> sel: array<f32, CAP>;     // [ROWS, E] biased scores
var<workgroup> gscore: array<f32, CAP>;  // [ROWS, G] group scores
var<workgroup> gkeep: array<u32, CAP>;   // [ROWS, G] 1 if the group is kept
var<workgroup> chosen: array<u32, CAP>;  // [ROWS, K] chosen experts by rank
var<workgroup> sig: array<f32, CAP>;     // [ROWS, E] σ(logits) (route_sigmoid; the subgroup entries' scores)

// a (value va, index ia) comes strictly before b in the routing order.
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

// σ(x), the scalar form of moe_route_sigmoid.wgsl's `sigmoid`: from e = exp(−|x|) ∈ (0, 1],
// σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) = e·r for x < 0 (no overflow, full relative precision).
fn sigmoid1(x: f32) -> f32 {
  let e = exp(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, x >= 0.0);
}

// One invocation's token row and its slices of the workgroup arrays and of the [N, ·] buffers.
struct Row {
  live: bool,  // n < N (rows past N skip the work but still reach every barrier)
  lane: u32,   // thread within the row, 0..TPR−1
  n: u32,      // token
  sb: u32,     // this row's slice of sel / sig
  gb: u32,     // … of gscore / gkeep
  cb: u32,     // … of chosen
  srow: u32,   // this row in scores / logits
}

fn row_of(p: RouteParams, lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> Row {
  let row = lid / TPR;
  let n = (wid.x + wid.y * nwg.x) * ROWS + row;
  return Row(n < p.n, lid - row * TPR, n, row * p.e, row * p.n_group, row * p.k, n * p.e);
}

// Step 2's score of group g (experts g·gs … g·gs + gs − 1) of the row whose sel starts at sb:
// top-1 + top-2 (one f32 add), the single sel when gs = 1. The subgroup entries
// (moe_route_subgroup.wgsl) score groups with it too.
fn group_score(sb: u32, g: u32, gs: u32) -> f32 {
  let first = sb + g * gs;
  if (gs == 1u) {
    return sel[first];
  }
  let a = sel[first];
  let b = sel[first + 1u];
  var m1 = max(a, b);
  var m2 = min(a, b);
  for (var j = 2u; j < gs; j++) {
    let v = sel[first + j];
    if (v > m1) {
      m2 = m1;
      m1 = v;
    } else if (v > m2) {
      m2 = v;
    }
  }
  return m1 + m2;
}

// Steps 2–4, shared by route and route_sigmoid: from the biased scores of the row in sel to the
// chosen experts in chosen[cb .. cb + K), each step ending in a barrier. Called in uniform control
// flow; only the work inside depends on the row.
fn choose(p: RouteParams, w: Row) {
  let E = p.e;
  let G = p.n_group;
  let gs = E / G;
  let K = p.k;

  // 2. group score = top-1 + top-2 of the group's sel (one f32 add)
  if (w.live) {
    for (var g = w.lane; g < G; g += TPR) {
      gscore[w.gb + g] = group_score(w.sb, g, gs);
    }
  }
  workgroupBarrier();

  // 3. keep group g iff fewer than topk_group groups come before it
  if (w.live) {
    for (var g = w.lane; g < G; g += TPR) {
      let v = gscore[w.gb + g];
      var rank = 0u;
      for (var h = 0u; h < G && rank < p.topk_group; h++) {
        if (before(gscore[w.gb + h], h, v, g)) {
          rank++;
        }
      }
      gkeep[w.gb + g] = select(0u, 1u, rank < p.topk_group);
    }
  }
  workgroupBarrier();

  // 4. rank each kept expert among the kept experts; ranks 0..K−1 are the choice
  if (w.live) {
    for (var e = w.lane; e < E; e += TPR) {
      if (gkeep[w.gb + e / gs] != 0u) {
        let v = sel[w.sb + e];
        var rank = 0u;
        for (var f = 0u; f < E && rank < K; f++) {
          if (gkeep[w.gb + f / gs] != 0u && before(sel[w.sb + f], f, v, e)) {
            rank++;
          }
        }
        if (rank < K) {
          chosen[w.cb + rank] = e;
        }
      }
    }
  }
  workgroupBarrier();
}

// Step 5's output for choice k (expert e, original score s; S = Σ_j of the chosen scores).
fn write_choice(p: RouteParams, w: Row, k: u32, e: u32, s: f32, S: f32) {
  var wt = s;
  if (p.norm != 0u) {
    wt = wt / S;
  }
  r_idx[w.n * p.k + k] = i32(e);
  r_weight[w.n * p.k + k] = wt * p.scale;
}

@compute @workgroup_size(WG)
fn route(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = r_p;
  let w = row_of(p, lid, wid, nwg);
  let E = p.e;
  let K = p.k;

  // 1. biased scores (f32 add, as the CPU reference rounds it)
  if (w.live) {
    for (var e = w.lane; e < E; e += TPR) {
      sel[w.sb + e] = r_scores[w.srow + e] + r_bias[e];
    }
  }
  workgroupBarrier();

  choose(p, w);

  // 5. weights from the ORIGINAL scores, normalized over the chosen ones (sum in rank order)
  if (w.live) {
    for (var k = w.lane; k < K; k += TPR) {
      var S = 0.0;
      for (var j = 0u; j < K; j++) {
        S += r_scores[w.srow + chosen[w.cb + j]];
      }
      let e = chosen[w.cb + k];
      write_choice(p, w, k, e, r_scores[w.srow + e], S);
    }
  }
}

@compute @workgroup_size(WG)
fn route_sigmoid(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = rs_p;
  let w = row_of(p, lid, wid, nwg);
  let E = p.e;
  let K = p.k;

  // 0. scores = σ(logits): kept in sig for steps 1 and 5, written out for the backward
  if (w.live) {
    for (var e = w.lane; e < E; e += TPR) {
      let s = sigmoid1(r_logits[w.srow + e]);
      sig[w.sb + e] = s;
      r_scores_out[w.srow + e] = s;
    }
  }
  workgroupBarrier();

  // 1. biased scores, from sig (see the header: the barrier keeps σ and the add apart)
  if (w.live) {
    for (var e = w.lane; e < E; e += TPR) {
      sel[w.sb + e] = sig[w.sb + e] + r_bias[e];
    }
  }
  workgroupBarrier();

  choose(p, w);

  // 5. weights from the scores in sig, as route's step 5
  if (w.live) {
    for (var k = w.lane; k < K; k += TPR) {
      var S = 0.0;
      for (var j = 0u; j < K; j++) {
        S += sig[w.sb + chosen[w.cb + j]];
      }
      let e = chosen[w.cb + k];
      write_choice(p, w, k, e, sig[w.sb + e], S);
    }
  }
}

// ---- backward ----
struct BwdParams {
  count: u32,  // N · E
  e: u32,      // experts E
  k: u32,      // experts per token
  norm: u32,
  scale: f32,
}

// Bindings (storage buffers, then the uniform block):
//   route_bwd:                0 scores, 1 idx, 2 dWeight, 3 dScores, 4 params
//   route_sigmoid_bwd:        0 scores, 1 idx, 2 dWeight, 3 dLogits, 4 params
//   route_sigmoid_bwd_extra:  0 scores, 1 idx, 2 dWeight, 3 dLogits, 4 dExtra, 5 params
@group(0) @binding(0) var<storage, read> b_scores: array<f32>;
@group(0) @binding(1) var<storage, read> b_idx: array<i32>;
@group(0) @binding(2) var<storage, read> b_dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_ds: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_dlogits: array<f32>;
@group(0) @binding(4) var<uniform> b_p: BwdParams;
@group(0) @binding(4) var<storage, read> b_dextra: array<f32>;
@group(0) @binding(5) var<uniform> bx_p: BwdParams;

var<workgroup> b_part: array<f32, WG>;  // route_sigmoid_bwd_extra: each invocation's dScores

fn bwd_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * (nwg.x * WG);
}

// dScores[i] (i = n·E + e, i < N·E) as the header's route_bwd defines it.
fn route_grad(p: BwdParams, i: u32) -> f32 {
  let E = p.e;
  let K = p.k;
  let n = i / E;
  let e = i32(i - n * E);
  // Which choice (if any) picked expert e for token n.
  var kk = -1;
  for (var k = 0u; k < K; k++) {
    if (b_idx[n * K + k] == e) {
      kk = i32(k);
    }
  }
  if (kk < 0) {
    return 0.0;
  }
  let dw = b_dw[n * K + u32(kk)];
  if (p.norm == 0u) {
    return p.scale * dw;
  }
  var S = 0.0;  // Σ_j s_j
  var T = 0.0;  // Σ_j dW[j]·s_j
  for (var j = 0u; j < K; j++) {
    let s = b_scores[n * E + u32(b_idx[n * K + j])];
    S += s;
    T += b_dw[n * K + j] * s;
  }
  return p.scale * (dw - T / S) / S;
}

@compute @workgroup_size(WG)
fn route_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = bwd_index(gid, nwg);
  if (i < b_p.count) {
    b_ds[i] = route_grad(b_p, i);
  }
}

@compute @workgroup_size(WG)
fn route_sigmoid_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = bwd_index(gid, nwg);
  if (i < b_p.count) {
    let y = b_scores[i];
    let dy = route_grad(b_p, i);
    b_dlogits[i] = dy * y * (1.0 - y);
  }
}

@compute @workgroup_size(WG)
fn route_sigmoid_bwd_extra(@builtin(global_invocation_id) gid: vec3<u32>,
                           @builtin(local_invocation_index) lid: u32,
                           @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = bwd_index(gid, nwg);
  let live = i < bx_p.count;
  if (live) {
    b_part[lid] = route_grad(bx_p, i);
  }
  workgroupBarrier();  // dScores rounded to f32 before the add (see the header)
  if (live) {
    let y = b_scores[i];
    let dy = b_part[lid] + b_dextra[i];
    b_dlogits[i] = dy * y * (1.0 - y);
  }
}
