// Entry points for one or two independent 2-D products in one dispatch (matmul.ts `matmuls`):
// C1 = [D1 +] op(A1)·op(B1) and C2 = [D2 +] op(A2)·op(B2) — a linear's dX and dW in the backward,
// each added to the gradient gathered so far for its input where there is one. Composed by the
// host after matmul.wgsl and one copy of matmul_operands.wgsl per product (suffixes '_1', '_2';
// bindings numbered in order, 3 or 4 per product; then the uniform block). With one product the
// host leaves product 2's copy and its branch below out (NPROD = 1).
//
// The grid is flat: workgroup t = wid.x + wid.y · nwg.x. Tiles 0 … tiles1 − 1 are product 1's,
// row-major over its tilesX1 columns of tiles; the next tiles2 are product 2's. Both products
// use the same thread grid and K tile (the sums do not depend on them: see matmul.wgsl), so a
// product's bits are those of the single-product kernel. Each sums all of its K (no split-K:
// the host gives products that would split their own dispatch).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  tilesX: u32, // column tiles: ceil(N / TN)
  tiles: u32,  // all its tiles: tilesX · ceil(M / TM)
  pad0: u32,   // (32 bytes a block: the uniform layout aligns struct members to 16)
  pad1: u32,
  pad2: u32,
}

struct Multi {
  q1: Params,
  q2: Params,
}

@group(0) @binding(#U) var<uniform> u: Multi;

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let t = wid.x + wid.y * nwg.x;
  if (t < u.q1.tiles) {
    let m0 = (t / u.q1.tilesX) * TM;
    let n0 = (t % u.q1.tilesX) * TN;
    tile_scalar_1(lid, lid3.x, lid3.y, m0, n0, 0u, 0u, 0u, 0u, u.q1.K);
  }
  if (t >= u.q1.tiles && t < u.q1.tiles + u.q2.tiles) { // product 2
    let t2 = t - u.q1.tiles; // product 2
    tile_scalar_2(lid, lid3.x, lid3.y, (t2 / u.q2.tilesX) * TM, (t2 % u.q2.tilesX) * TN, 0u, 0u, 0u, 0u, u.q2.K); // product 2
  } // product 2
}

@compute @workgroup_size(WG_X, WG_Y)
fn main_vec4(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let t = wid.x + wid.y * nwg.x;
  if (t < u.q1.tiles) {
    let m0 = (t / u.q1.tilesX) * TM;
    let n0 = (t % u.q1.tilesX) * TN;
    tile_vec4_1(lid, lid3.x, lid3.y, m0, n0, 0u, 0u, 0u, 0u, u.q1.K);
  }
  if (t >= u.q1.tiles && t < u.q1.tiles + u.q2.tiles) { // product 2
    let t2 = t - u.q1.tiles; // product 2
    tile_vec4_2(lid, lid3.x, lid3.y, (t2 / u.q2.tilesX) * TM, (t2 % u.q2.tilesX) * TN, 0u, 0u, 0u, 0u, u.q2.K); // product 2
  } // product 2
}
