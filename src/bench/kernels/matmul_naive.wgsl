// The floor for the matmul bench: C[M, N] = A[M, K] · B[K, N] (row-major f32) the textbook way.
// One thread per output element, 16 × 16 threads per workgroup; each thread walks K reading its
// row of A and its column of B straight from global memory — no workgroup-memory tiling, no
// register blocking, no vector loads. Every A and B element is therefore fetched N (resp. M)
// times instead of once per tile: this is what tiling in shaders/matmul.wgsl saves.

struct Params {
  M: u32,
  N: u32,
  K: u32,
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let m = gid.y;
  if (m >= p.M || n >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += A[m * p.K + k] * B[k * p.N + n];
  }
  C[m * p.N + n] = acc;
}
