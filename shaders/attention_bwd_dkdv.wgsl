// Attention backward, step 3: dK and dV (f32), flash-attention style.
//
// One workgroup = BK consecutive key rows of one (batch b, kv head g). K and V of those rows
// stay in workgroup memory. The kernel loops over the query heads h that share kv head g
// (H/Hkv of them; one under MHA) and, for each, over the query tiles of BQ rows from the first
// query that may see these keys (query ≥ key) to the end of the sequence. Per query tile it
// recomputes, for key j and query i ≥ j,
//     P[i, j]  = exp(scale · q_i·k_j − lse_i)
//     dS[i, j] = P[i, j] · (dO_i·v_j − D_i)
// and accumulates
//     dv_j += Σ_i P[i, j] · dO_i,      dk_j += Σ_i dS[i, j] · q_i   (× scale at the end).
// Every dk/dv row has exactly one owner workgroup (GQA's sum over query heads happens inside
// it, in a fixed order), so there are no atomics and results are bit-reproducible.
//
// Threads: TPR lanes per key row (BK·TPR invocations). Lane `lane` of key row c computes
// P and dS for query columns r ≡ lane (mod TPR) and owns the dk and dv vec4 chunks
// j ≡ lane (mod TPR) (≤ NACC of each) in registers. Head dims are padded to vec4 with zeros.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV], dO [B,T,H,dV], lse/D [B,H,T]
// → dk [B,T,Hkv,dQK], dv [B,T,Hkv,dV]. Grid: (ceil(T/BK), Hkv, B).
//
// Prepended: attention_common.wgsl (Params, q/k/v at bindings 0..2, DQ4/DV4, NACC, loaders).

override BK: u32 = 16u;   // key rows per workgroup
override BQ: u32 = 16u;   // query rows per tile
override TPR: u32 = 4u;   // lanes per key row

// Bindings 0..2 (q, k, v) are in attention_common.wgsl.
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> D: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<storage, read_write> dv: array<f32>;
@group(0) @binding(8) var<uniform> U: Params;

var<workgroup> Ks: array<vec4<f32>, BK * DQ4>;
var<workgroup> Vs: array<vec4<f32>, BK * DV4>;
var<workgroup> Qs: array<vec4<f32>, BQ * DQ4>;
var<workgroup> dOs: array<vec4<f32>, BQ * DV4>;
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

@compute @workgroup_size(BK * TPR)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = U.T;
  let k0 = wid.x * BK;
  let g = wid.y;
  let b = wid.z;
  let nGroup = U.H / U.Hkv; // query heads per kv head
  let c = lid / TPR;        // my key row within the tile
  let lane = lid % TPR;
  let kj = k0 + c;          // my key position (may be ≥ T in the last tile: computed, not stored)
  let nThreads = BK * TPR;
  let nq4 = (U.dQK + 3u) / 4u; // real vec4 counts: the dot-product bounds
  let nv4 = (U.dV + 3u) / 4u;

  // Stage this workgroup's K and V rows (zero past T).
  for (var i = lid; i < BK * DQ4; i += nThreads) { Ks[i] = loadK4(b, k0 + i / DQ4, g, i % DQ4); }
  for (var i = lid; i < BK * DV4; i += nThreads) { Vs[i] = loadV4(b, k0 + i / DV4, g, i % DV4); }

  var accK: array<vec4<f32>, NACC>;
  var accV: array<vec4<f32>, NACC>;
  for (var a = 0u; a < NACC; a++) {
    accK[a] = vec4<f32>(0.0);
    accV[a] = vec4<f32>(0.0);
  }

  for (var hh = 0u; hh < nGroup; hh++) {
    let h = g * nGroup + hh;
    // Queries before k0 see none of these keys: start the query tiles at k0.
    for (var q0 = k0; q0 < T; q0 += BQ) {
      for (var i = lid; i < BQ * DQ4; i += nThreads) { Qs[i] = loadQ4(b, q0 + i / DQ4, h, i % DQ4); }
      for (var i = lid; i < BQ * DV4; i += nThreads) { dOs[i] = loadDO4(b, q0 + i / DV4, h, i % DV4); }
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

      // P and dS for my key row, query columns r ≡ lane (mod TPR); masked entries are 0.
      for (var r = lane; r < BQ; r += TPR) {
        let qi = q0 + r;
        var p = 0.0;
        var ds = 0.0;
        if (qi < T && qi >= kj) {
          var s = 0.0;
          for (var d = 0u; d < nq4; d++) { s += dot(Ks[c * DQ4 + d], Qs[r * DQ4 + d]); }
          var dp = 0.0;
          for (var d = 0u; d < nv4; d++) { dp += dot(Vs[c * DV4 + d], dOs[r * DV4 + d]); }
          p = exp(U.scale * s - lseS[r]);
          ds = p * (dp - Dsh[r]);
        }
        Ps[c * BQ + r] = p;
        dSs[c * BQ + r] = ds;
      }
      workgroupBarrier();

      // dv_c += Σ_r P[c, r] dO_r;  dk_c += Σ_r dS[c, r] q_r  (r from the first query ≥ my key).
      let rStart = select(0u, kj - q0, kj > q0);
      let rEnd = min(BQ, T - q0);
      for (var r = rStart; r < rEnd; r++) {
        let p = Ps[c * BQ + r];
        let ds = dSs[c * BQ + r];
        for (var a = 0u; a < NACC; a++) {
          let j = lane + a * TPR;
          if (j < DV4) { accV[a] += p * dOs[r * DV4 + j]; }
          if (j < DQ4) { accK[a] += ds * Qs[r * DQ4 + j]; }
        }
      }
      workgroupBarrier(); // before the next tile overwrites Qs, dOs, Ps, dSs, lseS, Dsh
    }
  }

  if (kj < T) {
    let baseK = rowBase(b, kj, g, U.Hkv, U.dQK);
    let baseV = rowBase(b, kj, g, U.Hkv, U.dV);
    for (var a = 0u; a < NACC; a++) {
      let j = lane + a * TPR;
      let vk = U.scale * accK[a];
      let vv = accV[a];
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DQ4 && d < U.dQK) { dk[baseK + d] = vk[e]; }
        if (j < DV4 && d < U.dV) { dv[baseV + d] = vv[e]; }
      }
    }
  }
}
