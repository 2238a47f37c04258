// Group-limited top-K routing on subgroups: the entries route_subgroup and route_sigmoid_subgroup,
// for adapters with `subgroups`. src/backends/webgpu/moe_route.ts builds the module as
//   `enable subgroups;` + `diagnostic(off, subgroup_uniformity);` + moe_route.wgsl + this file,
// so the bindings, RouteParams, Row, sigmoid1, group_score, write_choice and the workgroup arrays
// sel and sig are moe_route.wgsl's. Same inputs, outputs and bits as its route / route_sigmoid:
// the selection is exact (comparisons only), and the weights are the same f32 operations in the
// same order.
//
// What differs is how the K experts are found. route ranks every kept expert against every other
// through workgroup memory (O(E²) compares per row, three barriers). Here one subgroup owns a row
// at a time and finds its choices in order, the way warp-level top-K kernels do: round j takes
// the best candidate that comes after round j − 1's winner in the routing order, each lane
// scanning its own experts (lane, lane + w, …) and two subgroup reductions picking the winner
// (the largest key, then the lowest index holding it). K rounds of E / w compares per lane, no
// barrier inside a row. The kept groups are found the same way (topk_group rounds over the
// group scores), skipped when every group is kept.
//
// Order. "a before b" ⇔ val_a > val_b, or val_a == val_b and a < b (moe_route.wgsl's `before`).
// Values are compared as u32 keys (key below): key(a) > key(b) ⇔ a > b for every non-NaN f32,
// and −0 and +0 share a key as they compare equal. On NaN-free rows this is exactly route's
// order (on a device that flushes subnormals to zero in comparisons, route would also tie a
// subnormal with 0, which the keys keep apart). On rows with NaN the keys still order every
// candidate totally (a NaN sorts above +∞, or below −∞ with its sign bit set), so each row still
// gets K distinct experts in [0, E) — route's rank counting has no such order.
//
// Rows and subgroups. The workgroup stages ROWS rows of sel (and sig) in workgroup memory with
// all its threads, as route does (rows past N are skipped), then its subgroups take the rows:
// each subgroup gets an ordinal from a workgroup counter, and subgroup o handles rows o, o + nsg,
// … (nsg = the number of subgroups). Lanes are numbered by subgroupExclusiveAdd(1) and the width
// w is subgroupAdd(1), so nothing assumes how invocations map to subgroups, nor full subgroups.
// Every subgroup operation runs where the whole subgroup does: the loops over a lane's experts
// (and groups, and outputs) take the same number of trips in every lane (base = 0, w, 2w, …;
// the lane's own item is base + lane when it is in range), so lanes part only inside an `if`
// and meet again at its end, and the loop over rows depends only on the subgroup's ordinal.
// WGSL's uniformity analysis works per workgroup and cannot see the latter, so its
// subgroup_uniformity diagnostic is turned off for this module.
//
// Outputs. Round j's winner is known to every lane; lane j mod w writes idx[n, j]. After the
// rounds, the same lane reads it back (its own write) and writes weight[n, j] with S = the
// chosen scores summed in rank order, as route's step 5 does.
//
// Workgroup memory: sel and sig (route_subgroup stages its scores in sig too, so both entries
// read the chosen scores from there), CAP slots each, ROWS·E ≤ CAP (the TS side picks ROWS), and
// the counter. Limits: G ≤ 64 (the kept groups are a 64-bit mask; the config allows 64).

var<workgroup> sg_count: atomic<u32>;

const NONE: u32 = 0xffffffffu;
const GPL: u32 = 16u; // groups per lane held in registers: 64 groups (the host's limit) over 4 lanes

// Order-preserving key of an f32: a > b ⇔ key(a) > key(b) (non-NaN), key(−0) = key(+0). All
// integer operations: −0 is merged into +0 on its bits, which no float optimization can undo.
fn key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if (b == 0x80000000u) {
    b = 0u;
  }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Is (k, i) after (pk, pi) in the routing order? Everything is after the start (first = true).
fn after(k: u32, i: u32, pk: u32, pi: u32, first: bool) -> bool {
  return first || k < pk || (k == pk && i > pi);
}

// The subgroup's winner among the lanes' best candidates: the largest key, then the lowest index
// among the lanes holding it. Returns (key, index); index NONE when no lane has a candidate.
fn sg_best(found: bool, k: u32, i: u32) -> vec2<u32> {
  let m = subgroupMax(select(0u, k, found));
  return vec2<u32>(m, subgroupMin(select(NONE, i, found && k == m)));
}

fn is_kept(kept: vec2<u32>, g: u32) -> bool {
  return ((kept[g >> 5u] >> (g & 31u)) & 1u) != 0u;
}

