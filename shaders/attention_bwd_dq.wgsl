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

override BQ: u32 = 16u;   // query rows per workgroup
override BK: u32 = 16u;   // key rows per tile
override TPR: u32 = 4u;   // lanes per query row
override DQ4: u32 = 16u;  // vec4 chunks per q/k row (≥ ceil(dQK/4))
override DV4: u32 = 16u;  // vec4 chunks per v/dO row (≥ ceil(dV/4))

const NACC: u32 = 4u; // max dq vec4 chunks per lane (TS picks TPR ≥ ceil(DQ4/NACC))

struct Params {
  T: u32,
  H: u32,
  Hkv: u32,
  dQK: u32,
  dV: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
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

// Elements 4c..4c+3 of a global row starting at `base` with n elements, zero past n.
fn loadQ4(base: u32, c4: u32, n: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (c4 * 4u + e < n) { r[e] = q[base + c4 * 4u + e]; } }
  return r;
}
fn loadK4(base: u32, c4: u32, n: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (c4 * 4u + e < n) { r[e] = k[base + c4 * 4u + e]; } }
  return r;
}
fn loadV4(base: u32, c4: u32, n: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (c4 * 4u + e < n) { r[e] = v[base + c4 * 4u + e]; } }
  return r;
}
fn loadDO4(base: u32, c4: u32, n: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (c4 * 4u + e < n) { r[e] = dO[base + c4 * 4u + e]; } }
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
  // Dot products run over the real vec4 count, a uniform: a loop bound the compiler need not
  // unroll (fully unrolled DQ4-long dots made shader compiles very slow on some drivers).
  let nq4 = (U.dQK + 3u) / 4u;
  let nv4 = (U.dV + 3u) / 4u;

  // Stage Q and dO rows of this tile (zero past T).
  for (var i = lid; i < BQ * DQ4; i += nThreads) {
    let row = q0 + i / DQ4;
    var val = vec4<f32>(0.0);
    if (row < T) { val = loadQ4(((b * T + row) * U.H + h) * U.dQK, i % DQ4, U.dQK); }
    Qs[i] = val;
  }
  for (var i = lid; i < BQ * DV4; i += nThreads) {
    let row = q0 + i / DV4;
    var val = vec4<f32>(0.0);
    if (row < T) { val = loadDO4(((b * T + row) * U.H + h) * U.dV, i % DV4, U.dV); }
    dOs[i] = val;
  }
  // My row's saved statistics (rows past T contribute nothing: every dS there is masked).
  let rowValid = qi < T;
  var lseR = 0.0;
  var dR = 0.0;
  if (rowValid) {
    lseR = lse[(b * U.H + h) * T + qi];
    dR = D[(b * U.H + h) * T + qi];
  }

  var acc: array<vec4<f32>, NACC>;
  for (var a = 0u; a < NACC; a++) { acc[a] = vec4<f32>(0.0); }

  let kEnd = min(q0 + BQ, T);
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    for (var i = lid; i < BK * DQ4; i += nThreads) {
      let row = k0 + i / DQ4;
      var val = vec4<f32>(0.0);
      if (row < T) { val = loadK4(((b * T + row) * U.Hkv + g) * U.dQK, i % DQ4, U.dQK); }
      Ks[i] = val;
    }
    for (var i = lid; i < BK * DV4; i += nThreads) {
      let row = k0 + i / DV4;
      var val = vec4<f32>(0.0);
      if (row < T) { val = loadV4(((b * T + row) * U.Hkv + g) * U.dV, i % DV4, U.dV); }
      Vs[i] = val;
    }
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
    let base = ((b * T + qi) * U.H + h) * U.dQK;
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
