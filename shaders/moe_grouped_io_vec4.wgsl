// I/O part of moe_grouped_matmul.wgsl, vec4 view: the same functions as moe_grouped_io_f32.wgsl
// for shapes whose every row length (a, b) is a multiple of 4 (the host checks, and that each
// buffer is a whole number of vec4s). Every row then starts on a 16-byte boundary and a vec4 is
// inside the matrix or outside it as a whole, so operands are read and results written 16 bytes
// at a time — a quarter of the memory instructions, and no per-element bounds checks.
// Where k is contiguous in memory (x, and w with TRANS_W) a thread loads a 4 × 4 block (4 rows
// × one k-quad, a vec4 per row) and transposes it in registers into 4 k-rows of the tile; where
// the tile's own dim is contiguous (w without TRANS_W, dy and x of the weight gradient) a slot is
// one vec4 load. The tile contents, and so the sums, are those of the scalar view.

@group(0) @binding(0) var<storage, read> f_x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> f_w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> f_y: array<vec4<f32>>;
@group(0) @binding(0) var<storage, read> g_dy: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> g_x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> g_out: array<vec4<f32>>;

// forward: stage x[m0 .. m0+TM, k0 .. k0+TK] (rows outside the segment [lo, hi) are zeros) and
// op(W_e)[k0 .. k0+TK, n0 .. n0+TN] into As / Bs.
fn stageForward(lid: u32, m0: u32, n0: u32, k0: u32, lo: u32, hi: u32, wBase: u32) {
  let K4 = fp.K / 4u;
  let N4 = fp.N / 4u;
  // x: a 4 × 4 block per slot (rows m .. m+3, k-quad k4), neighbouring threads on neighbouring
  // k-quads of a row.
  for (var t = lid; t < (TK / 4u) * (TM / 4u); t += NT) {
    let k4 = t % (TK / 4u);
    let m4 = t / (TK / 4u);
    let m = m0 + m4 * 4u;
    let kq = k0 / 4u + k4;
    var r: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
      let row = m + i;
      r[i] = select(vec4<f32>(0.0), f_x[min(row * K4 + kq, arrayLength(&f_x) - 1u)], row >= lo && row < hi && kq < K4);
    }
    let base = k4 * 4u * SA + m4;
    As[base] = vec4<f32>(r[0].x, r[1].x, r[2].x, r[3].x);
    As[base + SA] = vec4<f32>(r[0].y, r[1].y, r[2].y, r[3].y);
    As[base + 2u * SA] = vec4<f32>(r[0].z, r[1].z, r[2].z, r[3].z);
    As[base + 3u * SA] = vec4<f32>(r[0].w, r[1].w, r[2].w, r[3].w);
  }
  let w4 = wBase / 4u;
  if (TRANS_W) {
    // W_e [N, K]: 4 × 4 blocks (columns n .. n+3, k-quad k4), transposed into 4 k-rows.
    for (var t = lid; t < (TK / 4u) * (TN / 4u); t += NT) {
      let k4 = t % (TK / 4u);
      let n4 = t / (TK / 4u);
      let n = n0 + n4 * 4u;
      let kq = k0 / 4u + k4;
      var c: array<vec4<f32>, 4>;
      for (var i = 0u; i < 4u; i++) {
        c[i] = select(vec4<f32>(0.0), f_w[min(w4 + (n + i) * K4 + kq, arrayLength(&f_w) - 1u)], n + i < fp.N && kq < K4);
      }
      let base = k4 * 4u * SB + n4;
      Bs[base] = vec4<f32>(c[0].x, c[1].x, c[2].x, c[3].x);
      Bs[base + SB] = vec4<f32>(c[0].y, c[1].y, c[2].y, c[3].y);
      Bs[base + 2u * SB] = vec4<f32>(c[0].z, c[1].z, c[2].z, c[3].z);
      Bs[base + 3u * SB] = vec4<f32>(c[0].w, c[1].w, c[2].w, c[3].w);
    }
  } else {
    // W_e [K, N]: one vec4 of 4 consecutive n per slot.
    for (var t = lid; t < TK * (TN / 4u); t += NT) {
      let k = t / (TN / 4u);
      let n4 = t % (TN / 4u);
      let kk = k0 + k;
      let nq = n0 / 4u + n4;
      Bs[k * SB + n4] = select(vec4<f32>(0.0), f_w[min(w4 + kk * N4 + nq, arrayLength(&f_w) - 1u)], kk < fp.K && nq < N4);
    }
  }
}

// Write the 4 outputs of row m from column n (a multiple of 4), if m is in [lo, hi) and n < N.
fn storeY(m: u32, n: u32, lo: u32, hi: u32, v: vec4<f32>) {
  if (m < lo || m >= hi || n >= fp.N) { return; }
  f_y[(m * fp.N + n) / 4u] = v;
}

// weight_grad: stage op(A)[j, k] = dy[k0 + k, j0 + j] and op(B)[k, i] = x[k0 + k, i0 + i], one
// vec4 per slot (rows from hi on are zeros).
fn stageWeightGrad(lid: u32, j0: u32, i0: u32, k0: u32, hi: u32) {
  let B4 = gp.B / 4u;
  let A4 = gp.A / 4u;
  for (var t = lid; t < TK * (TM / 4u); t += NT) {
    let k = t / (TM / 4u);
    let j4 = t % (TM / 4u);
    let row = k0 + k;
    let jq = j0 / 4u + j4;
    As[k * SA + j4] = select(vec4<f32>(0.0), g_dy[min(row * B4 + jq, arrayLength(&g_dy) - 1u)], row < hi && jq < B4);
  }
  for (var t = lid; t < TK * (TN / 4u); t += NT) {
    let k = t / (TN / 4u);
    let i4 = t % (TN / 4u);
    let row = k0 + k;
    let iq = i0 / 4u + i4;
    Bs[k * SB + i4] = select(vec4<f32>(0.0), g_x[min(row * A4 + iq, arrayLength(&g_x) - 1u)], row < hi && iq < A4);
  }
}

// Write the 4 outputs of row j from column i (a multiple of 4), if j < B and i < A.
fn storeG(base: u32, j: u32, i: u32, v: vec4<f32>) {
  if (j >= gp.B || i >= gp.A) { return; }
  g_out[(base + j * gp.A + i) / 4u] = v;
}
