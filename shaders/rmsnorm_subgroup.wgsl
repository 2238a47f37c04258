// The subgroup entries of rmsnorm.wgsl (the module is lanes_subgroup.wgsl + rmsnorm.wgsl + this file).

@compute @workgroup_size(WG)
fn rmsnorm_fwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
                        @builtin(subgroup_size) sg: u32) {
  let row0 = (wid.x + wid.y * nwg.x) * ROWS;  // workgroup-uniform, as in rmsnorm_fwd
  if (row0 >= f_p.rows) {
    return;
  }
  rmsnorm_fwd_row(row0 + lid / R, lid, lane, sg);
}

@compute @workgroup_size(WG)
fn add_rmsnorm_fwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
                            @builtin(subgroup_size) sg: u32) {
  let row0 = (wid.x + wid.y * nwg.x) * ROWS;  // workgroup-uniform, as in add_rmsnorm_fwd
  if (row0 >= a_p.rows) {
    return;
  }
  add_rmsnorm_fwd_row(row0 + lid / R, lid, lane, sg);
}

@compute @workgroup_size(WG)
fn rmsnorm_bwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
                        @builtin(subgroup_size) sg: u32) {
  rmsnorm_bwd_group(wid.x + wid.y * nwg.x, lid, lane, sg);  // workgroup-uniform, as in rmsnorm_bwd
}
