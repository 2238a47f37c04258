// Layout ops: pure data movement, no arithmetic. Row-major, last dim contiguous.
//
//   slice_last   x [R, D]      → out [R, len]     out[r, j] = x[r, start + j]
//   pad_last     x [R, L]      → out [R, total]   out[r, j] = x[r, j − start] if start ≤ j < start + L, else 0
//   concat_last  a [R, Da], b [R, Db] → out [R, Da + Db]
//                                                 out[r, j] = j < Da ? a[r, j] : b[r, j − Da]
//   swap01       x [A, B, C]   → out [B, A, C]    out[b, a, c] = x[a, b, c]
//   split_last   x [R, D]      → a [R, Da], b [R, D − Da]   a[r, j] = x[r, j], b[r, j] = x[r, Da + j]
//                (two slices in one pass: one invocation per INPUT element, which writes it to
//                the one output it lands in; each output element is still written exactly once)
//
// (R is the product of all leading dims.) Every kernel is a gather: one invocation per OUTPUT
// element, which decodes its output coordinates from the flat index and reads the one input
// element it copies (or writes 0). Output writes are fully coalesced; reads are coalesced
// along the contiguous last dim. Every output element is written exactly once, so the pooled
// (uninitialized) output needs no clearing, and the result is exact: a copy, bit for bit.
//
// V is the unit one invocation moves. The TS side compiles this text twice:
//   - as written, V = vec4<f32> (16 bytes per load and store), used when every column count
//     and offset is a multiple of 4 — then no vec4 straddles a row or a slice boundary — and
//     every buffer's byte size is a multiple of 16. All sizes and offsets in Params are then
//     given in vec4 units.
//   - with the alias line replaced by `alias V = f32;` for everything else.
// Launch: 1-D over the output V-elements, WG invocations per workgroup, folded into a 2-D grid
// past 65535 workgroups: i = gid.x + gid.y · (nwg.x · WG).

alias V = vec4<f32>;

override WG: u32 = 256;

struct Params {
  n: u32,  // output V-elements (split: input V-elements)
  p0: u32, // slice: D      pad: L      concat: Da   swap01: A   split: D
  p1: u32, // slice: len    pad: total  concat: Db   swap01: B   split: Da
  p2: u32, // slice: start  pad: start  concat: –    swap01: C   split: –
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * (nwg.x * WG);
}

// ---- one input: slice_last, pad_last, swap01 ----
@group(0) @binding(0) var<storage, read> u_x: array<V>;
@group(0) @binding(1) var<storage, read_write> u_out: array<V>;
@group(0) @binding(2) var<uniform> u_p: Params;

@compute @workgroup_size(WG)
fn slice_last(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= u_p.n) {
    return;
  }
  let D = u_p.p0;
  let len = u_p.p1;
  let r = i / len;
  let j = i - r * len;
  u_out[i] = u_x[r * D + u_p.p2 + j];
}

@compute @workgroup_size(WG)
fn pad_last(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= u_p.n) {
    return;
  }
  let L = u_p.p0;
  let total = u_p.p1;
  let start = u_p.p2;
  let r = i / total;
  let j = i - r * total;
  // Unsigned wrap-around: for j < start, j − start is huge, so one comparison tests both ends.
  let k = j - start;
  var v = V(0.0);
  if (k < L) {
    v = u_x[r * L + k];
  }
  u_out[i] = v;
}

@compute @workgroup_size(WG)
fn swap01(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= u_p.n) {
    return;
  }
  let A = u_p.p0;
  let B = u_p.p1;
  let C = u_p.p2;
  // Output coordinates (b, a, c) of [B, A, C]; the source is x[a, b, c] of [A, B, C].
  let c = i % C;
  let t = i / C;
  let a = t % A;
  let b = t / A;
  u_out[i] = u_x[(a * B + b) * C + c];
}

// ---- two inputs: concat_last ----
@group(0) @binding(0) var<storage, read> c_a: array<V>;
@group(0) @binding(1) var<storage, read> c_b: array<V>;
@group(0) @binding(2) var<storage, read_write> c_out: array<V>;
@group(0) @binding(3) var<uniform> c_p: Params;

@compute @workgroup_size(WG)
fn concat_last(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= c_p.n) {
    return;
  }
  let Da = c_p.p0;
  let Db = c_p.p1;
  let D = Da + Db;
  let r = i / D;
  let j = i - r * D;
  // Both reads are guarded by the branch: a row of a (or b) is read only where it lands.
  if (j < Da) {
    c_out[i] = c_a[r * Da + j];
  } else {
    c_out[i] = c_b[r * Db + (j - Da)];
  }
}

// ---- one input, two outputs: split_last ----
@group(0) @binding(0) var<storage, read> s_x: array<V>;
@group(0) @binding(1) var<storage, read_write> s_a: array<V>;
@group(0) @binding(2) var<storage, read_write> s_b: array<V>;
@group(0) @binding(3) var<uniform> s_p: Params;

@compute @workgroup_size(WG)
fn split_last(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= s_p.n) {
    return;
  }
  let D = s_p.p0;
  let Da = s_p.p1;
  let r = i / D;
  let j = i - r * D;
  if (j < Da) {
    s_a[r * Da + j] = s_x[i];
  } else {
    s_b[r * (D - Da) + (j - Da)] = s_x[i];
  }
}
