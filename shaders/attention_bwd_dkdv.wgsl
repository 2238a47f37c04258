// Attention backward, step 2 of 2: dK and dV (f32), flash-attention style, register-tiled.
//
// One workgroup = BK consecutive key rows of one (batch b, kv head g). K and V of those rows
// stay in workgroup memory. The kernel loops over the query heads h that share kv head g
// (H/Hkv of them; one under MHA) and, for each, over the query tiles of BQ rows from the first
// query that may see these keys (query ≥ key) to the end of the sequence. Per query tile it
// recomputes, for key j and query i ≥ j,
//     P[i, j]  = exp(scale · q_i·k_j − lse_i)
//     dS[i, j] = P[i, j] · (dO_i·v_j − D_i)            (D written by the dQ kernel)
// and accumulates
//     dv_j += Σ_i P[i, j] · dO_i,      dk_j += Σ_i dS[i, j] · q_i   (× scale at the end).
// Every dk/dv row has exactly one owner workgroup (GQA's sum over query heads happens inside
// it, in a fixed order), so there are no atomics and results are bit-reproducible.
//
// Threads (the register tiling of attention_common.wgsl, with keys as the owned rows): lane
// (ty, tx) computes Sᵀ and dPᵀ for its MR key rows × the 4 query columns tx + NC·j of the tile,
// writes P and dS to workgroup memory, and after a barrier adds P·dO into its dv chunks
// tx + NC·a (a < NB) and dS·Q into its dk chunks tx + NC·a (a < NA) of its MR key rows. The Q and
// dO tiles are stored with odd row strides KS, VS (vec4s) for the column reads.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV], dO [B,T,H,dV], lse/D [B,H,T]
// → dk [B,T,Hkv,dQK], dv [B,T,Hkv,dV]. Grid: (ceil(T/BK), Hkv, B).
//
// Prepended: attention_common.wgsl (Params, q/k/v at bindings 0..2, DQ4/DV4, tiling overrides,
// loaders).

// Bindings 0..2 (q, k, v) are in attention_common.wgsl.
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> D: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<storage, read_write> dv: array<f32>;
@group(0) @binding(8) var<uniform> U: Params;

override VS: u32 = 9u;       // odd row stride (vec4s) of the dO tile
override NB: u32 = 1u;       // dv chunks per lane and key row (NA counts the dk chunks)
override BK: u32 = MR * NR; // key rows per workgroup
override BQ: u32 = 4u * NC; // query rows per tile

