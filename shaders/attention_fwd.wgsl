// Causal attention forward, flash-attention style (f32), register-tiled.
//
// One workgroup = BQ consecutive query rows of one (batch b, query head h). It keeps its Q tile
// in workgroup memory and walks the key/value sequence in tiles of BK rows, from key 0 up to
// the last key its rows may see (tiles entirely above the diagonal are never loaded). For each
// tile every query row updates an online softmax:
//     m' = max(m, max_j S_j)             running max
//     l' = l·e^(m−m') + Σ_j e^(S_j−m')   running sum of exponentials
//     o' = o·e^(m−m') + Σ_j e^(S_j−m')·v_j
// so the T×T matrix never exists. At the end o/l is the output and m + log(l) the
// log-sum-exp. Masked scores (key after query) get p = 0 by a select, never −∞ arithmetic.
//
// Threads (attention_common.wgsl's register tiling): NR·NC invocations, lane (ty, tx) =
// (lid / NC, lid % NC) owns query rows ty·MR … ty·MR+MR−1 of the tile. Per key tile:
//   1. scores: it computes S for its MR rows × the 4 key columns tx + NC·j (j < 4), each q chunk
//      read once for 4 columns and each k chunk once for MR rows;
//   2. row max: its partial maxima go to Mp, and after a barrier each lane reads the NC
//      partials of its rows (every lane of a row then holds the same m);
//   3. it writes P = e^(S−m') for its 16 scores to Ps, rescales its accumulators by e^(m−m')
//      and keeps a partial l (its own columns' sum; the NC partials are added at the end);
//   4. P·V: it owns output chunks tx + NC·a (a < NA) of its MR rows, reading each v chunk once
//      for MR rows and each p once per chunk.
// Lanes with consecutive tx read consecutive Ps / Vs words and k rows KS vec4s apart (KS odd),
// and the lanes of one row group read the same q and p words (broadcast): no bank conflicts.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV] → o [B,T,H,dV], lse [B,H,T].
// Grid: (ceil(T/BQ), H, B).
//
// Prepended: attention_common.wgsl (Params, q/k/v at bindings 0..2, DQ4/DV4, tiling overrides,
// loaders).

const NEG_BIG: f32 = -3.0e38; // stands in for −∞ as the initial running max

// Bindings 0..2 (q, k, v) are in attention_common.wgsl.
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> U: Params;

// Virtual column lanes: the score tile is cut for NCV column lanes (4 columns each: BK = 4·NCV
// keys, a tile's partial maxima and row sums per column lane), but NC ≤ NCV threads run them,
// thread tx holding column lanes tx + NC·q (q < NCV / NC). The host sets NC below NCV where a
// head has fewer output chunks than NCV (head dim 16: 4 chunks, 8 column lanes): the P·V loop
// then has no idle lanes, and since every sum is the one of the NCV-lane kernel, in the same
// order, the bits are the same (attention.test.ts compares both).
override NCV: u32 = NC;       // column lanes of the tile (fixes the bits)
override QV: u32 = NCV / NC;  // column lanes per thread (≤ 2)
const QV_MAX: u32 = 2u;
override BQ: u32 = MR * NR;   // query rows per workgroup
override BK: u32 = 4u * NCV;  // key rows per tile

var<workgroup> Qs: array<vec4<AT>, BQ * DQ4>;
var<workgroup> Ks: array<vec4<AT>, BK * KS>;
var<workgroup> Vs: array<vec4<AT>, BK * DV4>;
var<workgroup> Ps: array<f32, BQ * BK>;
var<workgroup> Mp: array<f32, BQ * NCV>;

