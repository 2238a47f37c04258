enable subgroups;

// The last levels of a workgroup tree reduction in registers, for adapters with `subgroups`
// (prepended to a kernel's module by its host, see reduce.ts / softmax.ts; the kernel's
// subgroup entry point passes @builtin(subgroup_size) and @builtin(subgroup_invocation_id)).
//
// Why it is faster on real GPUs: a tree over WG values in workgroup memory takes log2(WG)
// levels, each a barrier plus a store and two loads through shared memory, and its last
// log2(subgroup size) levels keep at most a subgroup's worth of threads busy while the whole
// workgroup waits at every barrier. The lanes of a subgroup run in lockstep and can read each
// other's registers (a shuffle is one register-file exchange, no memory, no barrier), so those
// levels collapse to log2(size) shuffles with no barrier: with WG = 256 and 32 lanes, 9 barriers
// become 4, and the final broadcast of the result to every thread needs no memory either.
//
// Bit for bit the same sums as the tree: level h of the tree combines slot t with slot t + h for
// t < h, and lanes_down(v, h) hands lane l the value of lane l + h — the same operands in the
// same order. Each subgroup reads the slots left by the shared-memory levels, so the result does
// not depend on how invocations map to subgroups; it needs full subgroups, which a workgroup
// whose size is a multiple of the subgroup size gets (the kernel falls back to the tree when
// the subgroup is wider than the workgroup).

// Lane l gets lane l + d's v (undefined past the subgroup's end; no caller reads those).
fn lanes_down(v: f32, d: u32) -> f32 {
  return subgroupShuffleDown(v, d);
}

// Lane 0's v, in every lane.
fn lanes_first(v: f32) -> f32 {
  return subgroupBroadcast(v, 0u);
}

// The register levels of a tree whose slot l is lane l's v, for l < lanes (a power of two, at
// most the subgroup size): lane l adds lane l + h's value for h = lanes/2 … 1 (tree level h's
// additions, operands in the same order), and every lane gets lane 0's total.
fn lanes_sum(v: f32, lanes: u32) -> f32 {
  var x = v;
  for (var h = lanes / 2u; h > 0u; h = h >> 1u) {
    x = x + lanes_down(x, h);
  }
  return lanes_first(x);
}
