// Embedding lookup and its deterministic backward. table [V, D], ids i32 [N] (in range:
// validated before the backend), out / dOut [N, D].
//
// forward  out[n, :] = table[ids[n], :]
//   A flat gather, one invocation per V-element of out (1-D grid, folded into 2-D past 65535
//   workgroups). V = vec4<f32> when D % 4 == 0 (rows are then whole vec4s: 16-byte loads and
//   stores), else the TS side compiles this text with `alias V = f32;`. dv = D in V units.
//
// backward dTable[v, :] = Σ_{n: ids[n] = v} dOut[n, :], summed in increasing n
//   No atomics, so no scatter: each output row gathers. One workgroup per vocabulary row v
//   walks the ids in chunks of WG:
//     1. thread t tests ids[c0 + t] == v;
//     2. a workgroup prefix sum (Hillis–Steele) of the hit flags compacts the hits of the
//        chunk, in increasing n, into `hits`;
//     3. if the chunk has hits, thread t adds dOut[n, d] for each hit n in order into
//        dTable[v, d] for its columns d = t, t + WG, … (it alone owns those elements, so the
//        running sum is a plain read-add-write, and the order is exactly increasing n).
//   Cost: every row scans every id, O(V·N) comparisons spread over V·WG threads, plus
//   O(N·D) loads for the actual accumulation: fine for character- and small BPE vocabularies
//   (V·N = 50k·8k ids is 4·10^8 cheap comparisons); a counting sort of ids would remove the V·N
//   term for big vocabularies.
//   Grid: one workgroup per row, folded into 2-D when V > 65535: v = wid.x + wid.y · nwg.x.

alias V = vec4<f32>;

override WG: u32 = 256;   // forward: invocations per workgroup
override BWG: u32 = 128;  // backward: threads per row (power of two)

// ---- forward ----
struct FwdParams {
  count: u32,  // N · dv (V-elements of out)
  dv: u32,     // row length in V units
}

@group(0) @binding(0) var<storage, read> f_table: array<V>;
@group(0) @binding(1) var<storage, read> f_ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> f_out: array<V>;
@group(0) @binding(3) var<uniform> f_p: FwdParams;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= f_p.count) {
    return;
  }
  let n = i / f_p.dv;
  let c = i - n * f_p.dv;
  f_out[i] = f_table[u32(f_ids[n]) * f_p.dv + c];
}

// ---- backward ----
struct BwdParams {
  n: u32,      // number of ids
  d: u32,      // row length D
  vocab: u32,  // V
}

@group(0) @binding(0) var<storage, read> b_ids: array<i32>;
@group(0) @binding(1) var<storage, read> b_dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> b_dtable: array<f32>;
@group(0) @binding(3) var<uniform> b_p: BwdParams;

var<workgroup> scan: array<u32, BWG>;  // inclusive prefix sum of the chunk's hit flags
var<workgroup> hits: array<u32, BWG>;  // the chunk's matching n, in increasing order

@compute @workgroup_size(BWG)
fn backward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let v = wid.x + wid.y * nwg.x;  // workgroup-uniform: returning keeps the barriers uniform
  if (v >= b_p.vocab) {
    return;
  }
  let D = b_p.d;
  let row = v * D;
  for (var d = t; d < D; d += BWG) {
    b_dtable[row + d] = 0.0;
  }
  for (var c0 = 0u; c0 < b_p.n; c0 += BWG) {
    // 1. test one id per thread
    let n = c0 + t;
    var hit = false;
    if (n < b_p.n) {
      hit = b_ids[n] == i32(v);
    }
    // 2. inclusive scan of the flags; hit k (1-based) goes to hits[k - 1]
    scan[t] = select(0u, 1u, hit);
    workgroupBarrier();
    for (var off = 1u; off < BWG; off = off << 1u) {
      var left = 0u;
      if (t >= off) {
        left = scan[t - off];
      }
      workgroupBarrier();
      scan[t] += left;
      workgroupBarrier();
    }
    if (hit) {
      hits[scan[t] - 1u] = n;
    }
    // The load is also a barrier: `hits` is complete and `total` is uniform after it.
    let total = workgroupUniformLoad(&scan[BWG - 1u]);
    // 3. accumulate the hits, in increasing n, into this thread's columns
    if (total > 0u) {
      for (var d = t; d < D; d += BWG) {
        var acc = b_dtable[row + d];
        for (var j = 0u; j < total; j++) {
          acc += b_dout[hits[j] * D + d];
        }
        b_dtable[row + d] = acc;
      }
    }
    workgroupBarrier();  // everyone is done with scan/hits before the next chunk rewrites them
  }
}
