// The multi-tensor sum of squares: reduce.wgsl's partial pass over many tensors at once, the
// tensors being segments of one flat buffer (an arena of gradients). One dispatch replaces one
// pass per tensor, with the same arithmetic:
//
// Segment s (table row segs[s] = (offset, n, first, 0)) is cut into slices of WG·ITEMS
// elements exactly as reduce.wgsl cuts a tensor of n elements; slice j of segment s is
// workgroup w = first + j, and its partial goes to partials[w]. `first` is the running count
// of slices of the segments before s, so the partials of all segments lie in list order —
// the layout the one-pass-per-tensor path writes — and the host reduces them with the same
// passes. Per thread: ITEMS elements x[offset + base + k·WG + t] in increasing k; then the same
// fixed binary tree. The fold keeps reduce.wgsl's expression (select on `square`, always 1 here)
// so the compiler emits the same arithmetic: results are bit-identical to that path.
//
// Workgroup → segment: binary search over `first` (uniform across the workgroup: it reads only
// the read-only table at workgroup-uniform indices). Grid as in reduce.wgsl, folded into 2-D.
//
// The tree has WG lanes (that fixes the bits); R ≤ WG threads run it, thread i holding lanes
// i, i + R, …: each lane's ITEMS elements folded in increasing k as above, then the tree's
// levels s ≥ R in registers (both operands are the thread's own) and the levels below R in
// workgroup memory. Neighbouring threads still read neighbouring addresses. With R = 32 a
// workgroup passes 6 barriers with 32 threads instead of 9 with 256: on lavapipe, where a
// barrier costs per thread, browser-v3's gradient norm took 119 ms with R = WG.
//
// Two paths, as reduce.wgsl: reduce.ts builds the tree module (sections `kernel` + `tree entry`,
// lanes_tree.wgsl appended) or, where the device has `subgroups`, the subgroup one
// (lanes_subgroup.wgsl + `kernel` + `subgroup entry`): the tree's last log2(lanes) levels run as
// subgroup shuffles — the same additions in the same order, the same bits — with lanes the
// subgroup size capped by SG_CAP, or 1 (the tree all the way) when a subgroup is wider than the
// R threads.

// ==== kernel

override WG: u32 = 256;    // lanes of the tree (power of two)
override ITEMS: u32 = 8;   // elements each lane folds before the tree
override R: u32 = 32;      // threads per workgroup (power of two ≤ WG)
override SG_CAP: u32 = 128u; // most lanes the subgroup levels use (a power of two; tests lower it)
override L: u32 = WG / R;  // lanes per thread
const LMAX: u32 = 64u;

struct Params {
  segments: u32,  // rows of segs
  groups: u32,    // total slices = Σ ceil(n / (WG·ITEMS))
  square: u32,    // 1 (kept as in reduce.wgsl; see above)
  pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read> segs: array<vec4<u32>>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> tree: array<f32, R>;

// Lanes of the register levels: the subgroup size (capped by SG_CAP), or 1 on the tree path
// (size 1) and when a subgroup is wider than the R threads (it would not be full).
fn shuffle_width(size: u32) -> u32 {
  return select(1u, min(size, SG_CAP), size <= R);
}

// Slice w (of its segment): fold, register levels, the tree; thread 0 writes the partial. sg_lane
// and sg_size are the subgroup builtins on the subgroup path, 0 and 1 on the tree path.
fn reduce_segment_slice(w: u32, t: u32, sg_lane: u32, sg_size: u32) {
  // The last segment whose first slice is at or before w.
  var lo = 0u;
  var hi = p.segments - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (segs[mid].z <= w) {
      lo = mid;
    } else {
      hi = mid - 1u;
    }
  }
  let sg = segs[lo];
  let base = (w - sg.z) * WG * ITEMS;
  var lane: array<f32, LMAX>;
  for (var j = 0u; j < L; j++) {
    var acc = 0.0;
    for (var k = 0u; k < ITEMS; k++) {
      let i = base + k * WG + j * R + t;
      if (i < sg.y) {
        let v = x[sg.x + i];
        acc += select(v, v * v, p.square != 0u);
      }
    }
    lane[j] = acc;
  }
  for (var s = WG / 2u; s >= R; s = s >> 1u) {
    let js = s / R; // lane t + R·j's partner is lane t + R·(j + js)
    for (var j = 0u; j < js; j++) {
      lane[j] = lane[j] + lane[j + js];
    }
  }
  tree[t] = lane[0];
  workgroupBarrier();
  // Levels in workgroup memory down to the shuffle width (down to stride 1 on the tree path).
  let lanes = shuffle_width(sg_size);
  for (var s = R / 2u; s >= lanes; s = s >> 1u) {
    if (t < s) {
      tree[t] = tree[t] + tree[t + s];
    }
    workgroupBarrier();
  }
  var total: f32;
  if (lanes > 1u) {
    // The remaining levels in registers: every subgroup reduces slots 0 .. lanes-1 the same way.
    total = lanes_sum(tree[sg_lane & (lanes - 1u)], lanes);
  } else {
    total = tree[0];
  }
  if (t == 0u) {
    partials[w] = total;
  }
}

// ==== tree entry
@compute @workgroup_size(R)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;  // workgroup-uniform: returning keeps the barriers uniform
  if (w >= p.groups) {
    return;
  }
  reduce_segment_slice(w, t, 0u, 1u);
}

// ==== subgroup entry
@compute @workgroup_size(R)
fn main_subgroup(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>, @builtin(subgroup_invocation_id) sg_lane: u32,
                 @builtin(subgroup_size) sg_size: u32) {
  let w = wid.x + wid.y * nwg.x;  // workgroup-uniform, as in main
  if (w >= p.groups) {
    return;
  }
  reduce_segment_slice(w, t, sg_lane, sg_size);
}
