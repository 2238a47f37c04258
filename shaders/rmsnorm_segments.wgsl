// Segmented RMSNorm: one or two independent RMSNorms in one dispatch, each over the leading
// columns of a wider row (what MLA needs after its first projections: q_a's norm, and the latent
// norm over the first dc columns of [c_raw | kpe_raw], whose other columns are carried out
// unnormalized as kpe_raw).
//
// Segment s has x_s [N, S_s], weight w_s [D_s] (D_s ≤ S_s):
//   forward   rstd[s, n] = 1/sqrt(mean_{j<D} x[n,j]² + eps);   y[n,j] = x[n,j]·rstd·w[j]   (j < D)
//             rest[n, i] = x[n, D + i]                          (i < S − D: the carried columns)
//   backward  dx[n, j]   = rstd·w[j]·dy[n,j] − x[n,j]·rstd³·Σ_i w[i]·dy[n,i]·x[n,i] / D   (j < D)
//             dx[n, D+i] = drest[n, i]
//             dw[j]      = Σ_n dy[n,j]·x[n,j]·rstd[n]
//
// Bit for bit the values of rmsnorm.wgsl's kernels on each segment alone (and a copy for the
// carried columns). Those launch rowThreads(D) threads per row and their row sums' tree depends
// on that width; here one workgroup size (the larger segment's) serves both, so each segment's
// rows run on its own width: threads past it take no elements and stay out of the tree
// (workgroup_sum_n in rmsnorm.wgsl, the same tree as workgroup_sum at that width). The dw
// column groups split rows into the same chunks as rmsnorm_bwd (chunk_rows, a function of N):
// each chunk summed in increasing n, the chunks added in increasing c — the same sums whatever
// the threads per group.
//
// Layout of a dispatch: workgroups [0, N) take segment a's rows, [N, 2N) segment b's; the
// backward then has dw_groups of each segment's weight columns. rstd is one buffer [segments, N]
// (a segment's rows from its rstd0).
//
// The host composes a module from rmsnorm.wgsl (workgroup_sum_n, the lanes, WG, LANES,
// PART_CAP, part) and the sections of this file below, split at their `// ==== name` lines: the
// `forward` or `backward` template once per segment (`$` → the segment's suffix, `P$` its
// uniform block, `@binding(#k)` numbered after the shared bindings; lines ending in `// rest`
// dropped for a segment with no carried columns), then the matching entry section, with lines
// ending in `// two` dropped for one segment. `#U` is the uniform's binding.

