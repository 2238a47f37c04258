// One weight-gradient grouped product of moe_grouped_matmul.wgsl: dW_e = Σ_{m in segment e}
// dy[m, :]ᵀ · x[m, :] (see the design notes there). A template, like moe_grouped_fwd.wgsl: `$`
// in names becomes the product's suffix, `P$` its uniform block (M, B, A, E, splits[, topk]); its
// bindings are x, out, dy, offsets[, slotAssign]. In the `backward` kernel dy and the offsets are the
// input-gradient product's own buffers: the host drops the lines ending in `// own` and renames
// DY$ and OFF$ to that product's names.
//
// Gathered rows (as in moe_grouped_fwd.wgsl): x may be the tokens' rows [N, A], row m of the
// product then being token row slotAssign[m] / P$.topk of it (the row `gather` would have put in
// slot m: the same sums, the same bits). Lines ending in `// direct` are kept for a product reading
// x's rows as they are, those ending in `// gathered` or `// slots` (its slotAssign binding, after
// the others) for a gathered one.
//
// SwiGLU (as in moe_grouped_fwd.wgsl): lines ending in `// xg-swiglu` are kept, `// xg-mem`
// dropped, for a product whose x is silu(G)·U (XG$ then holds G, XGU$ holds U).
//
// Load paths (as in moe_grouped_fwd.wgsl): lines ending in `// v1` are kept for scalar views of
// the f32 buffers, `// v4` for vec4 views (A and B multiples of 4: every quad below is one load).

