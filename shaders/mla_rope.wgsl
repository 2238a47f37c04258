// MLA's layout around RoPE, each in one dispatch (the slices, concats, pads, the head-repeat and
// the RoPE they surround, folded into the kernels' indexing):
//
//   rope_cols  x [R, D] → y [R, D]: columns [start, start + len) of each row rotated as rope()
//              rotates a [.., len] head vector (pair i by (t + pos_offset)·theta^(−2i/len)),
//              every other column copied. R = B·T·H, t = (r / H) % T.
//              MLA's query [q_nope ; RoPE(q_pe)] per head, and (sign = −1) its backward.
//   keys_fwd   kv [N, H, dn + dv], kpe [N, dr] → k [N, H, dn + dr], v [N, H, dv]:
//              k[n, h] = [kv[n, h, :dn] ; RoPE(kpe[n])],  v[n, h] = kv[n, h, dn:]
//              (the one RoPE key shared by every head). N = B·T, t = n % T.
//   keys_bwd   dk [N, H, dn + dr], dv [N, H, dv] → dkv [N, H, dn + dv], dkpe [N, dr]:
//              dkv[n, h] = [dk[n, h, :dn] ; dv[n, h]],
//              dkpe[n] = RoPE⁻¹(Σ_h dk[n, h, dn:])  (the sum in increasing h, from 0).
//
// The rotation is rope.wgsl's own function (rope_math.wgsl, prepended by the host), so the
// values are bit for bit those of the separate rope kernel; the copies are
// exact; the head sum adds in the order the batched matmul of the unfused path adds
// (acc = 0, then acc + 1·x_h for h = 0, 1, …). One invocation per output element; a rotated
// element computes its pair's angle (the pair's other element does the same work).
// Launch: 1-D, folded into a 2-D grid past 65535 workgroups: i = gid.x + gid.y · (nwg.x · WG).

override WG: u32 = 256;

struct Params {
  n: u32,          // rope_cols: R·D          keys: outputs' elements (first part + second part)
  n_first: u32,    // rope_cols: –            keys_fwd: N·H·(dn+dr)   keys_bwd: N·H·(dn+dv)
  d: u32,          // rope_cols: D            keys: dn
  start: u32,      // rope_cols: start        keys: dv
  len: u32,        // rope_cols: len          keys: dr
  heads: u32,      // H
  seq: u32,        // T
  pos_offset: u32,
  sign: f32,       // +1 forward, −1 inverse
  log2_theta: f32,
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * (nwg.x * WG);
}

// Element e (0 or 1) of pair (z.x, z.y) rotated by (t + pos_offset)·theta^(−i/half_d)·sign
// (rope_math.wgsl, prepended by the host: rope.wgsl's rotation).
fn rotate(z: vec2<f32>, e: u32, i: u32, half_d: u32, t: u32, pos_offset: u32, sign: f32, log2_theta: f32) -> f32 {
  let out = rope_rotate(z, i, half_d, f32(t + pos_offset), sign, log2_theta);
  return select(out.x, out.y, e == 1u);
}

// ---- rope_cols: one input, one output ----
@group(0) @binding(0) var<storage, read> r_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> r_y: array<f32>;
@group(0) @binding(2) var<uniform> r_p: Params;

@compute @workgroup_size(WG)
fn rope_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= r_p.n) {
    return;
  }
  let row = i / r_p.d;
  let j = i - row * r_p.d;
  // Unsigned wrap-around: one comparison tests both ends of the rotated range.
  let k = j - r_p.start;
  if (k >= r_p.len) {
    r_y[i] = r_x[i];
    return;
  }
  let pair = k / 2u;
  let base = row * r_p.d + r_p.start + 2u * pair;
  let z = vec2<f32>(r_x[base], r_x[base + 1u]);
  let t = (row / r_p.heads) % r_p.seq;
  r_y[i] = rotate(z, k - 2u * pair, pair, r_p.len / 2u, t, r_p.pos_offset, r_p.sign, r_p.log2_theta);
}

// ---- keys_fwd: kv, kpe → k, v ----
@group(0) @binding(0) var<storage, read> f_kv: array<f32>;
@group(0) @binding(1) var<storage, read> f_kpe: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_k: array<f32>;
@group(0) @binding(3) var<storage, read_write> f_v: array<f32>;
@group(0) @binding(4) var<uniform> f_p: Params;

@compute @workgroup_size(WG)
fn keys_fwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= f_p.n) {
    return;
  }
  let dn = f_p.d;
  let dv = f_p.start;
  let dr = f_p.len;
  if (i >= f_p.n_first) {
    // v[n, h, j] = kv[n, h, dn + j]
    let iv = i - f_p.n_first;
    let row = iv / dv;
    let j = iv - row * dv;
    f_v[iv] = f_kv[row * (dn + dv) + dn + j];
    return;
  }
  let dk = dn + dr;
  let row = i / dk; // n·H + h
  let j = i - row * dk;
  if (j < dn) {
    f_k[i] = f_kv[row * (dn + dv) + j];
    return;
  }
  let k = j - dn;
  let pair = k / 2u;
  let n = row / f_p.heads;
  let base = n * dr + 2u * pair;
  let z = vec2<f32>(f_kpe[base], f_kpe[base + 1u]);
  f_k[i] = rotate(z, k - 2u * pair, pair, dr / 2u, n % f_p.seq, f_p.pos_offset, f_p.sign, f_p.log2_theta);
}

// ---- keys_bwd: dk, dv → dkv, dkpe ----
@group(0) @binding(0) var<storage, read> b_dk: array<f32>;
@group(0) @binding(1) var<storage, read> b_dv: array<f32>;
@group(0) @binding(2) var<storage, read_write> b_dkv: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_dkpe: array<f32>;
@group(0) @binding(4) var<uniform> b_p: Params;

@compute @workgroup_size(WG)
fn keys_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= b_p.n) {
    return;
  }
  let dn = b_p.d;
  let dv = b_p.start;
  let dr = b_p.len;
  let dk = dn + dr;
  if (i < b_p.n_first) {
    // dkv[n, h, j] = j < dn ? dk[n, h, j] : dv[n, h, j − dn]
    let row = i / (dn + dv);
    let j = i - row * (dn + dv);
    if (j < dn) {
      b_dkv[i] = b_dk[row * dk + j];
    } else {
      b_dkv[i] = b_dv[row * dv + (j - dn)];
    }
    return;
  }
  let ie = i - b_p.n_first; // element of dkpe [N, dr]
  let n = ie / dr;
  let k = ie - n * dr;
  let pair = k / 2u;
  let H = b_p.heads;
  var re = 0.0;
  var im = 0.0;
  for (var h = 0u; h < H; h++) {
    let base = (n * H + h) * dk + dn + 2u * pair;
    re = re + b_dk[base];
    im = im + b_dk[base + 1u];
  }
  b_dkpe[ie] = rotate(vec2<f32>(re, im), k - 2u * pair, pair, dr / 2u, n % b_p.seq, b_p.pos_offset, b_p.sign, b_p.log2_theta);
}
