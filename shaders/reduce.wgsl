// Deterministic sum (or sum of squares) of a flat f32 array, one level of a two-level tree.
//
// Workgroup w owns the fixed slice [w·WG·ITEMS, (w+1)·WG·ITEMS) of x:
//   1. thread t folds ITEMS elements of it, x[base + k·WG + t] for k = 0..ITEMS-1, in
//      increasing k (neighbouring threads read neighbouring addresses: coalesced loads);
//   2. the WG per-thread sums are combined by a fixed binary tree in workgroup memory
//      (stride WG/2, WG/4, …, 1);
//   3. thread 0 writes the slice's total to partials[out_offset + w].
// The host repeats the pass on the partials (square = 0) until one value is left. The slice
// boundaries, the per-thread order and the tree shape depend only on n, so the result is
// bit-identical run to run. No atomics.
//
// Two paths, one body (reduce_slice). The host builds this module with lanes_tree.wgsl appended
// (entry `main`, the tree all the way down) or, where the device has `subgroups`, with
// lanes_subgroup.wgsl prepended and reduce_subgroup.wgsl appended (entry `main_subgroup`): the
// tree's last log2(lanes) levels then run as subgroup shuffles, in registers, without barriers —
// the same additions in the same order, so both paths give the same bits (lanes_subgroup.wgsl
// says why it is faster).
//
// sumSquares over several tensors runs one pass per tensor with square = 1, each writing its
// partials into its own segment (out_offset) of one shared buffer, then reduces that buffer.
// sumScaled (a mean's sum) runs its last pass with scaled = 1: thread 0 writes total · factor,
// the one f32 product the elementwise scale kernel would compute (a · s, s an f32 uniform), so
// the bits are those of scale(sum(x), factor) without its dispatch.
// Grid: one workgroup per slice, folded into 2-D when there are more than 65535 slices:
// w = wid.x + wid.y · nwg.x.

override WG: u32 = 256;    // threads per workgroup (power of two)
override ITEMS: u32 = 8;   // elements each thread folds before the tree
override SG_CAP: u32 = 128u; // most lanes the subgroup levels use (a power of two; tests lower it)

struct Params {
  n: u32,           // elements of x to reduce
  out_offset: u32,  // where this pass's partials start in `partials`
  square: u32,      // 1: sum x², 0: sum x
  groups: u32,      // number of slices = ceil(n / (WG·ITEMS))
  scaled: u32,      // 1: write total · factor (sumScaled's last pass), 0: the total
  factor: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> tree: array<f32, WG>;

// Lanes of the register levels: the subgroup size (capped by SG_CAP), or 1 — the tree all the
// way — on the tree path (sg = 1) and when a subgroup is wider than the workgroup (it would not
// be full). Uniform: subgroup_size is the same in every invocation.
fn shuffle_width(sg: u32) -> u32 {
  return select(1u, min(sg, SG_CAP), sg <= WG);
}

// Slice w of x: fold, then the fixed tree; thread 0 writes the partial. lane and sg are the
// subgroup builtins on the subgroup path, 0 and 1 on the tree path.
fn reduce_slice(w: u32, t: u32, lane: u32, sg: u32) {
  let base = w * WG * ITEMS;
  var acc = 0.0;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG + t;
    if (i < p.n) {
      let v = x[i];
      acc += select(v, v * v, p.square != 0u);
    }
  }
  tree[t] = acc;
  workgroupBarrier();
  // Levels in workgroup memory down to the shuffle width (down to stride 1 on the tree path).
  let lanes = shuffle_width(sg);
  for (var s = WG / 2u; s >= lanes; s = s >> 1u) {
    if (t < s) {
      tree[t] = tree[t] + tree[t + s];
    }
    workgroupBarrier();
  }
  var total: f32;
  if (lanes > 1u) {
    // The remaining levels in registers: every subgroup reduces slots 0 .. lanes-1 the same way.
    total = lanes_sum(tree[lane & (lanes - 1u)], lanes);
  } else {
    total = tree[0];
  }
  if (t == 0u) {
    partials[p.out_offset + w] = select(total, total * p.factor, p.scaled != 0u);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;  // workgroup-uniform: returning keeps the barriers uniform
  if (w >= p.groups) {
    return;
  }
  reduce_slice(w, t, 0u, 1u);
}
