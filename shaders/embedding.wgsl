// Embedding lookup and its deterministic backward. table [V, D], ids i32 [N] (in range:
// validated before the backend), out / dOut [N, D].
//
// forward  out[n, :] = table[ids[n], :]
//   A flat gather, one invocation per V-element of out (1-D grid, folded into 2-D past 65535
//   workgroups). V = vec4<f32> when D % 4 == 0 (rows are then whole vec4s: 16-byte loads and
//   stores), else the TS side compiles this text with `alias V = f32;`. dv = D in V units.
//
// backward dTable[v, :] = Σ_{n: ids[n] = v} dOut[n, :], summed in increasing n
//   No atomics, so no scatter: each output element gathers. A workgroup owns BWG consecutive
//   V-columns (vec4s of 4 columns where D % 4 == 0, as in the forward) of one vocabulary row v;
//   each thread keeps its V-column's sums in a register and walks the ids in increasing n, adding
//   dOut[n, c] where ids[n] = v (a vec4 add is four column adds: the same sums). Every thread of the workgroup
//   tests the same id at the same time (one broadcast load, a workgroup-uniform branch), and
//   nothing is shared, so there is no barrier. Cost: O(V · N · ceil(dv / BWG)) id tests and
//   O(N · D) loads for the sums: fine for character- and small BPE vocabularies. (A workgroup
//   per row that compacted each chunk's hits with a prefix sum in workgroup memory did a
//   fraction of the tests but paid 17 barriers per chunk of ids: 4.3 ms for 64 rows of 64 over
//   512 ids on lavapipe, against 0.1 ms for the forward.) A counting sort of the ids would
//   remove the V · N term for big vocabularies.
//   Grid: vocab · ceil(dv / BWG) workgroups (row-major), folded into 2-D past 65535; the host
//   takes BWG = dv rounded up to a power of two, at most 64.

alias V = vec4<f32>;

override WG: u32 = 256;   // forward: invocations per workgroup
override BWG: u32 = 64;   // backward: V-columns (threads) per workgroup

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
  dv: u32,     // row length in V units
  vocab: u32,  // V
}

@group(0) @binding(0) var<storage, read> b_ids: array<i32>;
@group(0) @binding(1) var<storage, read> b_dout: array<V>;
@group(0) @binding(2) var<storage, read_write> b_dtable: array<V>;
@group(0) @binding(3) var<uniform> b_p: BwdParams;

@compute @workgroup_size(BWG)
fn backward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let dv = b_p.dv;
  let blocks = (dv + BWG - 1u) / BWG;
  let g = wid.x + wid.y * nwg.x;
  let v = g / blocks;
  let c = (g % blocks) * BWG + t;
  if (v >= b_p.vocab || c >= dv) {
    return;  // no barriers in this kernel
  }
  var acc = V(0.0);
  for (var n = 0u; n < b_p.n; n++) {
    if (b_ids[n] == i32(v)) {
      acc += b_dout[n * dv + c];
    }
  }
  b_dtable[v * dv + c] = acc;
}
