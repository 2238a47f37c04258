// Fine-grained quantization to low-precision codes, and dequantization (spec §3).
// shaders/fp8_codec.wgsl is prepended (encoders, decoders, exact division, scale rules).
//
// Layouts (engine/backend.ts QTensor): codes are u32 words, four codes each (code j of a row at
// byte j % 4 of word j / 4), [rows, colsPadded / 4] with colsPadded = ceil(cols / B)·B; padding
// codes are 0. Scales are f32: [rows, colsPadded / B] for 1×B row tiles, [ceil(rows / B),
// colsPadded / B] for B×B blocks. Formats: 0 e4m3, 1 e5m2, 2 e2m1; rules: 0 f32, 1 ue8m0, 2 mx.
//
// The codes follow from integer arithmetic on f32 bit patterns (the amax is a max of magnitude
// bit patterns; the code of x / s is that of the correctly rounded quotient: lowp_encode_div_bits
// takes the f32 `/` only where its ≤ 2.5 ULP error cannot change the code, else the integer long
// division f32_div_rn_bits), so the codes and scales equal the CPU reference bit for bit on every
// GPU, whatever its float division accuracy or denormal mode.

struct QParams {
  rows: u32,
  cols: u32,
  words_per_row: u32, // colsPadded / 4
  n_tiles: u32,       // colsPadded / B
  block: u32,         // B (a power of two ≥ 4)
  format: u32,
  rule: u32,
}

/** Threads per workgroup of quantize_rows (one 1×B tile per thread). */
override WG: u32 = 64;
/**
 * quantize_rows with TRANS = 1 quantizes the transpose of its input in place: the logical
 * [rows, cols] matrix is xᵀ of the stored x [cols, rows] (element (r, c) at c · rows + r), so
 * Q_rows(xᵀ) needs no transpose pass. Same codes and scales as quantizing a transposed copy.
 */
override TRANS: u32 = 0;
/** Threads per workgroup of quantize_blocks (one workgroup per B×B block). */
override WGB: u32 = 256;

@group(0) @binding(0) var<storage, read> q_x: array<u32>; // f32 input, read as bit patterns
@group(0) @binding(1) var<storage, read_write> q_codes: array<u32>;
@group(0) @binding(2) var<storage, read_write> q_scales: array<u32>; // f32 scales as bits
@group(0) @binding(3) var<uniform> q_p: QParams;

var<workgroup> redb: array<u32, WGB>;

// The geometry of one quantize_rows job: the logical [rows, cols] matrix (stored transposed when
// trans = 1), its code and scale layout, and the element offsets of its input and outputs in the
// bound buffers (0 for quantize_rows; quantize_rows_multi reads them from its job table).
struct RowJob {
  first: u32, // first tile (thread) of the job in a quantize_rows_multi dispatch
  rows: u32,
  cols: u32,
  words_per_row: u32,
  n_tiles: u32,
  trans: u32,
  x0: u32,
  c0: u32,
  s0: u32,
}

/** The 4 input bit patterns of word w of row r (0 beyond cols, i.e. padding is +0). */
fn load_word_of(g: RowJob, r: u32, w: u32) -> vec4<u32> {
  var v = vec4<u32>(0u);
  let c0 = w * 4u;
  for (var j = 0u; j < 4u; j = j + 1u) {
    if (c0 + j < g.cols) {
      if (g.trans == 1u) {
        v[j] = q_x[g.x0 + (c0 + j) * g.rows + r];
      } else {
        v[j] = q_x[g.x0 + r * g.cols + c0 + j];
      }
    }
  }
  return v;
}

/** load_word_of for quantize_blocks' own uniform geometry. */
fn load_word(r: u32, w: u32) -> vec4<u32> {
  return load_word_of(RowJob(0u, q_p.rows, q_p.cols, q_p.words_per_row, q_p.n_tiles, TRANS, 0u, 0u, 0u), r, w);
}

/** max |x| over the word, as magnitude bit patterns (monotone in |x| for non-NaN f32). */
fn word_amax(v: vec4<u32>) -> u32 {
  let m = v & vec4<u32>(0x7FFFFFFFu);
  return max(max(m.x, m.y), max(m.z, m.w));
}

/** Encode word w of a row with scale bits s: codes of fround(x / s), padding columns (≥ cols) 0. */
fn encode_word_of(v: vec4<u32>, w: u32, s: u32, cols: u32, format: u32) -> u32 {
  var c = vec4<u32>(0u);
  for (var j = 0u; j < 4u; j = j + 1u) {
    if (w * 4u + j < cols) {
      c[j] = lowp_encode_div_bits(v[j], s, format);
    }
  }
  return fp8_pack4(c.x, c.y, c.z, c.w);
}