// ==== common
struct Seg {
  cols: u32,       // D: the normalized columns
  stride: u32,     // S: x's row length; columns [D, S) are carried
  width: u32,      // threads this segment's rows use: rowThreads(D), what rmsnorm would launch
  dw_groups: u32,  // backward: workgroups for dw (WG / LANES columns each)
  rstd0: u32,      // where the segment's rstd rows start in RSTD
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

struct SegParams {
  rows: u32,        // N (every segment)
  eps: f32,
  chunks: u32,      // backward: dw row chunks
  chunk_rows: u32,  // backward: rows per chunk
  a: Seg,
  b: Seg,
}

// ==== forward
@group(0) @binding(#0) var<storage, read> X$: array<f32>;
@group(0) @binding(#1) var<storage, read> W$: array<f32>;
@group(0) @binding(#2) var<storage, read_write> Y$: array<f32>;
@group(0) @binding(#3) var<storage, read_write> REST$: array<f32>; // rest

// Row n of the segment; its rstd goes to RSTD[at]. As rmsnorm_fwd_row, on the segment's width.
fn seg_fwd$(n: u32, at: u32, lid: u32, lane: u32, sg: u32) {
  let D = P$.cols;
  let S = P$.stride;
  let width = P$.width;
  let xb = n * S;
  var acc = 0.0;
  if (lid < width) {
    for (var j = lid; j < D; j += width) {
      let v = X$[xb + j];
      acc += v * v;
    }
  }
  let r = 1.0 / sqrt(workgroup_sum_n(lid, acc, lane, sg, width) / f32(D) + SP.eps);
  if (lid == 0u) {
    RSTD[at] = r;
  }
  if (lid < width) {
    for (var j = lid; j < D; j += width) {
      Y$[n * D + j] = X$[xb + j] * r * W$[j];
    }
    for (var i = lid; i < S - D; i += width) { // rest
      REST$[n * (S - D) + i] = X$[xb + D + i]; // rest
    } // rest
  }
}

// ==== backward
@group(0) @binding(#0) var<storage, read> X$: array<f32>;
@group(0) @binding(#1) var<storage, read> W$: array<f32>;
@group(0) @binding(#2) var<storage, read> DY$: array<f32>;
@group(0) @binding(#3) var<storage, read_write> DX$: array<f32>;
@group(0) @binding(#4) var<storage, read_write> DW$: array<f32>;
@group(0) @binding(#5) var<storage, read> DREST$: array<f32>; // rest

// dx of row n (rstd at RSTD[at]), as rmsnorm_bwd_group's rows, on the segment's width.
fn seg_dx$(n: u32, at: u32, lid: u32, lane: u32, sg: u32) {
  let D = P$.cols;
  let S = P$.stride;
  let width = P$.width;
  let xb = n * S;
  let yb = n * D;
  var acc = 0.0;
  if (lid < width) {
    for (var j = lid; j < D; j += width) {
      acc += W$[j] * DY$[yb + j] * X$[xb + j];
    }
  }
  let s = workgroup_sum_n(lid, acc, lane, sg, width);
  let r = RSTD[at];
  let c = r * r * r * s / f32(D);
  if (lid < width) {
    for (var j = lid; j < D; j += width) {
      DX$[xb + j] = r * W$[j] * DY$[yb + j] - X$[xb + j] * c;
    }
    for (var i = lid; i < S - D; i += width) { // rest
      DX$[xb + D + i] = DREST$[n * (S - D) + i]; // rest
    } // rest
  }
}

// dw column group cg (rstd of row n at RSTD[r0 + n]), as rmsnorm_bwd_group's dw groups.
fn seg_dw$(cg: u32, r0: u32, lid: u32) {
  let D = P$.cols;
  let S = P$.stride;
  let CW = WG / LANES;
  let col = lid % CW;
  let chunk_lane = lid / CW;
  let j = cg * CW + col;
  if (j < D) {
    for (var c = chunk_lane; c < SP.chunks; c += LANES) {
      let n0 = c * SP.chunk_rows;
      let n1 = min(n0 + SP.chunk_rows, SP.rows);
      var acc = 0.0;
      for (var n = n0; n < n1; n++) {
        acc += DY$[n * D + j] * X$[n * S + j] * RSTD[r0 + n];
      }
      part[c * CW + col] = acc;
    }
  }
  workgroupBarrier();
  if (chunk_lane == 0u && j < D) {
    var total = 0.0;
    for (var c = 0u; c < SP.chunks; c++) {
      total += part[c * CW + col];
    }
    DW$[j] = total;
  }
}

// ==== forward entries
@group(0) @binding(0) var<storage, read_write> RSTD: array<f32>;
@group(0) @binding(#U) var<uniform> SP: SegParams;

// Workgroup g: a row of segment a, then of segment b. g is workgroup-uniform, so the early
// returns keep every barrier uniform.
fn segments_fwd_group(g: u32, lid: u32, lane: u32, sg: u32) {
  let N = SP.rows;
  if (g < N) {
    seg_fwd_a(g, SP.a.rstd0 + g, lid, lane, sg);
    return;
  }
  if (g < 2u * N) { // two
    seg_fwd_b(g - N, SP.b.rstd0 + g - N, lid, lane, sg); // two
  } // two
}

@compute @workgroup_size(WG)
fn segments_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  segments_fwd_group(wid.x + wid.y * nwg.x, lid, 0u, 1u);
}

// ==== backward entries
@group(0) @binding(0) var<storage, read> RSTD: array<f32>;
@group(0) @binding(#U) var<uniform> SP: SegParams;

// Workgroup g: a dx row of segment a, of segment b, then a dw group of a, of b (uniform in g).
fn segments_bwd_group(g: u32, lid: u32, lane: u32, sg: u32) {
  let N = SP.rows;
  var h = g;
  if (h < N) {
    seg_dx_a(h, SP.a.rstd0 + h, lid, lane, sg);
    return;
  }
  h -= N;
  if (h < N) { // two
    seg_dx_b(h, SP.b.rstd0 + h, lid, lane, sg); // two
    return; // two
  } // two
  h -= N; // two
  if (h < SP.a.dw_groups) {
    seg_dw_a(h, SP.a.rstd0, lid);
    return;
  }
  h -= SP.a.dw_groups;
  if (h < SP.b.dw_groups) { // two
    seg_dw_b(h, SP.b.rstd0, lid); // two
  } // two
}

@compute @workgroup_size(WG)
fn segments_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  segments_bwd_group(wid.x + wid.y * nwg.x, lid, 0u, 1u);
}

// ==== forward subgroup entries
@compute @workgroup_size(WG)
fn segments_fwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
                         @builtin(subgroup_size) sg: u32) {
  segments_fwd_group(wid.x + wid.y * nwg.x, lid, lane, sg);
}

// ==== backward subgroup entries
@compute @workgroup_size(WG)
fn segments_bwd_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
                         @builtin(subgroup_size) sg: u32) {
  segments_bwd_group(wid.x + wid.y * nwg.x, lid, lane, sg);
}
