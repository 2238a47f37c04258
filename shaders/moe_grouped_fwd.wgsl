// One forward-direction grouped product of moe_grouped_matmul.wgsl: y[m, :] = [D[m, :] +]
// x[m, :] · op(W_e), e = the expert of row m (see the design notes there). A template, like
// matmul_operands.wgsl: the host (moe_dispatch.ts) replaces `$` in names with the product's
// suffix, `P$` with its uniform block (M, N, K, E[, topk]) and numbers its bindings (x, W, offsets, y,
// and D when it adds to an earlier result, then slotAssign for a gathered product). A line ending
// in `// acc` is kept only for a product added to an earlier result, one ending in `// plain` only
// for one that is not; the lines ending in `// own` are dropped for a second product that reads
// the first one's x and offsets (the host renames X$ and OFF$ to those).
//
// Gathered rows (the MoE forward without its gather dispatch): x is then the tokens' rows, not
// gathered ([N, P$.K]), and row m of the product reads token row slotAssign[m] / topk of it —
// exactly the row moe_dispatch.wgsl's `gather` would have copied to slot m, so every product
// sums the same values in the same k order (the bits of gather + the direct product). A line
// ending in `// direct` is kept only for a product reading x's rows as they are, one ending in
// `// gathered` only for a gathered one, and the line ending in `// slots` (the slotAssign
// binding) only for a gathered product that binds its own (a second product of a pair reads the
// first one's: the host renames SLOTS$ to it). P$.topk is then the experts per token.
//
// SwiGLU (an expert FFN's down projection with its gate folded in; moe_dispatch.ts
// moeExpertsSwiglu): lines ending in `// x-swiglu` are kept, `// x-mem` dropped, for a product
// whose x is silu(G)·U — X$ then holds G and XU$ holds U — and lines ending in `// y-swiglu` kept,
// `// y-mem` dropped, for one whose k-sum is the gradient dy of a SwiGLU output: its store writes
// dg = dy·u·silu'(g) to Y$ and du = dy·silu(g) to YE$, reading G and U at the output's index (no
// acc). The math is swiglu_math.wgsl's, as the elementwise kernels': the same bits.
//
// Two load paths, as the matmul's (matmul.wgsl): lines ending in `// v1` are kept for scalar
// views of the f32 buffers (any shape), those ending in `// v4` for vec4 views (K and N multiples
// of 4, every f32 buffer a whole number of vec4s: each quad of 4 consecutive elements below is
// then wholly inside or wholly outside the matrix, and one load). The staging takes quads along
// the dimension contiguous in memory either way; the values staged, and so the sums, are the same.

override TRANS_W$: bool = true;