// The kept groups of the row at sb: topk_group rounds of the subgroup's best group after the last.
fn kept_groups(p: RouteParams, sb: u32, lane: u32, w: u32) -> vec2<u32> {
  let G = p.n_group;
  if (p.topk_group >= G) {
    return vec2<u32>(NONE, NONE);
  }
  let gs = p.e / G;
  // The keys of this lane's groups lane, lane + w, …: scored once, read every round. A full
  // subgroup (4 lanes or more) has at most GPL of them; past GPL (a partial subgroup) a key is
  // scored again each round.
  var keys: array<u32, GPL>;
  for (var base = 0u; base < G; base += w) {
    let g = base + lane;
    if (g < G && base / w < GPL) {
      keys[base / w] = key(group_score(sb, g, gs));
    }
  }
  var kept = vec2<u32>(0u);
  var pk = 0u;
  var pi = 0u;
  for (var j = 0u; j < p.topk_group; j++) {
    var found = false;
    var bk = 0u;
    var bi = NONE;
    for (var base = 0u; base < G; base += w) {
      let g = base + lane;
      if (g < G) {
        var k: u32;
        if (base / w < GPL) {
          k = keys[base / w];
        } else {
          k = key(group_score(sb, g, gs));
        }
        if (after(k, g, pk, pi, j == 0u) && (!found || k > bk)) {
          found = true;
          bk = k;
          bi = g;
        }
      }
    }
    let win = sg_best(found, bk, bi);
    pk = win.x;
    pi = win.y;
    kept[pi >> 5u] |= 1u << (pi & 31u);
  }
  return kept;
}

// Rows ord, ord + nsg, … of this workgroup: the choice of each, its idx and weight outputs. The
// rows' original scores are in sig (both entries stage them there).
fn choose_rows(p: RouteParams, wid: vec3<u32>, nwg: vec3<u32>, ord: u32, nsg: u32) {
  let E = p.e;
  let K = p.k;
  let gs = E / p.n_group;
  let lane = subgroupExclusiveAdd(1u);
  let w = subgroupAdd(1u);
  for (var row = ord; row < ROWS; row += nsg) {
    let n = (wid.x + wid.y * nwg.x) * ROWS + row;
    if (n >= p.n) {
      break;
    }
    let sb = row * E;
    let kept = kept_groups(p, sb, lane, w);
    var pk = 0u;
    var pi = 0u;
    var S = 0.0;
    for (var j = 0u; j < K; j++) {
      var found = false;
      var bk = 0u;
      var bi = NONE;
      for (var base = 0u; base < E; base += w) {
        let e = base + lane;
        if (e < E && is_kept(kept, e / gs)) {
          let k = key(sel[sb + e]);
          if (after(k, e, pk, pi, j == 0u) && (!found || k > bk)) {
            found = true;
            bk = k;
            bi = e;
          }
        }
      }
      let win = sg_best(found, bk, bi);
      pk = win.x;
      pi = win.y;
      S += sig[sb + pi];
      if (j % w == lane) {
        r_idx[n * K + j] = i32(pi);
      }
    }
    let r = Row(true, lane, n, sb, 0u, 0u, n * E);
    for (var base = 0u; base < K; base += w) {
      let j = base + lane;
      if (j < K) {
        let e = u32(r_idx[n * K + j]);
        write_choice(p, r, j, e, sig[sb + e], S);
      }
    }
  }
}

// The entries' start: the counter reset (before the staging's barrier) and the workgroup's first row.
fn begin_rows(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  if (lid == 0u) {
    atomicStore(&sg_count, 0u);
  }
  return (wid.x + wid.y * nwg.x) * ROWS;
}

// This subgroup's ordinal in the workgroup (one atomic add per subgroup). Call after a barrier
// that follows the counter's reset; read the count after the next barrier.
fn subgroup_ordinal() -> u32 {
  var o = 0u;
  if (subgroupExclusiveAdd(1u) == 0u) {
    o = atomicAdd(&sg_count, 1u);
  }
  return subgroupMax(o);
}

@compute @workgroup_size(WG)
fn route_subgroup(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = r_p;
  let E = p.e;
  let n0 = begin_rows(lid, wid, nwg);
  // 1. the workgroup's rows: scores into sig (for the weights), biased scores into sel (f32 add,
  // as route)
  for (var i = lid; i < ROWS * E; i += WG) {
    let n = n0 + i / E;
    if (n < p.n) {
      let e = i % E;
      let s = r_scores[n * E + e];
      sig[i] = s;
      sel[i] = s + r_bias[e];
    }
  }
  workgroupBarrier();
  let ord = subgroup_ordinal();
  workgroupBarrier();
  choose_rows(p, wid, nwg, ord, atomicLoad(&sg_count));
}

@compute @workgroup_size(WG)
fn route_sigmoid_subgroup(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                          @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = rs_p;
  let E = p.e;
  let n0 = begin_rows(lid, wid, nwg);
  // 0. scores = σ(logits) into sig and out (route_sigmoid's step 0)
  for (var i = lid; i < ROWS * E; i += WG) {
    let n = n0 + i / E;
    if (n < p.n) {
      let s = sigmoid1(r_logits[n * E + i % E]);
      sig[i] = s;
      r_scores_out[n * E + i % E] = s;
    }
  }
  workgroupBarrier();
  let ord = subgroup_ordinal();
  // 1. biased scores from sig, across the barrier (route_sigmoid's step 1)
  for (var i = lid; i < ROWS * E; i += WG) {
    if (n0 + i / E < p.n) {
      sel[i] = sig[i] + r_bias[i % E];
    }
  }
  workgroupBarrier();
  choose_rows(p, wid, nwg, ord, atomicLoad(&sg_count));
}