@group(0) @binding(#0) var<storage, read> XG$: array<f32>; // v1
@group(0) @binding(#0) var<storage, read> XG$: array<vec4<f32>>; // v4
@group(0) @binding(#1) var<storage, read_write> OUT$: array<f32>; // v1
@group(0) @binding(#1) var<storage, read_write> OUT$: array<vec4<f32>>; // v4
@group(0) @binding(#2) var<storage, read> DY$: array<f32>; // own // v1
@group(0) @binding(#2) var<storage, read> DY$: array<vec4<f32>>; // own // v4
@group(0) @binding(#3) var<storage, read> OFF$: array<i32>; // own
@group(0) @binding(#4) var<storage, read> SLOTS$: array<i32>; // slots
@group(0) @binding(#5) var<storage, read> XGU$: array<f32>; // xg-swiglu // v1
@group(0) @binding(#5) var<storage, read> XGU$: array<vec4<f32>>; // xg-swiglu // v4

// Element i (v1) or vec4 j (v4) of x's storage.
fn xgAt$(i: u32) -> f32 { return XG$[i]; } // xg-mem // v1
fn xgAt$(i: u32) -> f32 { return swiglu4(vec4<f32>(XG$[i]), vec4<f32>(XGU$[i])).x; } // xg-swiglu // v1
fn xgVec$(j: u32) -> vec4<f32> { return XG$[j]; } // xg-mem // v4
fn xgVec$(j: u32) -> vec4<f32> { return swiglu4(XG$[j], XGU$[j]); } // xg-swiglu // v4

// dy[row, j .. j+3] (row < hi; columns past B are zeros).
fn dy1$(i: u32, ok: bool) -> f32 { if (!ok) { return 0.0; } return DY$[i]; } // v1
fn loadDy$(row: u32, j: u32, hi: u32) -> vec4<f32> {
  if (row >= hi) { return vec4<f32>(0.0); }
  let i = row * P$.B + j; // v1
  return vec4<f32>(dy1$(i, j < P$.B), dy1$(i + 1u, j + 1u < P$.B), dy1$(i + 2u, j + 2u < P$.B), dy1$(i + 3u, j + 3u < P$.B)); // v1
  if (j >= P$.B) { return vec4<f32>(0.0); } // v4
  return DY$[(row * P$.B + j) / 4u]; // v4
}

// The row of x that holds row m (< M) of the product: m itself, or the token of slot m.
fn xgRow$(m: u32) -> u32 { return m; } // direct
fn xgRow$(m: u32) -> u32 { return u32(SLOTS$[m]) / P$.topk; } // gathered
// x's row for K-step row k (product row `row`, clipped to the segment): a gathered product looks
// the K-step's rows up once (wgrad_tile$ fills kRows), not per staged vec4.
fn kRow$(k: u32, row: u32, hi: u32) -> u32 { return min(row, hi - 1u); } // direct
fn kRow$(k: u32, row: u32, hi: u32) -> u32 { return kRows[k]; } // gathered

// x[src, i .. i+3] for product row `row` held in x's row src (row < hi; columns past A are zeros).
fn xg1$(i: u32, ok: bool) -> f32 { if (!ok) { return 0.0; } return xgAt$(i); } // v1
fn loadXg$(row: u32, src: u32, i: u32, hi: u32) -> vec4<f32> {
  if (row >= hi) { return vec4<f32>(0.0); }
  let f = src * P$.A + i; // v1
  return vec4<f32>(xg1$(f, i < P$.A), xg1$(f + 1u, i + 1u < P$.A), xg1$(f + 2u, i + 2u < P$.A), xg1$(f + 3u, i + 3u < P$.A)); // v1
  if (i >= P$.A) { return vec4<f32>(0.0); } // v4
  return xgVec$((src * P$.A + i) / 4u); // v4
}

// Write the 4 outputs of row j from column i, dropping those outside [B, A] (none or all of them
// on the vec4 path).
fn storeG$(base: u32, j: u32, i: u32, v: vec4<f32>) {
  if (j >= P$.B) { return; }
  let row = base + j * P$.A; // v1
  if (i < P$.A) { OUT$[row + i] = v.x; } // v1
  if (i + 1u < P$.A) { OUT$[row + i + 1u] = v.y; } // v1
  if (i + 2u < P$.A) { OUT$[row + i + 2u] = v.z; } // v1
  if (i + 3u < P$.A) { OUT$[row + i + 3u] = v.w; } // v1
  if (i < P$.A) { OUT$[(base + j * P$.A + i) / 4u] = v; } // v4
}

// The TM × TN tile (xy, in tiles) of expert (z % E)'s gradient, chunk z / E of its segment.
fn wgrad_tile$(tx: u32, ty: u32, lid: u32, wid: vec3<u32>) {
  let j0 = wid.y * TM; // output rows: columns of dy
  let i0 = wid.x * TN; // output columns: columns of x
  let e = wid.z % P$.E;
  let split = wid.z / P$.E;
  let slotsA = TK * (TM / 4u);
  let slotsB = TK * (TN / 4u);

  // This job's rows [lo, hi): chunk `split` of expert e's segment.
  if (lid == 0u) {
    let segLo = u32(OFF$[e]);
    let segHi = u32(OFF$[e + 1u]);
    // Rounded up to 32 (a multiple of every TK), not to TK: the chunks, and so the sums, are the
    // shape's alone, whatever K tile the device's workgroup memory allows.
    let chunk = ((segHi - segLo + P$.splits - 1u) / P$.splits + 31u) / 32u * 32u;
    let lo = min(segHi, segLo + split * chunk);
    seg = vec3<u32>(lo, min(segHi, lo + chunk), 0u);
  }
  let s = workgroupUniformLoad(&seg);
  let lo = s.x;
  let hi = s.y;

  var acc = zeroBlock();
  for (var k0 = lo; k0 < hi; k0 += TK) {
    for (var t = lid; t < TK; t += NT) { kRows[t] = xgRow$(min(k0 + t, hi - 1u)); } // gathered
    workgroupBarrier(); // gathered
    // op(A)[j, k] = dy[k0 + k, j0 + j]: j is contiguous in memory, a straight quad copy.
    for (var t = lid; t < slotsA; t += NT) {
      let k = t / (TM / 4u);
      let j4 = t % (TM / 4u);
      let row = k0 + k;
      let j = j0 + j4 * 4u;
      As[k * SA + j4] = loadDy$(row, j, hi);
    }
    // op(B)[k, i] = x[k0 + k, i0 + i]: i contiguous, likewise (x's row of each k found once, kRow$;
    // k0 < hi, so min(row, hi - 1) is a row of the product even past the segment's end).
    for (var t = lid; t < slotsB; t += NT) {
      let k = t / (TN / 4u);
      let i4 = t % (TN / 4u);
      let row = k0 + k;
      let src = kRow$(k, row, hi);
      let i = i0 + i4 * 4u;
      Bs[k * SB + i4] = loadXg$(row, src, i, hi);
    }
    workgroupBarrier();
    accumulate(&acc, tx, ty);
    workgroupBarrier();
  }

  // out[split][e] (scratch layout [splits, E, B, A]; with splits = 1 it is the result [E, B, A]).
  let base = wid.z * P$.B * P$.A; // wid.z = split · E + e
  let jA = j0 + ty * 4u;
  let jB = j0 + TM / 2u + ty * 4u;
  let iA = i0 + tx * 4u;
  let iB = i0 + TN / 2u + tx * 4u;
  storeG$(base, jA, iA, acc.r00); storeG$(base, jA, iB, acc.r01);
  storeG$(base, jA + 1u, iA, acc.r10); storeG$(base, jA + 1u, iB, acc.r11);
  storeG$(base, jA + 2u, iA, acc.r20); storeG$(base, jA + 2u, iB, acc.r21);
  storeG$(base, jA + 3u, iA, acc.r30); storeG$(base, jA + 3u, iB, acc.r31);
  storeG$(base, jB, iA, acc.r40); storeG$(base, jB, iB, acc.r41);
  storeG$(base, jB + 1u, iA, acc.r50); storeG$(base, jB + 1u, iB, acc.r51);
  storeG$(base, jB + 2u, iA, acc.r60); storeG$(base, jB + 2u, iB, acc.r61);
  storeG$(base, jB + 3u, iA, acc.r70); storeG$(base, jB + 3u, iB, acc.r71);
}
