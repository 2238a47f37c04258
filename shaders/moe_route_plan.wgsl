// The MoE dispatch plan (a deterministic counting sort of the routing choices). No atomics anywhere: every count is a plain loop in a fixed
// order, so the same idx gives the same plan bit for bit.
//
// Input idx i32 [N, K], read flat as M = N·K assignments a = n·K + k with expert idx[a].
// Output: offsets [E+1] (expert e owns slots [offsets[e], offsets[e+1])), slotAssign [M]
// (assignment in each slot) and assignSlot [M] (its inverse). Slots are sorted by expert, then
// by assignment index, so each expert's tokens appear in increasing token order.
//
// The assignments are cut into P = ceil(M / WG) chunks of WG consecutive assignments.
//   plan_count    one workgroup per chunk c: loads the chunk's experts into workgroup memory;
//                 thread t counts, for experts e = t, t + WG, …, how many of the chunk's
//                 assignments chose e → counts[e·P + c] (expert-major).
//   plan_scan     one workgroup per expert e: exclusive prefix sum, in place, of its P chunk
//                 counts (tiles of WG, Hillis–Steele scan in workgroup memory, carry between
//                 tiles) → counts[e·P + c] = e's assignments in chunks before c; totals[e] = all.
//   plan_offsets  one workgroup: exclusive prefix sum of totals → offsets[0..E], offsets[E] = M.
//   plan_scatter  one workgroup per chunk: assignment a (thread t) with expert e goes to slot
//                   offsets[e] + counts[e·P + c] + #{t' < t in the chunk with expert e}
//                 (the last term by scanning the chunk in workgroup memory), so slots of an
//                 expert follow assignment order across and within chunks.
//   plan_small    the whole plan in ONE workgroup, for M ≤ SMALL_CHUNKS·WG and E ≤ WG (the lab's
//                 models): the same slots, in one dispatch instead of four. Pass 1 walks the chunks
//                 in order, thread e adding up expert e's count; one scan of the E totals gives the
//                 offsets; pass 2 walks the chunks again, each assignment going to its expert's
//                 running base + its rank among the chunk's earlier same-expert assignments, and
//                 thread e then moves e's base past the chunk's e-assignments.
//   Cost: M·E comparisons in all for plan_count and ≈ M·WG/2 for plan_scatter (per thread: E
//   resp. ≤ WG, all broadcast workgroup-memory reads); plan_scan does ceil(P / WG) tile scans
//   per expert. At N = 65536 tokens, K = 8, E = 256: P = 2048, 8 tiles per expert.
//
// The loss-free-balancing bias update, which reads the offsets, is moe_bias_update.wgsl.

override WG: u32 = 256;

struct PlanParams {
  m: u32,  // assignments M = N·K
  e: u32,  // experts E
  p: u32,  // chunks P
}

fn group_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

var<workgroup> chunk: array<i32, WG>;  // the chunk's experts (−1 past M)
var<workgroup> scan: array<u32, WG>;   // scan tile

// ---- plan_count ----
@group(0) @binding(0) var<storage, read> c_idx: array<i32>;
@group(0) @binding(1) var<storage, read_write> c_counts: array<u32>;
@group(0) @binding(2) var<uniform> c_p: PlanParams;

@compute @workgroup_size(WG)
fn plan_count(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = group_index(wid, nwg);
  if (c >= c_p.p) {
    return;  // workgroup-uniform
  }
  let a = c * WG + t;
  chunk[t] = select(-1, c_idx[min(a, c_p.m - 1u)], a < c_p.m);
  workgroupBarrier();
  for (var e = t; e < c_p.e; e += WG) {
    var cnt = 0u;
    for (var i = 0u; i < WG; i++) {
      cnt += select(0u, 1u, chunk[i] == i32(e));
    }
    c_counts[e * c_p.p + c] = cnt;
  }
}

// Inclusive Hillis–Steele scan of scan[0..WG) in place; every thread must call it.
fn scan_tile(t: u32) {
  for (var off = 1u; off < WG; off *= 2u) {
    var x = scan[t];
    if (t >= off) {
      x += scan[t - off];
    }
    workgroupBarrier();
    scan[t] = x;
    workgroupBarrier();
  }
}

// ---- plan_scan ----
@group(0) @binding(0) var<storage, read_write> s_counts: array<u32>;
@group(0) @binding(1) var<storage, read_write> s_totals: array<u32>;
@group(0) @binding(2) var<uniform> s_p: PlanParams;

@compute @workgroup_size(WG)
fn plan_scan(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = group_index(wid, nwg);
  if (e >= s_p.e) {
    return;  // workgroup-uniform
  }
  let row = e * s_p.p;
  var carry = 0u;
  for (var base = 0u; base < s_p.p; base += WG) {
    let i = base + t;
    let v = select(0u, s_counts[row + min(i, s_p.p - 1u)], i < s_p.p);
    scan[t] = v;
    workgroupBarrier();
    scan_tile(t);
    if (i < s_p.p) {
      s_counts[row + i] = carry + scan[t] - v;  // exclusive
    }
    carry += scan[WG - 1u];
    workgroupBarrier();  // everyone has read the tile before the next one overwrites it
  }
  if (t == 0u) {
    s_totals[e] = carry;
  }
}