fn encode_word(v: vec4<u32>, w: u32, s: u32) -> u32 {
  return encode_word_of(v, w, s, q_p.cols, q_p.format);
}

// 1×B tiles along each row: one thread per tile, no workgroup memory and no barriers. The thread
// takes the tile's amax over its B/4 words (a max of magnitude bit patterns: order-free, so any
// grouping gives the same bits), derives the scale, then re-reads the words (from cache) and
// encodes them; padding words (columns ≥ cols, inside the last tile) are written as code 0.
// Threads run tile-major (thread t = tile · rows + r), so with TRANS neighbouring threads read
// neighbouring addresses of the stored x. A cooperative version (a thread per word and a tree
// per tile in workgroup memory) spent most of its time in barriers and idle lanes: a 512 × 64
// activation took 3× a 512 × 64 × 64 GEMM on lavapipe.
fn rows_tile(g: RowJob, t: u32, block: u32, format: u32, rule: u32) {
  let r = t % g.rows;
  let tile = t / g.rows;
  let tw = block / 4u; // words per tile
  let w0 = tile * tw;
  var m = 0u;
  for (var w = w0; w < w0 + tw; w = w + 1u) {
    m = max(m, word_amax(load_word_of(g, r, w)));
  }
  let s = lowp_scale_bits(m, format, rule);
  for (var w = w0; w < w0 + tw; w = w + 1u) {
    q_codes[g.c0 + r * g.words_per_row + w] = encode_word_of(load_word_of(g, r, w), w, s, g.cols, format);
  }
  q_scales[g.s0 + r * g.n_tiles + tile] = s;
}

@compute @workgroup_size(WG)
fn quantize_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * (nwg.x * WG);
  if (t >= q_p.rows * q_p.n_tiles) {
    return;
  }
  rows_tile(RowJob(0u, q_p.rows, q_p.cols, q_p.words_per_row, q_p.n_tiles, TRANS, 0u, 0u, 0u), t, q_p.block,
            q_p.format, q_p.rule);
}

// quantize_rows for many jobs in one dispatch (a step's weights: Q_rows(w) and Q_rows(wᵀ) of each,
// read in place from the parameter arena): thread t takes tile t of the concatenated tile lists;
// its job is the last one whose first tile is ≤ t (a binary search of the table). The same
// per-tile work as quantize_rows, so the same bits.
struct RowsMulti {
  block: u32,
  format: u32,
  rule: u32,
  count: u32, // jobs
  tiles: u32, // total tiles
}
@group(0) @binding(3) var<storage, read> rm_jobs: array<RowJob>;
@group(0) @binding(4) var<uniform> rm: RowsMulti;

@compute @workgroup_size(WG)
fn quantize_rows_multi(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * (nwg.x * WG);
  if (t >= rm.tiles) {
    return;
  }
  var lo = 0u;
  var hi = rm.count - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (rm_jobs[mid].first <= t) { lo = mid; } else { hi = mid - 1u; }
  }
  let g = rm_jobs[lo];
  rows_tile(g, t - g.first, rm.block, rm.format, rm.rule);
}

// B×B blocks: one workgroup per block (wid.x = column block, wid.y = row block). Pass 1: each
// thread takes a strided share of the block's B·B/4 words and keeps a running max; a fixed-order
// tree over WGB threads gives the block amax. Pass 2 re-reads the words (from cache) and encodes.
// Rows at or beyond `rows` are not part of the block.
@compute @workgroup_size(WGB)
fn quantize_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let B = q_p.block;
  let tw = B / 4u;
  let nwords = B * tw;
  let r0 = wid.y * B;
  let w0 = wid.x * tw;

  var m = 0u;
  for (var i = lid; i < nwords; i = i + WGB) {
    let r = r0 + i / tw;
    if (r < q_p.rows) {
      m = max(m, word_amax(load_word(r, w0 + i % tw)));
    }
  }
  redb[lid] = m;
  workgroupBarrier();
  for (var stride = WGB / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      redb[lid] = max(redb[lid], redb[lid + stride]);
    }
    workgroupBarrier();
  }
  let s = lowp_scale_bits(redb[0], q_p.format, q_p.rule);
  if (lid == 0u) {
    q_scales[wid.y * q_p.n_tiles + wid.x] = s;
  }
  for (var i = lid; i < nwords; i = i + WGB) {
    let r = r0 + i / tw;
    if (r < q_p.rows) {
      let w = w0 + i % tw;
      q_codes[r * q_p.words_per_row + w] = encode_word(load_word(r, w), w, s);
    }
  }
}

