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
//   Grid: one workgroup per ROWS rows, folded into 2-D: wgIndex = wid.x + wid.y·nwg.x.
//
// route_bwd: dScores [N, E] from dWeight [N, K] (selection is not differentiable)
//   dScores[n, e] = 0 unless e = idx[n, k]; then
//     !norm: scale · dW[k]
//      norm: w_k = scale·s_k/S, S = Σ_j s_j  ⇒  ∂L/∂s_k = scale · (dW[k] − Σ_j dW[j]·s_j / S) / S
//   One invocation per element of dScores (coalesced writes of the zeros); the K indices of the
//   row are read by all E threads of the row (broadcast loads). 1-D grid folded into 2-D.

override WG: u32 = 64;    // = ROWS · TPR (route); invocations per workgroup (route_bwd)
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

@group(0) @binding(0) var<storage, read> r_scores: array<f32>;
@group(0) @binding(1) var<storage, read> r_bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> r_idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> r_weight: array<f32>;
@group(0) @binding(4) var<uniform> r_p: RouteParams;

var<workgroup> sel: array<f32, CAP>;     // [ROWS, E] biased scores
var<workgroup> gscore: array<f32, CAP>;  // [ROWS, G] group scores
var<workgroup> gkeep: array<u32, CAP>;   // [ROWS, G] 1 if the group is kept
var<workgroup> chosen: array<u32, CAP>;  // [ROWS, K] chosen experts by rank

// a (value va, index ia) comes strictly before b in the routing order.
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

@compute @workgroup_size(WG)
fn route(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = lid / TPR;
  let lane = lid - row * TPR;
  let n = (wid.x + wid.y * nwg.x) * ROWS + row;
  let live = n < r_p.n;
  let E = r_p.e;
  let G = r_p.n_group;
  let gs = E / G;
  let K = r_p.k;
  let sb = row * E;  // this row's slice of sel
  let gb = row * G;  // … of gscore / gkeep
  let cb = row * K;  // … of chosen
  let srow = n * E;  // this row in scores

  // 1. biased scores (f32 add, as the CPU reference rounds it)
  if (live) {
    for (var e = lane; e < E; e += TPR) {
      sel[sb + e] = r_scores[srow + e] + r_bias[e];
    }
  }
  workgroupBarrier();

  // 2. group score = top-1 + top-2 of the group's sel (one f32 add)
  if (live) {
    for (var g = lane; g < G; g += TPR) {
      let first = sb + g * gs;
      if (gs == 1u) {
        gscore[gb + g] = sel[first];
      } else {
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
        gscore[gb + g] = m1 + m2;
      }
    }
  }
  workgroupBarrier();

  // 3. keep group g iff fewer than topk_group groups come before it
  if (live) {
    for (var g = lane; g < G; g += TPR) {
      let v = gscore[gb + g];
      var rank = 0u;
      for (var h = 0u; h < G && rank < r_p.topk_group; h++) {
        if (before(gscore[gb + h], h, v, g)) {
          rank++;
        }
      }
      gkeep[gb + g] = select(0u, 1u, rank < r_p.topk_group);
    }
  }
  workgroupBarrier();

  // 4. rank each kept expert among the kept experts; ranks 0..K−1 are the choice
  if (live) {
    for (var e = lane; e < E; e += TPR) {
      if (gkeep[gb + e / gs] != 0u) {
        let v = sel[sb + e];
        var rank = 0u;
        for (var f = 0u; f < E && rank < K; f++) {
          if (gkeep[gb + f / gs] != 0u && before(sel[sb + f], f, v, e)) {
            rank++;
          }
        }
        if (rank < K) {
          chosen[cb + rank] = e;
        }
      }
    }
  }
  workgroupBarrier();

  // 5. weights from the ORIGINAL scores, normalized over the chosen ones (sum in rank order)
  if (live) {
    for (var k = lane; k < K; k += TPR) {
      var S = 0.0;
      for (var j = 0u; j < K; j++) {
        S += r_scores[srow + chosen[cb + j]];
      }
      let e = chosen[cb + k];
      var w = r_scores[srow + e];
      if (r_p.norm != 0u) {
        w = w / S;
      }
      r_idx[n * K + k] = i32(e);
      r_weight[n * K + k] = w * r_p.scale;
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

@group(0) @binding(0) var<storage, read> b_scores: array<f32>;
@group(0) @binding(1) var<storage, read> b_idx: array<i32>;
@group(0) @binding(2) var<storage, read> b_dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_ds: array<f32>;
@group(0) @binding(4) var<uniform> b_p: BwdParams;

@compute @workgroup_size(WG)
fn route_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= b_p.count) {
    return;
  }
  let E = b_p.e;
  let K = b_p.k;
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
    b_ds[i] = 0.0;
    return;
  }
  let dw = b_dw[n * K + u32(kk)];
  if (b_p.norm == 0u) {
    b_ds[i] = b_p.scale * dw;
    return;
  }
  var S = 0.0;  // Σ_j s_j
  var T = 0.0;  // Σ_j dW[j]·s_j
  for (var j = 0u; j < K; j++) {
    let s = b_scores[n * E + u32(b_idx[n * K + j])];
    S += s;
    T += b_dw[n * K + j] * s;
  }
  b_ds[i] = b_p.scale * (dw - T / S) / S;
}