@compute @workgroup_size(NR * NC)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = U.T;
  let q0 = wid.x * BQ;
  let h = wid.y;
  let b = wid.z;
  let g = h / (U.H / U.Hkv); // kv head shared by this query head
  let ty = lid / NC;
  let tx = lid % NC;
  let r0 = ty * MR;           // my first row within the tile
  let nThreads = NR * NC;
  let nq4 = (U.dQK + 3u) / 4u; // real vec4 count: the dot-product bound

  // Stage the Q tile (rows past T are zero).
  for (var i = lid; i < BQ * DQ4; i += nThreads) { Qs[i] = vec4<AT>(loadQ4(b, q0 + i / DQ4, h, i % DQ4)); }

  var m: array<f32, MR_MAX>;
  var l: array<f32, MR_MAX * QV_MAX>; // l[i·QV_MAX + q]: column lane tx + NC·q's partial row sum
  var acc: array<vec4<f32>, ACC>;
  for (var i = 0u; i < MR; i++) { m[i] = NEG_BIG; }
  for (var x = 0u; x < MR_MAX * QV_MAX; x++) { l[x] = 0.0; }
  for (var a = 0u; a < ACC; a++) { acc[a] = vec4<f32>(0.0); }

  // Keys 0 .. kEnd-1 are the only ones any row of this tile may attend to.
  let kEnd = min(q0 + BQ, T);
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    // Stage K and V tiles (rows past T are zero).
    for (var i = lid; i < BK * DQ4; i += nThreads) { Ks[(i / DQ4) * KS + i % DQ4] = vec4<AT>(loadK4(b, k0 + i / DQ4, g, i % DQ4)); }
    for (var i = lid; i < BK * DV4; i += nThreads) { Vs[i] = vec4<AT>(loadV4(b, k0 + i / DV4, g, i % DV4)); }
    workgroupBarrier();

    // 1–2. For each of my column lanes cx: scores of my MR rows × its 4 columns cx + NCV·j,
    //      masked and scaled, and its partial row maxima.
    var s: array<array<f32, 16>, QV_MAX>;
    for (var qv = 0u; qv < QV; qv++) {
      let cx = tx + NC * qv;
      var sq = queryRowScoresAt(r0, cx, NCV, nq4);
      for (var i = 0u; i < MR; i++) {
        var pm = NEG_BIG;
        for (var j = 0u; j < 4u; j++) {
          let sv = select(NEG_BIG, U.scale * sq[i * 4u + j], k0 + cx + NCV * j <= q0 + r0 + i);
          sq[i * 4u + j] = sv;
          pm = max(pm, sv);
        }
        Mp[(r0 + i) * NCV + cx] = pm;
      }
      s[qv] = sq;
    }
    workgroupBarrier();

    // 3. New running max, probabilities, rescaled accumulators.
    for (var i = 0u; i < MR; i++) {
      var mNew = m[i];
      for (var t = 0u; t < NCV; t++) { mNew = max(mNew, Mp[(r0 + i) * NCV + t]); }
      let alpha = exp(m[i] - mNew); // 0 on the first tile, 1 if the max did not move
      for (var qv = 0u; qv < QV; qv++) {
        let cx = tx + NC * qv;
        var ls = 0.0;
        for (var j = 0u; j < 4u; j++) {
          let sv = s[qv][i * 4u + j];
          let p = select(0.0, exp(sv - mNew), sv > NEG_BIG);
          Ps[(r0 + i) * BK + cx + NCV * j] = p;
          ls += p;
        }
        l[i * QV_MAX + qv] = l[i * QV_MAX + qv] * alpha + ls;
      }
      m[i] = mNew;
      for (var a = 0u; a < NA; a++) { acc[i * NA + a] *= alpha; }
    }
    workgroupBarrier();

    // 4. o += P·V over the keys of this tile inside the sequence.
    let cEnd = min(BK, kEnd - k0);
    for (var c = 0u; c < cEnd; c++) {
      for (var a = 0u; a < NA; a++) {
        let j = tx + NC * a;
        let vv = select(vec4<f32>(0.0), vec4<f32>(Vs[c * DV4 + min(j, DV4 - 1u)]), j < DV4);
        for (var i = 0u; i < MR; i++) { acc[i * NA + a] += Ps[(r0 + i) * BK + c] * vv; }
      }
    }
    workgroupBarrier(); // before the next tile overwrites Ks, Vs, Ps, Mp
  }

  // Row sums: add the NCV column lanes' partial l of each row, in column-lane order.
  for (var i = 0u; i < MR; i++) {
    for (var qv = 0u; qv < QV; qv++) { Mp[(r0 + i) * NCV + tx + NC * qv] = l[i * QV_MAX + qv]; }
  }
  workgroupBarrier();
  for (var i = 0u; i < MR; i++) {
    let qi = q0 + r0 + i;
    if (qi >= T) { continue; }
    var lt = 0.0;
    for (var t = 0u; t < NCV; t++) { lt += Mp[(r0 + i) * NCV + t]; }
    if (tx == 0u) { lse[statIndex(b, h, qi)] = m[i] + log(lt); }
    let base = rowBase(b, qi, h, U.H, U.dV);
    for (var a = 0u; a < NA; a++) {
      let j = tx + NC * a;
      let val = acc[i * NA + a] / lt;
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DV4 && d < U.dV) { o[base + d] = val[e]; }
      }
    }
  }
}