// ---- quantize_blocks_pair: Q_blocks(w) and Q_blocks(wᵀ) in one pass ----
//
// A B×B block of wᵀ is the transpose of a block of w: same elements, so the same amax and scale,
// and each code is the same encode(x / s). One workgroup per block of w computes the amax once
// (as quantize_blocks does) and writes both layouts: w's codes [rows, wpr] and scales
// [ceil(rows / B), n_tiles], and wᵀ's codes [cols, t_wpr] (t_wpr = ceil(rows / B) · B / 4; the
// padding rows of w are wᵀ's padding columns, code 0) and scales [n_tiles, ceil(rows / B)].
// It replaces a transpose dispatch and a second quantize_blocks (the weight's Dgrad operand).
//
// quantize_blocks_pairs does the same for many weights in one dispatch (a step's weights, once
// per step): they are slices of one buffer (the parameter arena) and their four outputs slices of
// four buffers, so each block's workgroup finds its weight in a table of segments and runs the
// same block body with that weight's geometry and element offsets: the same bits as one
// quantize_blocks_pair per weight.

struct PParams {
  rows: u32,
  cols: u32,
  words_per_row: u32, // w: colsPadded / 4
  n_tiles: u32,       // w: colsPadded / B (= wᵀ's scale rows)
  block: u32,
  format: u32,
  rule: u32,
  t_words_per_row: u32, // wᵀ: rowsPadded / 4
  t_tiles: u32,         // wᵀ: rowsPadded / B (= w's scale rows)
}

// One weight of quantize_blocks_pairs: its first block (workgroup) in the dispatch, its geometry
// (PParams' first four and last two fields) and the element offsets of w and of its four outputs.
struct PSeg {
  first: u32,
  rows: u32,
  cols: u32,
  words_per_row: u32,
  n_tiles: u32,
  t_words_per_row: u32,
  t_tiles: u32,
  x0: u32,  // w in q_x
  c0: u32,  // codes in q_codes
  s0: u32,  // scales in q_scales
  ct0: u32, // wᵀ's codes in pq_codes_t
  st0: u32, // wᵀ's scales in pq_scales_t
}

// The shared part of the pairs dispatch: the format, and how many weights the table holds.
struct PMulti {
  block: u32,
  format: u32,
  rule: u32,
  count: u32,
  blocks: u32, // total blocks (workgroups that have work)
}

@group(0) @binding(3) var<storage, read_write> pq_codes_t: array<u32>;
@group(0) @binding(4) var<storage, read_write> pq_scales_t: array<u32>;
@group(0) @binding(5) var<uniform> pq: PParams;
@group(0) @binding(5) var<storage, read> pm_segs: array<PSeg>;
@group(0) @binding(6) var<uniform> pm: PMulti;
var<workgroup> pm_seg: PSeg; // the workgroup's weight, read once and shared (uniform)

/** w[r, c] as bits, +0 outside the matrix. */
fn pq_load(g: PSeg, r: u32, c: u32) -> u32 {
  if (r >= g.rows || c >= g.cols) {
    return 0u;
  }
  return q_x[g.x0 + r * g.cols + c];
}

/** Code of w[r, c] with scale bits s; 0 (padding) outside the matrix. */
fn pq_code(g: PSeg, r: u32, c: u32, s: u32, format: u32) -> u32 {
  if (r >= g.rows || c >= g.cols) {
    return 0u;
  }
  return lowp_encode_div_bits(q_x[g.x0 + r * g.cols + c], s, format);
}

