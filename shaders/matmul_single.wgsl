// Entry points for one product (matmul.ts `matmul`): C[b] = op(A[b]) · op(B[b]), batched, with
// split-K. Composed by the host after matmul.wgsl and one copy of matmul_operands.wgsl (suffix
// '', bindings 0–2, uniform block `p`). Two entry points, one per load path (see matmul.wgsl).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  strideA: u32, // elements between batches of A (M·K)
  strideB: u32, // K·N, or 0 when B is broadcast
  kChunk: u32,  // K range per split (a multiple of 32, so of TK); ≥ K when splits = 1
  splits: u32,  // number of K chunks
}

@group(0) @binding(3) var<uniform> p: Params;

// Jobs: workgroup z walks jobs j = wid.z, wid.z + nwg.z, … (counts above the 65535
// workgroups-per-dimension limit fold into a loop). Job j is batch b = j % batch over the K
// range of chunk s = j / batch, written at C[(s · batch + b) · M · N].
@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  for (var j = wid.z; j < p.batch * p.splits; j += nwg.z) {
    let b = j % p.batch;
    let kBegin = (j / p.batch) * p.kChunk;
    tile_scalar(lid, lid3.x, lid3.y, wid.y * TM, wid.x * TN, b * p.strideA, b * p.strideB, j * p.M * p.N,
                kBegin, min(p.K, kBegin + p.kChunk));
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main_vec4(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  for (var j = wid.z; j < p.batch * p.splits; j += nwg.z) {
    let b = j % p.batch;
    let kBegin = (j / p.batch) * p.kChunk;
    tile_vec4(lid, lid3.x, lid3.y, wid.y * TM, wid.x * TN, b * p.strideA, b * p.strideB, j * p.M * p.N,
              kBegin, min(p.K, kBegin + p.kChunk));
  }
}
