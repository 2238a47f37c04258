// Causal attention forward, flash-attention style (f32).
//
// One workgroup = BQ consecutive query rows of one (batch b, query head h). It keeps its Q tile
// in workgroup memory and walks the key/value sequence in tiles of BK rows, from key 0 up to
// the last key its rows may see (tiles entirely above the diagonal are never loaded). For each
// tile it computes the scores S = scale · Q·Kᵀ (BQ×BK, in workgroup memory), then every query
// row updates an online softmax:
//     m' = max(m, max_j S_j)             running max
//     l' = l·e^(m−m') + Σ_j e^(S_j−m')   running sum of exponentials
//     o' = o·e^(m−m') + Σ_j e^(S_j−m')·v_j
// so the T×T matrix never exists. At the end o/l is the output and m + log(l) the
// log-sum-exp. Masked scores (key after query) are skipped, never −∞ arithmetic.
//
// Threads: TPR ("threads per row") lanes cooperate on each query row, so the workgroup has
// BQ·TPR invocations. Lane `lane` of row r computes the scores S[r, c] for c ≡ lane (mod TPR)
// and owns the output columns (as vec4 chunks) j ≡ lane (mod TPR), at most NACC chunks, in
// registers. All lanes of a row recompute the row max and exponentials identically, which
// costs BK exps per lane per tile but needs no extra barrier or reduction.
//
// Head dims are padded to vec4 (DQ4, DV4 chunks) in workgroup memory with zeros.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV] → o [B,T,H,dV], lse [B,H,T].
// Grid: (ceil(T/BQ), H, B).
//
// Prepended: attention_common.wgsl (Params, q/k/v at bindings 0..2, DQ4/DV4, NACC, loaders).

override BQ: u32 = 16u;   // query rows per workgroup
override BK: u32 = 16u;   // key rows per tile
override TPR: u32 = 4u;   // lanes per query row

const NEG_BIG: f32 = -3.0e38; // stands in for −∞ as the initial running max

// Bindings 0..2 (q, k, v) are in attention_common.wgsl.
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> U: Params;

var<workgroup> Qs: array<vec4<f32>, BQ * DQ4>;
var<workgroup> Ks: array<vec4<f32>, BK * DQ4>;
var<workgroup> Vs: array<vec4<f32>, BK * DV4>;
var<workgroup> Ss: array<f32, BQ * BK>;

@compute @workgroup_size(BQ * TPR)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = U.T;
  let q0 = wid.x * BQ;
  let h = wid.y;
  let b = wid.z;
  let g = h / (U.H / U.Hkv); // kv head shared by this query head
  let r = lid / TPR;          // my query row within the tile
  let lane = lid % TPR;
  let qi = q0 + r;            // my query position (may be ≥ T in the last tile: computed, not stored)
  let nThreads = BQ * TPR;
  let nq4 = (U.dQK + 3u) / 4u; // real vec4 count: the dot-product bound

  // Stage the Q tile (rows past T are zero).
  for (var i = lid; i < BQ * DQ4; i += nThreads) { Qs[i] = loadQ4(b, q0 + i / DQ4, h, i % DQ4); }

  var m = NEG_BIG;
  var l = 0.0;
  var acc: array<vec4<f32>, NACC>;
  for (var a = 0u; a < NACC; a++) { acc[a] = vec4<f32>(0.0); }

  // Keys 0 .. kEnd-1 are the only ones any row of this tile may attend to.
  let kEnd = min(q0 + BQ, T);
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    // Stage K and V tiles (rows past T are zero).
    for (var i = lid; i < BK * DQ4; i += nThreads) { Ks[i] = loadK4(b, k0 + i / DQ4, g, i % DQ4); }
    for (var i = lid; i < BK * DV4; i += nThreads) { Vs[i] = loadV4(b, k0 + i / DV4, g, i % DV4); }
    workgroupBarrier();

    // Scores for my row, columns c ≡ lane (mod TPR).
    for (var c = lane; c < BK; c += TPR) {
      var s = 0.0;
      for (var d = 0u; d < nq4; d++) { s += dot(Qs[r * DQ4 + d], Ks[c * DQ4 + d]); }
      Ss[r * BK + c] = U.scale * s;
    }
    workgroupBarrier();

    // Online softmax over the keys of this tile that my row may see: c < cEnd.
    let cEnd = select(0u, min(BK, qi + 1u - k0), qi >= k0);
    var tileMax = NEG_BIG;
    for (var c = 0u; c < cEnd; c++) { tileMax = max(tileMax, Ss[r * BK + c]); }
    let mNew = max(m, tileMax);
    let alpha = exp(m - mNew); // 0 on the first tile, 1 if the max did not move
    l *= alpha;
    for (var a = 0u; a < NACC; a++) { acc[a] *= alpha; }
    for (var c = 0u; c < cEnd; c++) {
      let p = exp(Ss[r * BK + c] - mNew);
      l += p;
      for (var a = 0u; a < NACC; a++) {
        let j = lane + a * TPR;
        if (j < DV4) { acc[a] += p * Vs[c * DV4 + j]; }
      }
    }
    m = mNew;
    workgroupBarrier(); // before the next tile overwrites Ks, Vs, Ss
  }

  if (qi < T) {
    if (lane == 0u) { lse[statIndex(b, h, qi)] = m + log(l); }
    let base = rowBase(b, qi, h, U.H, U.dV);
    for (var a = 0u; a < NACC; a++) {
      let j = lane + a * TPR;
      let val = acc[a] / l;
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DV4 && d < U.dV) { o[base + d] = val[e]; }
      }
    }
  }
}
