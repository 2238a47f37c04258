// GRPO's per-token clipped surrogate with a k3 KL penalty (spec §5). lp, old, ref, adv, w: [N].
//
//   r  = exp(lp − old)                                   importance ratio π_θ / π_old
//   s  = min(r·A, clamp(r, lo, hi)·A)                    lo = 1 − εlow, hi = 1 + εhigh
//   k3 = exp(d) − d − 1,  d = ref − lp                   ≥ 0
//   clipped = (A > 0 and r > hi) or (A < 0 and r < lo)   the clamped term wins the min strictly
//
// forward  loss[0] = −Σ w·(s − β·k3);  stats = [Σ clipped, Σ k3, count] over tokens with w > 0.
//   ONE workgroup of WG threads walks all N tokens (N up to ~1e6 — this is a per-step scalar,
//   not a hot kernel, and a single group needs no second pass or partials buffer): thread t takes
//   tokens t, t + WG, t + 2·WG, … (neighbouring threads read neighbouring addresses: coalesced),
//   UNROLL of them per loop trip so their loads are independent and can be in flight together,
//   and folds them into private accumulators in increasing token order. The WG partial results
//   are then combined by a fixed binary tree in workgroup memory (stride WG/2, WG/4, …, 1).
//   Which token goes to which thread and the tree's shape depend only on N, so the result is
//   bit-identical run to run. No atomics. The counts are u32 (exact for any N).
//
// backward dlp = −dLoss[0]·w·((clipped ? 0 : r·A) − β·(1 − exp(d))), one invocation per token,
//   1-D grid folded into 2-D past 65535 groups. dLoss is read on the device: no host round trip.
//
// Tokens with w = 0 (padding) are skipped in both passes (loss term and gradient exactly 0).

override WG: u32 = 256;     // threads (power of two)
override UNROLL: u32 = 4;   // tokens per thread per loop trip (forward)

struct Params {
  n: u32,      // tokens N
  lo: f32,     // 1 − εlow
  hi: f32,     // 1 + εhigh
  beta: f32,   // KL coefficient β
}

/** k3 = exp(d) − d − 1 without the cancellation of the naive form near d = 0 (where k3 ≈ d²/2):
 *  a Taylor polynomial Σ_{k=2..9} d^k/k! for |d| < 0.5 (truncation < 1e-8 relative), else direct.
 *  d + k3_of(d) is then expm1(d), also free of cancellation (the backward's 1 − exp(d)). */
fn k3_of(d: f32) -> f32 {
  if (abs(d) < 0.5) {
    // Horner: d²·(1/2 + d·(1/6 + d·(1/24 + d·(1/120 + d·(1/720 + d·(1/5040 + d·(1/40320 + d/362880)))))))
    var q = 1.0 / 362880.0;
    q = fma(q, d, 1.0 / 40320.0);
    q = fma(q, d, 1.0 / 5040.0);
    q = fma(q, d, 1.0 / 720.0);
    q = fma(q, d, 1.0 / 120.0);
    q = fma(q, d, 1.0 / 24.0);
    q = fma(q, d, 1.0 / 6.0);
    q = fma(q, d, 0.5);
    return d * d * q;
  }
  return exp(d) - d - 1.0;
}

// ---- forward ----
@group(0) @binding(0) var<storage, read> f_lp: array<f32>;
@group(0) @binding(1) var<storage, read> f_old: array<f32>;
@group(0) @binding(2) var<storage, read> f_ref: array<f32>;
@group(0) @binding(3) var<storage, read> f_adv: array<f32>;
@group(0) @binding(4) var<storage, read> f_w: array<f32>;
@group(0) @binding(5) var<storage, read_write> f_loss: array<f32>;   // [1]
@group(0) @binding(6) var<storage, read_write> f_stats: array<f32>;  // [3]
@group(0) @binding(7) var<uniform> f_p: Params;

var<workgroup> red_loss: array<f32, WG>;  // Σ w·(s − β·k3)
var<workgroup> red_k3: array<f32, WG>;    // Σ_{w>0} k3
var<workgroup> red_n: array<vec2<u32>, WG>;  // (Σ_{w>0} clipped, #{w > 0})

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) t: u32) {
  let n = f_p.n;
  var acc_loss = 0.0;
  var acc_k3 = 0.0;
  var acc_n = vec2<u32>(0u, 0u);
  for (var base = 0u; base < n; base += WG * UNROLL) {
    for (var u = 0u; u < UNROLL; u++) {
      let i = base + u * WG + t;
      if (i < n) {
        let w = f_w[i];
        if (w != 0.0) {
          let lp = f_lp[i];
          let a = f_adv[i];
          let r = exp(lp - f_old[i]);
          let s = min(r * a, clamp(r, f_p.lo, f_p.hi) * a);
          let k3 = k3_of(f_ref[i] - lp);
          acc_loss += w * (s - f_p.beta * k3);
          if (w > 0.0) {
            let clipped = (a > 0.0 && r > f_p.hi) || (a < 0.0 && r < f_p.lo);
            acc_k3 += k3;
            acc_n += vec2<u32>(select(0u, 1u, clipped), 1u);
          }
        }
      }
    }
  }

  red_loss[t] = acc_loss;
  red_k3[t] = acc_k3;
  red_n[t] = acc_n;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h >> 1u) {
    if (t < h) {
      red_loss[t] = red_loss[t] + red_loss[t + h];
      red_k3[t] = red_k3[t] + red_k3[t + h];
      red_n[t] = red_n[t] + red_n[t + h];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    f_loss[0] = -red_loss[0];
    f_stats[0] = f32(red_n[0].x);
    f_stats[1] = red_k3[0];
    f_stats[2] = f32(red_n[0].y);
  }
}

// ---- backward ----
@group(0) @binding(0) var<storage, read> b_lp: array<f32>;
@group(0) @binding(1) var<storage, read> b_old: array<f32>;
@group(0) @binding(2) var<storage, read> b_ref: array<f32>;
@group(0) @binding(3) var<storage, read> b_adv: array<f32>;
@group(0) @binding(4) var<storage, read> b_w: array<f32>;
@group(0) @binding(5) var<storage, read> b_dloss: array<f32>;       // [1]
@group(0) @binding(6) var<storage, read_write> b_dlp: array<f32>;   // [N]
@group(0) @binding(7) var<uniform> b_p: Params;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= b_p.n) {
    return;
  }
  let w = b_w[i];
  var g = 0.0;
  if (w != 0.0) {
    let lp = b_lp[i];
    let a = b_adv[i];
    let r = exp(lp - b_old[i]);
    let clipped = (a > 0.0 && r > b_p.hi) || (a < 0.0 && r < b_p.lo);
    let ds = select(r * a, 0.0, clipped);        // d s / d lp
    let d = b_ref[i] - lp;
    let dk3 = -(d + k3_of(d));                   // d k3 / d lp = 1 − exp(d) = −expm1(d), accurate near d = 0
    g = -b_dloss[0] * w * (ds - b_p.beta * dk3);
  }
  b_dlp[i] = g;
}