var<workgroup> Ks: array<vec4<AT>, BK * DQ4>;
var<workgroup> Vs: array<vec4<AT>, BK * DV4>;
var<workgroup> Qs: array<vec4<AT>, BQ * KS>;
var<workgroup> dOs: array<vec4<AT>, BQ * VS>;
var<workgroup> Ps: array<f32, BK * BQ>;   // [key row][query column]
var<workgroup> dSs: array<f32, BK * BQ>;
var<workgroup> lseS: array<f32, BQ>;
var<workgroup> Dsh: array<f32, BQ>;

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
  let k0 = wid.x * BK;
  let g = wid.y;
  let b = wid.z;
  let nGroup = U.H / U.Hkv; // query heads per kv head
  let ty = lid / NC;
  let tx = lid % NC;
  let r0 = ty * MR;         // my first key row within the tile
  let nThreads = NR * NC;
  let nq4 = (U.dQK + 3u) / 4u; // real vec4 counts: the dot-product bounds
  let nv4 = (U.dV + 3u) / 4u;

  // Stage this workgroup's K and V rows (zero past T).
  for (var i = lid; i < BK * DQ4; i += nThreads) { Ks[i] = vec4<AT>(loadK4(b, k0 + i / DQ4, g, i % DQ4)); }
  for (var i = lid; i < BK * DV4; i += nThreads) { Vs[i] = vec4<AT>(loadV4(b, k0 + i / DV4, g, i % DV4)); }

  var accK: array<vec4<f32>, ACC>;
  var accV: array<vec4<f32>, ACC>;
  for (var a = 0u; a < ACC; a++) {
    accK[a] = vec4<f32>(0.0);
    accV[a] = vec4<f32>(0.0);
  }

  for (var hh = 0u; hh < nGroup; hh++) {
    let h = g * nGroup + hh;
    // Queries before k0 see none of these keys: start the query tiles at k0.
    for (var q0 = k0; q0 < T; q0 += BQ) {
      for (var i = lid; i < BQ * DQ4; i += nThreads) { Qs[(i / DQ4) * KS + i % DQ4] = vec4<AT>(loadQ4(b, q0 + i / DQ4, h, i % DQ4)); }
      for (var i = lid; i < BQ * DV4; i += nThreads) { dOs[(i / DV4) * VS + i % DV4] = vec4<AT>(loadDO4(b, q0 + i / DV4, h, i % DV4)); }
      for (var i = lid; i < BQ; i += nThreads) {
        let row = q0 + i;
        var l = 0.0;
        var dd = 0.0;
        if (row < T) {
          l = lse[statIndex(b, h, row)];
          dd = D[statIndex(b, h, row)];
        }
        lseS[i] = l;
        Dsh[i] = dd;
      }
      workgroupBarrier();

      // Sᵀ and dPᵀ for my MR key rows × 4 query columns.
      var s: array<f32, 16>;
      var dp: array<f32, 16>;
      for (var x = 0u; x < 16u; x++) { s[x] = 0.0; dp[x] = 0.0; }
      for (var d = 0u; d < nq4; d++) {
        var qv: array<vec4<f32>, 4>;
        for (var j = 0u; j < 4u; j++) { qv[j] = vec4<f32>(Qs[(tx + NC * j) * KS + d]); }
        for (var i = 0u; i < MR; i++) {
          let kv = vec4<f32>(Ks[(r0 + i) * DQ4 + d]);
          for (var j = 0u; j < 4u; j++) { s[i * 4u + j] += dot(kv, qv[j]); }
        }
      }
      for (var d = 0u; d < nv4; d++) {
        var ov: array<vec4<f32>, 4>;
        for (var j = 0u; j < 4u; j++) { ov[j] = vec4<f32>(dOs[(tx + NC * j) * VS + d]); }
        for (var i = 0u; i < MR; i++) {
          let vv = vec4<f32>(Vs[(r0 + i) * DV4 + d]);
          for (var j = 0u; j < 4u; j++) { dp[i * 4u + j] += dot(vv, ov[j]); }
        }
      }
      // P and dS, masked to queries at or after the key (and inside the sequence).
      for (var i = 0u; i < MR; i++) {
        let kj = k0 + r0 + i;
        for (var j = 0u; j < 4u; j++) {
          let x = i * 4u + j;
          let col = tx + NC * j;
          let qi = q0 + col;
          let seen = qi < T && qi >= kj;
          let p = select(0.0, exp(U.scale * s[x] - lseS[col]), seen);
          Ps[(r0 + i) * BQ + col] = p;
          dSs[(r0 + i) * BQ + col] = p * (dp[x] - Dsh[col]);
        }
      }
      workgroupBarrier();

      // dv += P · dO, dk += dS · Q over the queries of this tile inside the sequence.
      let cEnd = min(BQ, T - q0);
      for (var c = 0u; c < cEnd; c++) {
        for (var a = 0u; a < NB; a++) {
          let j = tx + NC * a;
          let ov = select(vec4<f32>(0.0), vec4<f32>(dOs[c * VS + min(j, DV4 - 1u)]), j < DV4);
          for (var i = 0u; i < MR; i++) { accV[i * NB + a] += Ps[(r0 + i) * BQ + c] * ov; }
        }
        for (var a = 0u; a < NA; a++) {
          let j = tx + NC * a;
          let qv = select(vec4<f32>(0.0), vec4<f32>(Qs[c * KS + min(j, DQ4 - 1u)]), j < DQ4);
          for (var i = 0u; i < MR; i++) { accK[i * NA + a] += dSs[(r0 + i) * BQ + c] * qv; }
        }
      }
      workgroupBarrier(); // before the next tile overwrites Qs, dOs, Ps, dSs, lseS, Dsh
    }
  }

  for (var i = 0u; i < MR; i++) {
    let kj = k0 + r0 + i;
    if (kj >= T) { continue; }
    let baseK = rowBase(b, kj, g, U.Hkv, U.dQK);
    let baseV = rowBase(b, kj, g, U.Hkv, U.dV);
    for (var a = 0u; a < NA; a++) {
      let j = tx + NC * a;
      let vk = U.scale * accK[i * NA + a];
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DQ4 && d < U.dQK) { dk[baseK + d] = vk[e]; }
      }
    }
    for (var a = 0u; a < NB; a++) {
      let j = tx + NC * a;
      let vv = accV[i * NB + a];
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DV4 && d < U.dV) { dv[baseV + d] = vv[e]; }
      }
    }
  }
}
