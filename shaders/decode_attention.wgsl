// Attention of a few new queries against a KV cache (generation engine: decode and prefill/verify).
//
// q [B, n, H, dQK]; kc [B, C, kStride] with kv head g's key at columns g·dQK + [0, dQK);
// vc [B, C, vStride] with kv head g's value at columns vOffset + g·dV + [0, dV); pos i32 [B].
// Query j of sequence b sits at position pos[b] + j and sees cache rows 0 ..= min(pos[b]+j, C−1).
// Query head h reads kv head g = h / (H / Hkv) (GQA; MLA is one shared head). → o [B, n, H, dV].
// kc and vc may be the same buffer (MLA's latent is both key and value): both are read-only.
//
// One workgroup of WG threads per query (h, j, b) = workgroup_id (x, y, z). The query vector is
// staged in workgroup memory once; the visible keys are walked in tiles of WG keys, thread c of
// the workgroup owning key c of the tile:
//   1. scores: the tile's keys are staged into workgroup memory DC columns at a time (coalesced:
//      neighbouring threads read neighbouring columns of a row), and thread c accumulates its
//      key's partial dot product q·k_c over the chunks. Rows are padded to DC+1 floats so that
//      threads reading "their" rows at the same column hit different banks.
//   2. online softmax: every thread scans the tile's WG scores (broadcast reads) for the tile
//      max, in the same order, so all hold the same running max m' = max(m, tile max); thread c
//      writes its weight p_c = e^(s_c − m'), and every thread sums them, again in one order:
//          l' = l·e^(m−m') + Σ_c p_c
//   3. values: thread `lid` owns output dims lid, lid+WG, …, lid+(NACC−1)·WG (registers) and
//      accumulates o' = o·e^(m−m') + Σ_c p_c·v_c[d]; for each key, neighbouring threads read
//      neighbouring value columns (coalesced).
// At the end o/l is stored. Masked keys never enter the arithmetic (no −∞ math); a query with no
// visible key (pos[b] + j < 0) gets zeros, as the reference does. Every sum runs in a fixed order
// and nothing is atomic, so the output is bit-identical run to run.

override WG: u32 = 64u;        // threads per workgroup = keys per tile
override DC: u32 = 32u;        // key columns staged per chunk
override MAX_DQK: u32 = 1024u; // capacity of the staged query (dQK ≤ MAX_DQK, checked on the host)

// Output dims per thread (NACC·WG ≥ dV). Private arrays need a const size, so decode.ts emits
// one shader text per NACC by rewriting this line.
const NACC: u32 = 16u;

const NEG_BIG: f32 = -3.0e38; // the running max before the first key

struct Params {
  C: u32,       // cache capacity (rows per sequence)
  n: u32,       // queries per sequence
  H: u32,       // query heads
  group: u32,   // query heads per kv head, H / Hkv
  dQK: u32,
  dV: u32,
  kStride: u32,
  vStride: u32,
  vOffset: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> kc: array<f32>;
@group(0) @binding(2) var<storage, read> vc: array<f32>;
@group(0) @binding(3) var<storage, read> pos: array<i32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<uniform> U: Params;

var<workgroup> Qs: array<f32, MAX_DQK>;
var<workgroup> Ks: array<f32, WG * (DC + 1u)>;
var<workgroup> Ss: array<f32, WG>;  // the tile's scores
var<workgroup> Ps: array<f32, WG>;  // the tile's softmax weights (relative to the running max)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let j = wid.y;
  let b = wid.z;
  let g = h / U.group;               // kv head read by this query head
  let row = (b * U.n + j) * U.H + h; // query row in q [B·n·H, dQK] and o [B·n·H, dV]
  let ksRow = DC + 1u;               // padded row length of Ks

  let qBase = row * U.dQK;
  for (var i = lid; i < U.dQK; i += WG) { Qs[i] = q[qBase + i]; }

  // Visible cache rows 0 .. nKeys−1.
  let last = min(pos[b] + i32(j), i32(U.C) - 1);
  let nKeys = u32(max(last + 1, 0));
  let seq0 = b * U.C;                  // first cache row of sequence b
  let kCol = g * U.dQK;                // first key column of kv head g
  let vCol = U.vOffset + g * U.dV;     // first value column of kv head g

  var m = NEG_BIG;
  var l = 0.0;
  var acc: array<f32, NACC>;
  for (var a = 0u; a < NACC; a++) { acc[a] = 0.0; }

  for (var t0 = 0u; t0 < nKeys; t0 += WG) {
    let cnt = min(WG, nKeys - t0); // keys in this tile
    let mine = lid < cnt;          // does this thread own a key?

    // 1. s = scale · q·k for my key, over column chunks of DC.
    var dot = 0.0;
    for (var d0 = 0u; d0 < U.dQK; d0 += DC) {
      let dc = min(DC, U.dQK - d0);
      workgroupBarrier(); // Ks readers of the previous chunk are done (and Qs is staged)
      for (var e = lid; e < cnt * dc; e += WG) {
        let key = e / dc;
        let col = e % dc;
        Ks[key * ksRow + col] = kc[(seq0 + t0 + key) * U.kStride + kCol + d0 + col];
      }
      workgroupBarrier();
      if (mine) {
        for (var i = 0u; i < dc; i++) { dot += Qs[d0 + i] * Ks[lid * ksRow + i]; }
      }
    }
    let s = select(NEG_BIG, dot * U.scale, mine);
    Ss[lid] = s;
    workgroupBarrier();

    // 2. Online softmax: the tile max (same scan order in every thread), my weight, their sum.
    var tmax = NEG_BIG;
    for (var c = 0u; c < cnt; c++) { tmax = max(tmax, Ss[c]); }
    let mNew = max(m, tmax);
    let alpha = exp(m - mNew); // rescales what was accumulated under the old max (0 on tile 0)
    Ps[lid] = select(0.0, exp(s - mNew), mine);
    workgroupBarrier();
    var psum = 0.0;
    for (var c = 0u; c < cnt; c++) { psum += Ps[c]; }
    l = l * alpha + psum;
    m = mNew;

    // 3. o = o·alpha + Σ_c p_c·v_c over my output dims.
    for (var a = 0u; a < NACC; a++) { acc[a] *= alpha; }
    for (var c = 0u; c < cnt; c++) {
      let p = Ps[c];
      let vBase = (seq0 + t0 + c) * U.vStride + vCol;
      for (var a = 0u; a < NACC; a++) {
        let d = lid + a * WG;
        if (d < U.dV) { acc[a] += p * vc[vBase + d]; }
      }
    }
  }

  let oBase = row * U.dV;
  for (var a = 0u; a < NACC; a++) {
    let d = lid + a * WG;
    if (d < U.dV) { o[oBase + d] = select(0.0, acc[a] / l, l > 0.0); }
  }
}
