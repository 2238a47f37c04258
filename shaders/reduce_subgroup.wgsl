// The subgroup entry of reduce.wgsl (the module is lanes_subgroup.wgsl + reduce.wgsl + this file).

@compute @workgroup_size(WG)
fn main_subgroup(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32,
                 @builtin(subgroup_size) sg: u32) {
  let w = wid.x + wid.y * nwg.x;  // workgroup-uniform, as in main
  if (w >= p.groups) {
    return;
  }
  reduce_slice(w, t, lane, sg);
}
