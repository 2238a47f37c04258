// Matmul on the GPU: one dispatch of the tiled, register-blocked kernel in shaders/matmul.wgsl.
// C[...b, M, N] = op(A)[...b, M, K] · op(B)[...b, K, N]; B of rank 2 is broadcast over A's batch.
//
// Pipelines are specialized by override constants: the transpose flags, the thread-grid shape
// and the K-tile depth. Shapes go in the uniform, so one pipeline serves every shape.

import src from '../../../shaders/matmul.wgsl?raw';
import type { MatmulOpts } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import { matmulDims } from '../cpu/matmul';
import type { WebGPUBackend } from './backend';
import type { Kernel } from './pipelines';
import { packUniforms } from './runtime';

const MATMUL: Kernel = { name: 'matmul', code: src, entry: 'main' };

/** Workgroup memory the kernel needs: As and Bs, TK rows of (tile/4 + 1) vec4s each. */
function sharedBytes(wgX: number, wgY: number, tk: number): number {
  return tk * (wgY + 1) * 16 + tk * (wgX + 1) * 16;
}

/**
 * Thread grid along one output dim: 16 threads (a 64-wide tile) normally; 4 threads (16 wide)
 * when that dim is at most 16, so skinny products (decode steps, few experts) waste less.
 */
function threadsFor(dim: number): number {
  return dim <= 16 ? 4 : 16;
}

export function matmul(be: WebGPUBackend, a: Tensor, b: Tensor, opts: MatmulOpts): Tensor {
  const { batch, M, K, N, bBatched, outShape } = matmulDims(a.shape, b.shape, opts);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error(`matmul: f32 inputs expected, got ${a.dtype} and ${b.dtype}`);
  const out = be.empty(outShape, 'f32');
  if (batch === 0 || M === 0 || N === 0) return out;

  const limits = be.rt.limits;
  const wgX = threadsFor(N);
  const wgY = threadsFor(M);
  // A deeper K tile halves the barriers; use it when the device grants the workgroup memory.
  const tk = sharedBytes(wgX, wgY, 32) <= limits.maxComputeWorkgroupStorageSize ? 32 : 16;
  const zGroups = Math.min(batch, limits.maxComputeWorkgroupsPerDimension);
  be.rt.record({
    kernel: MATMUL,
    overrides: { WG_X: wgX, WG_Y: wgY, TK: tk, TRANS_A: opts.transA ? 1 : 0, TRANS_B: opts.transB ? 1 : 0 },
    buffers: [be.buf(a), be.buf(b), be.buf(out)],
    uniform: packUniforms('uuuuuu', [M, N, K, batch, M * K, bBatched ? K * N : 0]),
    workgroups: [Math.ceil(N / (4 * wgX)), Math.ceil(M / (4 * wgY)), zGroups],
  });
  return out;
}
