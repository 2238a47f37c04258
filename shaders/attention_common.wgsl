// Declarations shared by the causal-attention kernels attention_fwd, attention_bwd_dq and
// attention_bwd_dkdv. src/backends/webgpu/attention.ts prepends this file to each of them; it
// is not a shader on its own (attention_bwd_prep, a test-only reference for D, has its own,
// smaller uniform and does not use it).
//
// Here: the shape uniform's struct, the q/k/v bindings (0..2 in every kernel), the vec4 head-dim
// padding overrides, the register-tiling overrides, index helpers and the zero-padding row
// loaders. In each kernel file: its other bindings (they differ: the forward binds o at 3, the
// backward kernels dO), the uniform `U: Params` right after them (the helpers below read it), the
// block sizes BQ, BK (whose roles differ per kernel) and its workgroup memory.
//
// Layouts: q [B,T,H,dQK], k [B,T,Hkv,dQK], v [B,T,Hkv,dV]; per-row statistics (lse, D) [B,H,T].
//
// Tile precision. attention.ts prepends one line before this file naming the element type AT of
// the q / k / v / dO tiles in workgroup memory: `alias AT = f32;` (the default), or, where the
// device has shader-f16 and the run asked for f16 compute (precision.compute, the matmul's path),
// `enable f16; alias AT = f16;`. The operands are then rounded to f16 once, as they are staged,
// and widened back to f32 as they are read: products of two f16 values are exact in f32, and the
// scores, probabilities and every accumulator stay f32. Half the workgroup memory per tile (larger
// tiles fit) and half the bytes read from it per FMA. With AT = f32 the conversions are
// identities and the default path's bits do not change.
//
// Head dims are padded to vec4 in workgroup memory (DQ4 ≥ ceil(dQK/4), DV4 ≥ ceil(dV/4)); the
// pad lanes are zero so vec4 dot products are exact. Global tensors are plain f32 (head dims may
// be odd, so global rows are not vec4-aligned). Dot products loop over the real vec4 counts
// ceil(d/4), uniforms, rather than DQ4/DV4: a loop bound the compiler need not unroll (fully
// unrolled DQ4-long dots made shader compiles very slow on some drivers).

override DQ4: u32 = 16u;  // vec4 chunks per q/k row in workgroup memory (≥ ceil(dQK/4))
override DV4: u32 = 16u;  // vec4 chunks per v/o/dO row (≥ ceil(dV/4))

// Register tiling, shared by the three kernels: NR·NC lanes; lane (ty, tx) = (lid / NC, lid % NC)
// owns MR consecutive rows of the workgroup's block (query rows in fwd and dq, key rows in dkdv)
// and, in each streamed tile of 4·NC rows, the 4 score columns tx + NC·j (j < 4) and the
// accumulator chunks tx + NC·a (a < NA) of its rows. attention.ts picks them per kernel and
// device (NA = ceil(chunks / NC), MR ≤ MR_MAX, MR·NA ≤ ACC) along with KS, the odd row stride
// (vec4s) of a streamed q/k tile whose chunks are read down a column.
override MR: u32 = 4u;
override NR: u32 = 8u;
override NC: u32 = 8u;
override NA: u32 = 1u;
override KS: u32 = 17u;
const MR_MAX: u32 = 4u;  // private arrays are sized by consts: MR ≤ MR_MAX
const ACC: u32 = 32u;    // accumulator vec4s per lane (of each accumulated tensor): MR·NA ≤ ACC

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

// First element of row (b, t, head) of a [B, T, nHeads, d] tensor.
fn rowBase(b: u32, t: u32, head: u32, nHeads: u32, d: u32) -> u32 {
  return ((b * U.T + t) * nHeads + head) * d;
}

// Index of (b, h, t) in a per-row statistic [B, H, T] (lse, D).
fn statIndex(b: u32, h: u32, t: u32) -> u32 {
  return (b * U.H + h) * U.T + t;
}

// Loaders: chunk c4 (elements 4·c4 .. 4·c4+3) of one global row, as a vec4 for workgroup
// memory. Elements past the head dim (the vec4 padding) and whole rows with t ≥ T (tile rows
// past the end of the sequence) read as zero, so tiles need no other bounds checks.
fn inRow(t: u32, d: u32, n: u32) -> bool {
  return t < U.T && d < n;
}
fn loadQ4(b: u32, t: u32, h: u32, c4: u32) -> vec4<f32> {
  let base = rowBase(b, t, h, U.H, U.dQK);
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { let d = c4 * 4u + e; if (inRow(t, d, U.dQK)) { r[e] = q[base + d]; } }
  return r;
}
fn loadK4(b: u32, t: u32, g: u32, c4: u32) -> vec4<f32> {
  let base = rowBase(b, t, g, U.Hkv, U.dQK);
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { let d = c4 * 4u + e; if (inRow(t, d, U.dQK)) { r[e] = k[base + d]; } }
  return r;
}
fn loadV4(b: u32, t: u32, g: u32, c4: u32) -> vec4<f32> {
  let base = rowBase(b, t, g, U.Hkv, U.dV);
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { let d = c4 * 4u + e; if (inRow(t, d, U.dV)) { r[e] = v[base + d]; } }
  return r;
}

// The unscaled score tile of lane (ty, tx) in the kernels that own query rows and stream keys
// (fwd, dq): S[i·4 + j] = q_{r0+i} · k_{tx+NC·j} over the real vec4 chunks nq4, from their Q tile
// Qs (row stride DQ4) and streamed K tile Ks (row stride KS). Each k chunk is read once for MR
// rows and each q chunk once for 4 keys. (dkdv owns key rows: its tile is the transpose, computed
// in place.)
fn queryRowScores(r0: u32, tx: u32, nq4: u32) -> array<f32, 16> {
  return queryRowScoresAt(r0, tx, NC, nq4);
}

// queryRowScores for key columns col + stride·j (the forward's virtual column lanes).
fn queryRowScoresAt(r0: u32, col: u32, stride: u32, nq4: u32) -> array<f32, 16> {
  var s: array<f32, 16>;
  for (var x = 0u; x < 16u; x++) { s[x] = 0.0; }
  for (var d = 0u; d < nq4; d++) {
    var kv: array<vec4<f32>, 4>;
    for (var j = 0u; j < 4u; j++) { kv[j] = vec4<f32>(Ks[(col + stride * j) * KS + d]); }
    for (var i = 0u; i < MR; i++) {
      let qv = vec4<f32>(Qs[(r0 + i) * DQ4 + d]);
      for (var j = 0u; j < 4u; j++) { s[i * 4u + j] += dot(qv, kv[j]); }
    }
  }
  return s;
}
