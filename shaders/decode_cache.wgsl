// KV-cache append for the generation engine: cache[b, pos[b] + j, :] = rows[b, j, :], in place.
//
// cache [B, C, W] (C = capacity in tokens), rows [B, n, W], pos i32 [B]. One invocation per
// element of rows (b, j, w); neighbouring invocations copy neighbouring columns w of a row, so
// reads and writes are coalesced. A row whose destination pos[b] + j falls outside 0 .. C−1 is
// dropped (the cache is full). Each destination element has exactly one writer: deterministic.

override WG: u32 = 256;

struct Params {
  total: u32, // B·n·W
  n: u32,     // new rows per sequence
  W: u32,     // values per row
  C: u32,     // cache capacity (rows per sequence)
}

@group(0) @binding(0) var<storage, read_write> cache: array<f32>;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read> pos: array<i32>;
@group(0) @binding(3) var<uniform> U: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * (nwg.x * WG);
  if (k >= U.total) {
    return;
  }
  let w = k % U.W;
  let bj = k / U.W;   // b·n + j
  let j = bj % U.n;
  let b = bj / U.n;
  let t = pos[b] + i32(j);
  if (t < 0 || t >= i32(U.C)) {
    return;
  }
  cache[(b * U.C + u32(t)) * U.W + w] = rows[k];
}