// Block (bx, by) of weight g: amax, scale, both layouts. Uniform control flow (its barriers).
fn pair_block(g: PSeg, bx: u32, by: u32, lid: u32, B: u32, format: u32, rule: u32) {
  let tw = B / 4u;
  let r0 = by * B;
  let c0 = bx * B;
  // The block's rows and columns inside the matrix (r0 < rows and c0 < cols: the grid covers the
  // blocks only). The amax reads just those (max is order-free and the rest is +0); the codes
  // loops write every word of the block's real rows (w) and real columns (wᵀ), padding included.
  let rn = min(B, g.rows - r0);
  let cn = min(B, g.cols - c0);
  let cw = (cn + 3u) / 4u;

  var m = 0u;
  for (var i = lid; i < rn * cw; i = i + WGB) {
    let r = r0 + i / cw;
    let c = c0 + (i % cw) * 4u;
    let a = max(max(pq_load(g, r, c) & 0x7FFFFFFFu, pq_load(g, r, c + 1u) & 0x7FFFFFFFu),
                max(pq_load(g, r, c + 2u) & 0x7FFFFFFFu, pq_load(g, r, c + 3u) & 0x7FFFFFFFu));
    m = max(m, a);
  }
  redb[lid] = m;
  workgroupBarrier();
  for (var stride = WGB / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      redb[lid] = max(redb[lid], redb[lid + stride]);
    }
    workgroupBarrier();
  }
  let s = lowp_scale_bits(redb[0], format, rule);
  if (lid == 0u) {
    q_scales[g.s0 + by * g.n_tiles + bx] = s;
    pq_scales_t[g.st0 + bx * g.t_tiles + by] = s;
  }
  // w: word (r, c..c+3) for the block's rows r < rows (padding columns are code 0).
  for (var i = lid; i < rn * tw; i = i + WGB) {
    let r = r0 + i / tw;
    let c = c0 + (i % tw) * 4u;
    q_codes[g.c0 + r * g.words_per_row + c / 4u] = fp8_pack4(pq_code(g, r, c, s, format),
      pq_code(g, r, c + 1u, s, format), pq_code(g, r, c + 2u, s, format), pq_code(g, r, c + 3u, s, format));
  }
  // wᵀ: word (c, r..r+3) for the block's columns c < cols (w's padding rows are code 0).
  for (var i = lid; i < cn * tw; i = i + WGB) {
    let c = c0 + i / tw;
    let r = r0 + (i % tw) * 4u;
    pq_codes_t[g.ct0 + c * g.t_words_per_row + r / 4u] = fp8_pack4(pq_code(g, r, c, s, format),
      pq_code(g, r + 1u, c, s, format), pq_code(g, r + 2u, c, s, format), pq_code(g, r + 3u, c, s, format));
  }
}

@compute @workgroup_size(WGB)
fn quantize_blocks_pair(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = PSeg(0u, pq.rows, pq.cols, pq.words_per_row, pq.n_tiles, pq.t_words_per_row, pq.t_tiles,
               0u, 0u, 0u, 0u, 0u);
  pair_block(g, wid.x, wid.y, lid, pq.block, pq.format, pq.rule);
}

// Workgroup i (a 1-D grid, folded into 2-D past the per-dimension limit) takes block i of the
// concatenated block lists: its weight is the last segment whose first block is ≤ i, and inside
// the weight the blocks run row-block-major, as quantize_blocks_pair's grid (x = column block).
@compute @workgroup_size(WGB)
fn quantize_blocks_pairs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nwg.x;
  if (i >= pm.blocks) {
    return;
  }
  if (lid == 0u) {
    var k = 0u;
    for (var j = 1u; j < pm.count; j = j + 1u) {
      if (pm_segs[j].first <= i) {
        k = j;
      }
    }
    pm_seg = pm_segs[k];
  }
  let g = workgroupUniformLoad(&pm_seg);
  let b = i - g.first;
  pair_block(g, b % g.n_tiles, b / g.n_tiles, lid, pm.block, pm.format, pm.rule);
}

// ---- dequantize: out[r, c] = decode(code[r, c]) · scale(r, c), one thread per element ----

struct DParams {
  rows: u32,
  cols: u32,
  words_per_row: u32,
  n_tiles: u32,
  block: u32,
  format: u32,
  blocks: u32, // 0 = row tiles (scale row r), 1 = B×B blocks (scale row r / B)
}

override WGD: u32 = 256;

@group(0) @binding(0) var<storage, read> d_codes: array<u32>;
@group(0) @binding(1) var<storage, read> d_scales: array<f32>;
@group(0) @binding(2) var<storage, read_write> d_out: array<f32>;
@group(0) @binding(3) var<uniform> d_p: DParams;

@compute @workgroup_size(WGD)
fn dequantize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * (nwg.x * WGD);
  if (idx >= d_p.rows * d_p.cols) {
    return;
  }
  let r = idx / d_p.cols;
  let c = idx % d_p.cols;
  let code = fp8_unpack(d_codes[r * d_p.words_per_row + c / 4u], c % 4u);
  let sr = select(r, r / d_p.block, d_p.blocks == 1u);
  d_out[idx] = lowp_decode(code, d_p.format) * d_scales[sr * d_p.n_tiles + c / d_p.block];
}
