// Attention backward, step 1 of 2: the row term D and dQ (f32), flash-attention style,
// register-tiled.
//
// One workgroup = BQ consecutive query rows of one (batch b, query head h), the same tiling as
// the forward; the grid (ceil(T/BQ), H, B) gives every (b, h, t) row exactly one workgroup. First
// each lane computes the softmax row term of its MR rows,
//     D_i = Σ_d dO[i, d] · O[i, d]    (= Σ_j P[i, j] · dP[i, j]), summed in order d = 0, 1, …,
// and lane tx = 0 of the row writes it to D [B,H,T] for the dK/dV kernel, dispatched next. (The NC
// lanes sharing a row repeat the same sum, no shared memory, no barrier; adjacent lanes read the
// same addresses.) The sum is attention_bwd_prep.wgsl's, term for term: the same bits. That
// kernel survives as a test-only reference: with D_FROM_PREP the kernel reads D instead.
// Q and dO of the rows stay in workgroup memory (as AT: not reused for D, which must see dO in
// f32); the kernel walks the keys in tiles of BK up to the diagonal and, per tile, recomputes the
// probabilities from the saved log-sum-exp instead of storing them:
//     P[i, j]  = exp(scale · q_i·k_j − lse_i)          (0 for keys after the query)
//     dP[i, j] = dO_i · v_j
//     dS[i, j] = P[i, j] · (dP[i, j] − D_i)
//     dq_i    += Σ_j dS[i, j] · k_j,    scaled by `scale` once at the end.
// Each workgroup alone owns its dq rows (and D entries), so there are no atomics and the sum
// order is fixed.
//
// Threads (the register tiling of attention_common.wgsl): lane (ty, tx) computes S and dP for
// its MR rows × the 4 key columns tx + NC·j of the tile (q and dO chunks read once for 4 keys,
// k and v chunks once for MR rows), writes dS to workgroup memory, and after a barrier adds
// dS·K into its dq chunks tx + NC·a (a < NA) of its MR rows. K and V tiles are stored with
// odd row strides KS, VS (vec4s) so that the column reads of step 1 hit distinct banks.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV], o, dO [B,T,H,dV], lse [B,H,T]
// → dq [B,T,H,dQK], D [B,H,T]. Grid: (ceil(T/BQ), H, B).
//
// Prepended: attention_common.wgsl (Params, q/k/v at bindings 0..2, DQ4/DV4, tiling overrides,
// loaders).

// Bindings 0..2 (q, k, v) are in attention_common.wgsl.
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> D: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read> o: array<f32>;
@group(0) @binding(8) var<uniform> U: Params;

override VS: u32 = 9u;       // odd row stride (vec4s) of the V tile
override BQ: u32 = MR * NR; // query rows per workgroup
override BK: u32 = 4u * NC; // key rows per tile
override D_FROM_PREP: bool = false; // tests only: read D (from attention_bwd_prep) instead

var<workgroup> Qs: array<vec4<AT>, BQ * DQ4>;
var<workgroup> dOs: array<vec4<AT>, BQ * DV4>;
var<workgroup> Ks: array<vec4<AT>, BK * KS>;
var<workgroup> Vs: array<vec4<AT>, BK * VS>;
var<workgroup> dSs: array<f32, BQ * BK>;

// Chunk c4 of dO row (b, t, h), zero-padded like the loaders in attention_common.wgsl.
fn loadDO4(b: u32, t: u32, h: u32, c4: u32) -> vec4<f32> {
  let base = rowBase(b, t, h, U.H, U.dV);
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { let d = c4 * 4u + e; if (inRow(t, d, U.dV)) { r[e] = dO[base + d]; } }
  return r;
}

