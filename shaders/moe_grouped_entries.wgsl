// Entry points of the grouped expert GEMMs (moe_grouped_matmul.wgsl). The host (moe_dispatch.ts)
// composes each kernel from the shared part, the product templates it needs and ONE section of
// this file (a section runs from its `// ==== name` line to the next one). The same entries serve
// the gathered variants (the products read x's rows through slotAssign, see moe_grouped_fwd.wgsl):
// `forward`, `forward_pair` and `weight_grad` gathered, and `backward` with a gathered weight
// gradient (its input gradient's rows are dy's slots either way); their slotAssign bindings come
// after a product's others, and only they read `topk`.

// ==== forward
// One forward-direction product (suffix '', bindings 0–3[, 4 gathered], then the uniform `fp`):
// workgroup (x, y) owns expert-aligned row tile y (alignedTile), columns x·TN.

struct FwdParams {
  M: u32,  // rows (slots)
  N: u32,  // b, output columns
  K: u32,  // a, input columns
  E: u32,  // experts
  topk: u32, // experts per token (gathered rows only)
}

@group(0) @binding(#U) var<uniform> fp: FwdParams;

@compute @workgroup_size(WG_X, WG_Y)
fn forward(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  fwd_tile(lid3.x, lid3.y, lid, wid.y, wid.x * TN);
}

// ==== forward_pair
// Two forward-direction products of the same rows x (an expert FFN's gate and up): suffix '_a'
// (bindings x, W, offsets, y[, slotAssign when gathered]) and '_b' (its W and y; it reads x, the
// offsets and slotAssign through '_a's), then the uniform `q`. Flat grid: t = wid.x + wid.y ·
// nwg.x; the first q.a.tiles workgroups are '_a's tiles (row-major over q.a.tilesX columns), the
// next q.b.tiles '_b's.

struct PairBlock {
  M: u32,
  N: u32,
  K: u32,
  E: u32,
  tilesX: u32,
  tiles: u32,
  topk: u32, // experts per token (gathered rows only)
  pad1: u32,
}

struct PairParams {
  a: PairBlock,
  b: PairBlock,
}

@group(0) @binding(#U) var<uniform> q: PairParams;

@compute @workgroup_size(WG_X, WG_Y)
fn forward_pair(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let t = wid.x + wid.y * nwg.x;
  if (t < q.a.tiles) {
    fwd_tile_a(lid3.x, lid3.y, lid, t / q.a.tilesX, (t % q.a.tilesX) * TN);
  } else if (t < q.a.tiles + q.b.tiles) {
    let t2 = t - q.a.tiles;
    fwd_tile_b(lid3.x, lid3.y, lid, t2 / q.b.tilesX, (t2 % q.b.tilesX) * TN);
  }
}

// ==== weight_grad
// One weight-gradient product (suffix '', bindings 0–3[, 4 gathered], then the uniform `gp`):
// workgroup (x, y, z) owns tile (x, y) of expert z % E, chunk z / E.

struct WgParams {
  M: u32,      // rows (slots)
  B: u32,      // b: dy columns = output rows
  A: u32,      // a: x columns = output columns
  E: u32,      // experts
  splits: u32, // chunks per segment (1: write the result directly)
  topk: u32,   // experts per token (gathered rows only)
}

@group(0) @binding(#U) var<uniform> gp: WgParams;

@compute @workgroup_size(WG_X, WG_Y)
fn weight_grad(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  wgrad_tile(lid3.x, lid3.y, lid, wid);
}

// ==== backward
// The input gradient (suffix '_x': a forward-direction product, bindings from 0) and the weight
// gradient (suffix '_w': its x and out bindings after those, then slotAssign when it reads x
// gathered; it reads dy and the offsets through the input gradient's bindings) of one grouped
// product, in one dispatch; the uniform block `u` comes last. The grid is flat: workgroup
// t = wid.x + wid.y · nwg.x; the first u.tilesX · u.tilesY are the input gradient's tiles
// (row-major over u.tilesX columns), the next u.wTilesX · u.wTilesY · E the weight gradient's
// (splits = 1: no chunks).

struct FwdBlock {
  M: u32,
  N: u32,
  K: u32,
  E: u32,
}

struct WgBlock {
  M: u32,
  B: u32,
  A: u32,
  E: u32,
  splits: u32,
  tilesX: u32,  // the input gradient's column tiles
  tilesY: u32,  // … and row tiles
  wTilesX: u32, // the weight gradient's column tiles
  wTilesY: u32, // … and row tiles
  topk: u32,    // experts per token (a gathered weight gradient only)
}

struct BwdParams {
  f: FwdBlock,
  g: WgBlock,
}

@group(0) @binding(#U) var<uniform> u: BwdParams;

@compute @workgroup_size(WG_X, WG_Y)
fn backward(
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let t = wid.x + wid.y * nwg.x;
  let xTiles = u.g.tilesX * u.g.tilesY;
  let wPer = u.g.wTilesX * u.g.wTilesY;
  if (t < xTiles) {
    fwd_tile_x(lid3.x, lid3.y, lid, t / u.g.tilesX, (t % u.g.tilesX) * TN);
  } else if (t < xTiles + wPer * u.g.E) {
    let w = t - xTiles;
    let z = w / wPer;
    let r = w - z * wPer;
    wgrad_tile_w(lid3.x, lid3.y, lid, vec3<u32>(r % u.g.wTilesX, r / u.g.wTilesX, z));
  }
}