// ---- plan_offsets ----
@group(0) @binding(0) var<storage, read> o_totals: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_offsets: array<i32>;
@group(0) @binding(2) var<uniform> o_p: PlanParams;

@compute @workgroup_size(WG)
fn plan_offsets(@builtin(local_invocation_index) t: u32) {
  var carry = 0u;
  for (var base = 0u; base < o_p.e; base += WG) {
    let i = base + t;
    let v = select(0u, o_totals[min(i, o_p.e - 1u)], i < o_p.e);
    scan[t] = v;
    workgroupBarrier();
    scan_tile(t);
    if (i < o_p.e) {
      o_offsets[i] = i32(carry + scan[t] - v);
    }
    carry += scan[WG - 1u];
    workgroupBarrier();
  }
  if (t == 0u) {
    o_offsets[o_p.e] = i32(carry);
  }
}

// ---- plan_scatter ----
@group(0) @binding(0) var<storage, read> w_idx: array<i32>;
@group(0) @binding(1) var<storage, read> w_counts: array<u32>;
@group(0) @binding(2) var<storage, read> w_offsets: array<i32>;
@group(0) @binding(3) var<storage, read_write> w_slot_assign: array<i32>;
@group(0) @binding(4) var<storage, read_write> w_assign_slot: array<i32>;
@group(0) @binding(5) var<uniform> w_p: PlanParams;

@compute @workgroup_size(WG)
fn plan_scatter(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = group_index(wid, nwg);
  if (c >= w_p.p) {
    return;  // workgroup-uniform
  }
  let a = c * WG + t;
  chunk[t] = select(-1, w_idx[min(a, w_p.m - 1u)], a < w_p.m);
  workgroupBarrier();
  if (a < w_p.m) {
    let e = chunk[t];
    var r = 0u;  // earlier assignments of this chunk with the same expert
    for (var j = 0u; j < t; j++) {
      r += select(0u, 1u, chunk[j] == e);
    }
    let slot = u32(w_offsets[e]) + w_counts[u32(e) * w_p.p + c] + r;
    w_slot_assign[slot] = i32(a);
    w_assign_slot[a] = i32(slot);
  }
}

// ---- plan_small ----
@group(0) @binding(0) var<storage, read> m_idx: array<i32>;
@group(0) @binding(1) var<storage, read_write> m_offsets: array<i32>;
@group(0) @binding(2) var<storage, read_write> m_slot_assign: array<i32>;
@group(0) @binding(3) var<storage, read_write> m_assign_slot: array<i32>;
@group(0) @binding(4) var<uniform> m_p: PlanParams;

var<workgroup> next_slot: array<u32, WG>;  // expert e's next free slot (pass 2)



// How many of the loaded chunk's assignments chose expert e (all WG entries; −1 pads).
fn chunk_count(e: i32) -> u32 {
  var cnt = 0u;
  for (var i = 0u; i < WG; i++) {
    cnt += select(0u, 1u, chunk[i] == e);
  }
  return cnt;
}

// Load chunk c of idx into `chunk` (−1 past M); every thread must call it.
fn load_chunk(t: u32, c: u32) {
  let a = c * WG + t;
  chunk[t] = select(-1, m_idx[min(a, m_p.m - 1u)], a < m_p.m);
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn plan_small(@builtin(local_invocation_index) t: u32) {
  // Pass 1: thread t < E totals expert t's assignments, chunk by chunk.
  var total = 0u;
  for (var c = 0u; c < m_p.p; c++) {
    load_chunk(t, c);
    if (t < m_p.e) {
      total += chunk_count(i32(t));
    }
    workgroupBarrier();  // everyone has read the chunk before the next one overwrites it
  }
  // Offsets: exclusive scan of the totals (E ≤ WG: one tile).
  scan[t] = select(0u, total, t < m_p.e);
  workgroupBarrier();
  scan_tile(t);
  if (t < m_p.e) {
    next_slot[t] = scan[t] - total;
    m_offsets[t] = i32(scan[t] - total);
  }
  if (t == 0u) {
    m_offsets[m_p.e] = i32(m_p.m);
  }
  workgroupBarrier();
  // Pass 2: scatter each chunk, then move the bases past it.
  for (var c = 0u; c < m_p.p; c++) {
    load_chunk(t, c);
    let a = c * WG + t;
    if (a < m_p.m) {
      let e = chunk[t];
      var r = 0u;  // earlier assignments of this chunk with the same expert
      for (var j = 0u; j < t; j++) {
        r += select(0u, 1u, chunk[j] == e);
      }
      let slot = next_slot[u32(e)] + r;
      m_slot_assign[slot] = i32(a);
      m_assign_slot[a] = i32(slot);
    }
    workgroupBarrier();  // every thread has read next_slot before it moves
    if (t < m_p.e) {
      next_slot[t] += chunk_count(i32(t));
    }
    workgroupBarrier();
  }
}