@group(0) @binding(#0) var<storage, read> X$: array<f32>; // own // v1
@group(0) @binding(#0) var<storage, read> X$: array<vec4<f32>>; // own // v4
@group(0) @binding(#1) var<storage, read> W$: array<f32>; // v1
@group(0) @binding(#1) var<storage, read> W$: array<vec4<f32>>; // v4
@group(0) @binding(#2) var<storage, read> OFF$: array<i32>; // own
@group(0) @binding(#3) var<storage, read_write> Y$: array<f32>; // v1
@group(0) @binding(#3) var<storage, read_write> Y$: array<vec4<f32>>; // v4
@group(0) @binding(#4) var<storage, read> D$: array<f32>; // acc // v1
@group(0) @binding(#4) var<storage, read> D$: array<vec4<f32>>; // acc // v4
@group(0) @binding(#5) var<storage, read> SLOTS$: array<i32>; // slots
@group(0) @binding(#6) var<storage, read> XU$: array<f32>; // x-swiglu // v1
@group(0) @binding(#6) var<storage, read> XU$: array<vec4<f32>>; // x-swiglu // v4
@group(0) @binding(#7) var<storage, read> YG$: array<f32>; // y-swiglu // v1
@group(0) @binding(#7) var<storage, read> YG$: array<vec4<f32>>; // y-swiglu // v4
@group(0) @binding(#8) var<storage, read> YU$: array<f32>; // y-swiglu // v1
@group(0) @binding(#8) var<storage, read> YU$: array<vec4<f32>>; // y-swiglu // v4
@group(0) @binding(#9) var<storage, read_write> YE$: array<f32>; // y-swiglu // v1
@group(0) @binding(#9) var<storage, read_write> YE$: array<vec4<f32>>; // y-swiglu // v4

// Element i (v1) or vec4 j (v4) of x's storage, and the store of y's element i (vec4 j) given its
// k-sum v.
fn xAt$(i: u32) -> f32 { return X$[i]; } // x-mem // v1
fn xAt$(i: u32) -> f32 { return swiglu4(vec4<f32>(X$[i]), vec4<f32>(XU$[i])).x; } // x-swiglu // v1
fn xVec$(j: u32) -> vec4<f32> { return X$[j]; } // x-mem // v4
fn xVec$(j: u32) -> vec4<f32> { return swiglu4(X$[j], XU$[j]); } // x-swiglu // v4
fn putY$(i: u32, v: f32) { Y$[i] = epi$(i, v); } // y-mem // v1
fn putY$(i: u32, v: f32) { let r = swiglu_bwd4(vec4<f32>(YG$[i]), vec4<f32>(YU$[i]), vec4<f32>(v)); Y$[i] = r[0].x; YE$[i] = r[1].x; } // y-swiglu // v1
fn putY$(j: u32, v: vec4<f32>) { Y$[j] = epi$(j, v); } // y-mem // v4
fn putY$(j: u32, v: vec4<f32>) { let r = swiglu_bwd4(YG$[j], YU$[j], v); Y$[j] = r[0]; YE$[j] = r[1]; } // y-swiglu // v4

// What y holds at flat index i (vec4 j) given the k-sum v: the sum, or the earlier result plus the
// sum (the add a separate elementwise kernel would do, on the same two values: the same bits).
fn epi$(i: u32, v: f32) -> f32 { return v; } // plain // v1
fn epi$(i: u32, v: f32) -> f32 { return D$[i] + v; } // acc // v1
fn epi$(j: u32, v: vec4<f32>) -> vec4<f32> { return v; } // plain // v4
fn epi$(j: u32, v: vec4<f32>) -> vec4<f32> { return D$[j] + v; } // acc // v4

// Quads: x's storage row `row`, columns k .. k+3 (of K); W's storage (from wBase) row r of `rows`,
// columns c .. c+3 of `cols` — op(W_e)[k, n .. n+3] without TRANS_W, W_e[n, k .. k+3] with it.
// Zeros outside the matrix.
fn x1$(i: u32, ok: bool) -> f32 { if (!ok) { return 0.0; } return xAt$(i); } // v1
fn xQuad$(row: u32, k: u32) -> vec4<f32> { let i = row * P$.K + k; return vec4<f32>(x1$(i, k < P$.K), x1$(i + 1u, k + 1u < P$.K), x1$(i + 2u, k + 2u < P$.K), x1$(i + 3u, k + 3u < P$.K)); } // v1
fn xQuad$(row: u32, k: u32) -> vec4<f32> { if (k >= P$.K) { return vec4<f32>(0.0); } return xVec$((row * P$.K + k) / 4u); } // v4
fn w1$(i: u32, ok: bool) -> f32 { if (!ok) { return 0.0; } return W$[i]; } // v1
fn wQuad$(wBase: u32, r: u32, c: u32, rows: u32, cols: u32) -> vec4<f32> { let i = wBase + r * cols + c; let ok = r < rows; return vec4<f32>(w1$(i, ok && c < cols), w1$(i + 1u, ok && c + 1u < cols), w1$(i + 2u, ok && c + 2u < cols), w1$(i + 3u, ok && c + 3u < cols)); } // v1
fn wQuad$(wBase: u32, r: u32, c: u32, rows: u32, cols: u32) -> vec4<f32> { if (r >= rows || c >= cols) { return vec4<f32>(0.0); } return W$[(wBase + r * cols + c) / 4u]; } // v4

// Row tile `tr` of the expert-aligned enumeration (see moe_grouped_matmul.wgsl): each expert's
// rows [offsets[e], offsets[e+1]) cut into tiles of TM rows from its first row, the experts in
// order (idle ones own no tile). Returns (e, first row, end row), or an empty range past the last
// tile. The host launches ceil(M / TM) + E row tiles, at least as many as there are.
fn alignedTile$(tr: u32) -> vec3<u32> {
  var before = 0u;
  for (var e = 0u; e < P$.E; e++) {
    let lo = u32(OFF$[e]);
    let hi = u32(OFF$[e + 1u]);
    let n = (hi - lo + TM - 1u) / TM;
    if (tr < before + n) {
      let m0 = lo + (tr - before) * TM;
      return vec3<u32>(e, m0, min(m0 + TM, hi));
    }
    before += n;
  }
  return vec3<u32>(0u, 0u, 0u);
}

// The row of x that holds row m (< M) of the product: m itself, or the token of slot m. A gathered
// pass looks its tile's rows up once (fwd_tile$ fills tileRows) and its staging reads them from
// workgroup memory, not slotAssign per staged element.
fn xRow$(m: u32) -> u32 { return m; } // direct
fn xRow$(m: u32) -> u32 { return u32(SLOTS$[m]) / P$.topk; } // gathered
fn tileRow$(m: u32, m0: u32) -> u32 { return m; } // direct
fn tileRow$(m: u32, m0: u32) -> u32 { return tileRows[m - m0]; } // gathered

// x[m, k .. k+3] if row m (of the tile at m0) is in the pass's segment [lo, hi), else zeros.
fn loadX$(m: u32, m0: u32, k: u32, lo: u32, hi: u32) -> vec4<f32> {
  if (m < lo || m >= hi) { return vec4<f32>(0.0); }
  return xQuad$(tileRow$(m, m0), k);
}

// Write the 4 outputs of row m from column n, if m is in [lo, hi) (hi ≤ M); columns past N dropped
// (none or all of them on the vec4 path).
fn storeY$(m: u32, n: u32, lo: u32, hi: u32, v: vec4<f32>) {
  if (m < lo || m >= hi) { return; }
  let row = m * P$.N; // v1
  if (n < P$.N) { putY$(row + n, v.x); } // v1
  if (n + 1u < P$.N) { putY$(row + n + 1u, v.y); } // v1
  if (n + 2u < P$.N) { putY$(row + n + 2u, v.z); } // v1
  if (n + 3u < P$.N) { putY$(row + n + 3u, v.w); } // v1
  if (n < P$.N) { putY$((m * P$.N + n) / 4u, v); } // v4
}

// Row tile tr (alignedTile$) × the TN columns from n0 of y: one expert's rows, one pass over K.
fn fwd_tile$(tx: u32, ty: u32, lid: u32, tr: u32, n0: u32) {
  if (lid == 0u) {
    seg = alignedTile$(tr);
  }
  let s = workgroupUniformLoad(&seg);
  let lo = s.y;
  let hi = s.z;
  if (hi <= lo) {
    return; // past the last tile (uniform: s came through workgroupUniformLoad)
  }
  let m0 = lo;
  let mA = m0 + ty * 4u;           // first row of the thread's upper half
  let mB = m0 + TM / 2u + ty * 4u; // … of its lower half
  let nA = n0 + tx * 4u;
  let nB = n0 + TN / 2u + tx * 4u;
  let wBase = s.x * P$.N * P$.K;
  // An expert's last tile may hold fewer than TM rows: stage only its row quads, and let each
  // thread run the FMAs of its halves that hold a row of the tile (rows ty·4 … and TM/2 + ty·4 …):
  // the rest would only ever fill accumulators that are not stored. No barrier is inside
  // accumulate, so the branch may differ between threads.
  let quads = (hi - lo + 3u) / 4u;
  let upper = ty * 4u < hi - lo;
  let lower = TM / 2u + ty * 4u < hi - lo;
  for (var t = lid; t < TM; t += NT) { tileRows[t] = xRow$(min(m0 + t, P$.M - 1u)); } // gathered
  workgroupBarrier(); // gathered

  var acc = zeroBlock();
  for (var k0 = 0u; k0 < P$.K; k0 += TK) {
    // Stage x[m0 .. m0+TM, k0 .. k0+TK]: a 4 × 4 block per slot (rows m .. m+3, the k-quad k4; k
    // is contiguous in memory), transposed into 4 k-rows of As; rows outside the segment are
    // zeros. Only the tile's row quads are staged: no thread reads the As rows after them (a
    // thread's row halves past the tile skip their FMAs, below) …
    for (var t = lid; t < (TK / 4u) * quads; t += NT) {
      let k4 = t % (TK / 4u);
      let m4 = t / (TK / 4u);
      let m = m0 + m4 * 4u;
      let kk = k0 + k4 * 4u;
      let r0 = loadX$(m, m0, kk, lo, hi);
      let r1 = loadX$(m + 1u, m0, kk, lo, hi);
      let r2 = loadX$(m + 2u, m0, kk, lo, hi);
      let r3 = loadX$(m + 3u, m0, kk, lo, hi);
      let row = k4 * 4u * SA + m4;
      As[row] = vec4<f32>(r0.x, r1.x, r2.x, r3.x);
      As[row + SA] = vec4<f32>(r0.y, r1.y, r2.y, r3.y);
      As[row + 2u * SA] = vec4<f32>(r0.z, r1.z, r2.z, r3.z);
      As[row + 3u * SA] = vec4<f32>(r0.w, r1.w, r2.w, r3.w);
    }
    // … and op(W_e)[k0 .. k0+TK, n0 .. n0+TN].
    if (TRANS_W$) {
      // W_e [N, K]: 4 × 4 blocks (columns n .. n+3 of op(W_e), a k-quad), transposed likewise.
      for (var t = lid; t < (TK / 4u) * (TN / 4u); t += NT) {
        let k4 = t % (TK / 4u);
        let n4 = t / (TK / 4u);
        let n = n0 + n4 * 4u;
        let kk = k0 + k4 * 4u;
        let c0 = wQuad$(wBase, n, kk, P$.N, P$.K);
        let c1 = wQuad$(wBase, n + 1u, kk, P$.N, P$.K);
        let c2 = wQuad$(wBase, n + 2u, kk, P$.N, P$.K);
        let c3 = wQuad$(wBase, n + 3u, kk, P$.N, P$.K);
        let row = k4 * 4u * SB + n4;
        Bs[row] = vec4<f32>(c0.x, c1.x, c2.x, c3.x);
        Bs[row + SB] = vec4<f32>(c0.y, c1.y, c2.y, c3.y);
        Bs[row + 2u * SB] = vec4<f32>(c0.z, c1.z, c2.z, c3.z);
        Bs[row + 3u * SB] = vec4<f32>(c0.w, c1.w, c2.w, c3.w);
      }
    } else {
      // W_e [K, N]: one quad of 4 consecutive n per slot (n contiguous in memory).
      for (var t = lid; t < TK * (TN / 4u); t += NT) {
        let k = t / (TN / 4u);
        let n4 = t % (TN / 4u);
        Bs[k * SB + n4] = wQuad$(wBase, k0 + k, n0 + n4 * 4u, P$.K, P$.N);
      }
    }
    workgroupBarrier();
    if (lower) {
      accumulate(&acc, tx, ty);
    } else if (upper) {
      accumulateUpper(&acc, tx, ty);
    }
    workgroupBarrier();
  }

  storeY$(mA, nA, lo, hi, acc.r00); storeY$(mA, nB, lo, hi, acc.r01);
  storeY$(mA + 1u, nA, lo, hi, acc.r10); storeY$(mA + 1u, nB, lo, hi, acc.r11);
  storeY$(mA + 2u, nA, lo, hi, acc.r20); storeY$(mA + 2u, nB, lo, hi, acc.r21);
  storeY$(mA + 3u, nA, lo, hi, acc.r30); storeY$(mA + 3u, nB, lo, hi, acc.r31);
  storeY$(mB, nA, lo, hi, acc.r40); storeY$(mB, nB, lo, hi, acc.r41);
  storeY$(mB + 1u, nA, lo, hi, acc.r50); storeY$(mB + 1u, nB, lo, hi, acc.r51);
  storeY$(mB + 2u, nA, lo, hi, acc.r60); storeY$(mB + 2u, nB, lo, hi, acc.r61);
  storeY$(mB + 3u, nA, lo, hi, acc.r70); storeY$(mB + 3u, nB, lo, hi, acc.r71);
}
