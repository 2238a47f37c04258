// Attention backward, step 2: dQ (f32), flash-attention style.
//
// One workgroup = BQ consecutive query rows of one (batch b, query head h), the same tiling as
// the forward. Q and dO of those rows stay in workgroup memory; the kernel walks the keys in
// tiles of BK up to the diagonal and, per tile, recomputes the probabilities from the saved
// log-sum-exp instead of storing them:
//     P[i, j]  = exp(scale · q_i·k_j − lse_i)          (0 for keys after the query)
//     dP[i, j] = dO_i · v_j
//     dS[i, j] = P[i, j] · (dP[i, j] − D_i)            (D from the prep kernel)
//     dq_i    += Σ_j dS[i, j] · k_j,    scaled by `scale` once at the end.
// Each workgroup alone owns its dq rows, so there are no atomics and the sum order is fixed.
//
// Threads: TPR lanes per query row (BQ·TPR invocations). Lane `lane` of row r computes dS[r, c]
// for c ≡ lane (mod TPR) and accumulates the dq vec4 chunks j ≡ lane (mod TPR) (≤ NACC each).
// Head dims are padded to vec4 in workgroup memory with zeros.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV], dO [B,T,H,dV], lse/D [B,H,T]
// → dq [B,T,H,dQK]. Grid: (ceil(T/BQ), H, B).
//
// Prepended: attention_common.wgsl (Params, q/k/v at bindings 0..2, DQ4/DV4, NACC, loaders).

override BQ: u32 = 16u;   // query rows per workgroup
override BK: u32 = 16u;   // key rows per tile
override TPR: u32 = 4u;   // lanes per query row

// Bindings 0..2 (q, k, v) are in attention_common.wgsl.
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> D: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<uniform> U: Params;

var<workgroup> Qs: array<vec4<f32>, BQ * DQ4>;
var<workgroup> dOs: array<vec4<f32>, BQ * DV4>;
var<workgroup> Ks: array<vec4<f32>, BK * DQ4>;
var<workgroup> Vs: array<vec4<f32>, BK * DV4>;
var<workgroup> dSs: array<f32, BQ * BK>;

// Chunk c4 of dO row (b, t, h), zero-padded like the loaders in attention_common.wgsl.
fn loadDO4(b: u32, t: u32, h: u32, c4: u32) -> vec4<f32> {
  let base = rowBase(b, t, h, U.H, U.dV);
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { let d = c4 * 4u + e; if (inRow(t, d, U.dV)) { r[e] = dO[base + d]; } }
  return r;
}

@compute @workgroup_size(BQ * TPR)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = U.T;
  let q0 = wid.x * BQ;
  let h = wid.y;
  let b = wid.z;
  let g = h / (U.H / U.Hkv);
  let r = lid / TPR;
  let lane = lid % TPR;
  let qi = q0 + r;
  let nThreads = BQ * TPR;
  let nq4 = (U.dQK + 3u) / 4u; // real vec4 counts: the dot-product bounds
  let nv4 = (U.dV + 3u) / 4u;

  // Stage Q and dO rows of this tile (zero past T).
  for (var i = lid; i < BQ * DQ4; i += nThreads) { Qs[i] = loadQ4(b, q0 + i / DQ4, h, i % DQ4); }
  for (var i = lid; i < BQ * DV4; i += nThreads) { dOs[i] = loadDO4(b, q0 + i / DV4, h, i % DV4); }
  // My row's saved statistics (rows past T contribute nothing: every dS there is masked).
  let rowValid = qi < T;
  var lseR = 0.0;
  var dR = 0.0;
  if (rowValid) {
    lseR = lse[statIndex(b, h, qi)];
    dR = D[statIndex(b, h, qi)];
  }

  var acc: array<vec4<f32>, NACC>;
  for (var a = 0u; a < NACC; a++) { acc[a] = vec4<f32>(0.0); }

  let kEnd = min(q0 + BQ, T);
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    for (var i = lid; i < BK * DQ4; i += nThreads) { Ks[i] = loadK4(b, k0 + i / DQ4, g, i % DQ4); }
    for (var i = lid; i < BK * DV4; i += nThreads) { Vs[i] = loadV4(b, k0 + i / DV4, g, i % DV4); }
    workgroupBarrier();

    // dS for my row, columns c ≡ lane (mod TPR).
    for (var c = lane; c < BK; c += TPR) {
      var ds = 0.0;
      if (rowValid && k0 + c <= qi) {
        var s = 0.0;
        for (var d = 0u; d < nq4; d++) { s += dot(Qs[r * DQ4 + d], Ks[c * DQ4 + d]); }
        var dp = 0.0;
        for (var d = 0u; d < nv4; d++) { dp += dot(dOs[r * DV4 + d], Vs[c * DV4 + d]); }
        let p = exp(U.scale * s - lseR);
        ds = p * (dp - dR);
      }
      dSs[r * BK + c] = ds;
    }
    workgroupBarrier();

    // dq_r += Σ_c dS[r, c] · k_c over the keys my row may see.
    let cEnd = select(0u, min(BK, qi + 1u - k0), qi >= k0);
    for (var c = 0u; c < cEnd; c++) {
      let ds = dSs[r * BK + c];
      for (var a = 0u; a < NACC; a++) {
        let j = lane + a * TPR;
        if (j < DQ4) { acc[a] += ds * Ks[c * DQ4 + j]; }
      }
    }
    workgroupBarrier(); // before the next tile overwrites Ks, Vs, dSs
  }

  if (rowValid) {
    let base = rowBase(b, qi, h, U.H, U.dQK);
    for (var a = 0u; a < NACC; a++) {
      let j = lane + a * TPR;
      let val = U.scale * acc[a];
      for (var e = 0u; e < 4u; e++) {
        let d = j * 4u + e;
        if (j < DQ4 && d < U.dQK) { dq[base + d] = val[e]; }
      }
    }
  }
}
