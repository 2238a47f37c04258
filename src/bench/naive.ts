// Our naive matmul (kernels/matmul_naive.wgsl): the floor the tiled kernel is measured against.
// Bench-only; the backend never uses it.

import src from './kernels/matmul_naive.wgsl?raw';
import type { WebGPUBackend } from '../backends/webgpu/backend';
import type { Kernel } from '../backends/webgpu/pipelines';
import { packUniforms } from '../backends/webgpu/runtime';
import type { Tensor } from '../engine/tensor';

const NAIVE: Kernel = { name: 'bench_matmul_naive', code: src, entry: 'main' };

/** C = A · B for A [M, K], B [K, N] (f32, no transposes, no batch). */
export function naiveMatmul(be: WebGPUBackend, a: Tensor, b: Tensor): Tensor {
  const [M, K] = a.shape;
  const [K2, N] = b.shape;
  if (a.shape.length !== 2 || b.shape.length !== 2 || K !== K2)
    throw new Error(`naiveMatmul: [${a.shape}] · [${b.shape}]`);
  const out = be.empty([M, N], 'f32');
  be.rt.record({
    kernel: NAIVE,
    buffers: [be.buf(a), be.buf(b), be.buf(out)],
    uniform: packUniforms('uuu', [M, N, K]),
    workgroups: [Math.ceil(N / 16), Math.ceil(M / 16), 1],
  });
  return out;
}