@compute @workgroup_size(NR * NC)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = U.T;
  let q0 = wid.x * BQ;
  let h = wid.y;
  let b = wid.z;
  let g = h / (U.H / U.Hkv);
  let ty = lid / NC;
  let tx = lid % NC;
  let r0 = ty * MR;
  let nThreads = NR * NC;
  let nq4 = (U.dQK + 3u) / 4u; // real vec4 counts: the dot-product bounds
  let nv4 = (U.dV + 3u) / 4u;

  // Stage Q and dO rows of this tile (zero past T).
  for (var i = lid; i < BQ * DQ4; i += nThreads) { Qs[i] = vec4<AT>(loadQ4(b, q0 + i / DQ4, h, i % DQ4)); }
  for (var i = lid; i < BQ * DV4; i += nThreads) { dOs[i] = vec4<AT>(loadDO4(b, q0 + i / DV4, h, i % DV4)); }
  // My rows' statistics: lse saved by the forward, D computed here (rows past T contribute
  // nothing: every dS there is masked).
  var lseR: array<f32, MR_MAX>;
  var dR: array<f32, MR_MAX>;
  for (var i = 0u; i < MR; i++) {
    let qi = q0 + r0 + i;
    lseR[i] = 0.0;
    dR[i] = 0.0;
    if (qi < T) {
      let si = statIndex(b, h, qi);
      lseR[i] = lse[si];
      if (D_FROM_PREP) {
        dR[i] = D[si];
      } else {
        let base = rowBase(b, qi, h, U.H, U.dV);
        var s = 0.0;
        for (var d = 0u; d < U.dV; d++) { s += dO[base + d] * o[base + d]; }
        dR[i] = s;
        if (tx == 0u) { D[si] = s; }
      }
    }
  }

  var acc: array<vec4<f32>, ACC>;
  for (var a = 0u; a < ACC; a++) { acc[a] = vec4<f32>(0.0); }

  let kEnd = min(q0 + BQ, T);
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    for (var i = lid; i < BK * DQ4; i += nThreads) { Ks[(i / DQ4) * KS + i % DQ4] = vec4<AT>(loadK4(b, k0 + i / DQ4, g, i % DQ4)); }
    for (var i = lid; i < BK * DV4; i += nThreads) { Vs[(i / DV4) * VS + i % DV4] = vec4<AT>(loadV4(b, k0 + i / DV4, g, i % DV4)); }
    workgroupBarrier();

    // S and dP for my MR rows × 4 columns.
    var s = queryRowScores(r0, tx, nq4); // a var: indexed at run time below
    var dp: array<f32, 16>;
    for (var x = 0u; x < 16u; x++) { dp[x] = 0.0; } // explicitly: this runs once per key tile
    for (var d = 0u; d < nv4; d++) {
      var vv: array<vec4<f32>, 4>;
      for (var j = 0u; j < 4u; j++) { vv[j] = vec4<f32>(Vs[(tx + NC * j) * VS + d]); }
      for (var i = 0u; i < MR; i++) {
        let ov = vec4<f32>(dOs[(r0 + i) * DV4 + d]);
        for (var j = 0u; j < 4u; j++) { dp[i * 4u + j] += dot(ov, vv[j]); }
      }
    }
    // dS, masked to keys at or before the query (and queries inside the sequence).
    for (var i = 0u; i < MR; i++) {
      let qi = q0 + r0 + i;
      for (var j = 0u; j < 4u; j++) {
        let x = i * 4u + j;
        let p = exp(U.scale * s[x] - lseR[i]);
        let seen = qi < T && k0 + tx + NC * j <= qi;
        dSs[(r0 + i) * BK + tx + NC * j] = select(0.0, p * (dp[x] - dR[i]), seen);
      }
    }
    workgroupBarrier();

    // dq += dS · K over the keys of this tile inside the sequence.
    let cEnd = min(BK, kEnd - k0);
    for (var c = 0u; c < cEnd; c++) {
      for (var a = 0u; a < NA; a++) {
        let j = tx + NC * a;
        let kk = select(vec4<f32>(0.0), vec4<f32>(Ks[c * KS + min(j, DQ4 - 1u)]), j < DQ4);
        for (var i = 0u; i < MR; i++) { acc[i * NA + a] += dSs[(r0 + i) * BK + c] * kk; }
      }
    }
    workgroupBarrier(); // before the next tile overwrites Ks, Vs, dSs
  }

  for (var i = 0u; i < MR; i++) {
    let qi = q0 + r0 + i;
    if (qi >= T) { continue; }
    let base = rowBase(b, qi, h, U.H, U.dQK);
    for (var a = 0u; a < NA; a++) {
      let j = tx + NC * a;
      let val = U.scale * acc[i * NA + a];
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DQ4 && d < U.dQK) { dq[base + d] = val[e]; }
      }
    }
  }
}
