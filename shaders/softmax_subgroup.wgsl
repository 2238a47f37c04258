// The subgroup entries of softmax.wgsl (the module is lanes_subgroup.wgsl + softmax.wgsl + this file).

@compute @workgroup_size(WG)
fn softmax_fwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) t: u32, @builtin(subgroup_invocation_id) lane: u32,
                        @builtin(subgroup_size) sg: u32) {
  let row = wid.x + wid.y * nwg.x;  // workgroup-uniform, as in softmax_fwd
  if (row >= f_p.rows) {
    return;
  }
  softmax_fwd_row(row, t, lane, sg);
}

@compute @workgroup_size(WG)
fn softmax_bwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) t: u32, @builtin(subgroup_invocation_id) lane: u32,
                        @builtin(subgroup_size) sg: u32) {
  let row = wid.x + wid.y * nwg.x;  // workgroup-uniform, as in softmax_bwd
  if (row >= b_p.rows) {
    return;
  }
  softmax_bwd_row(row, t, lane, sg);
}
