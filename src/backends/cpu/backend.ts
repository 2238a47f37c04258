// The CPU reference backend: float64 everywhere, plain loops, written to be read.
// It is the ground truth the WGSL kernels are tested against, and a fallback for tiny models
// where a browser has no WebGPU. One file per op family, mirroring backends/webgpu.

import type { Backend } from '../../engine/backend';
import { installOps, type BackendOps } from '../ops-table';
import { Tensor, sizeOf, type DType, type Shape } from '../../engine/tensor';
import * as activation from './activation';
import * as adamwOps from './adamw';
import * as attentionOps from './attention';
import * as decodeOps from './decode';
import * as elementwise from './elementwise';
import * as embeddingOps from './embedding';
import * as fp8Ops from './fp8';
import * as fp8GemmOps from './fp8_gemm';
import * as grpoOps from './grpo';
import * as layoutOps from './layout';
import * as matmulOps from './matmul';
import * as moeAuxOps from './moe_aux';
import * as moeDispatchOps from './moe_dispatch';
import * as moeRouteOps from './moe_route';
import * as reduceOps from './reduce';
import * as rmsnormOps from './rmsnorm';
import * as ropeOps from './rope';
import * as sampleOps from './sample';
import * as softmaxOps from './softmax';
import * as xentOps from './xent';

export type CpuArray = Float64Array | Int32Array;

/** The op methods come from the family modules (see installOps). */
export interface CpuBackend extends BackendOps {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the op methods are installed on the prototype by installOps
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly deviceLabel = 'CPU (float64 reference)';

  /** The host array behind a tensor. */
  data(t: Tensor): Float64Array {
    return t.storage as Float64Array;
  }

  ints(t: Tensor): Int32Array {
    return t.storage as Int32Array;
  }

  /** Wrap a host array as a tensor (takes ownership). */
  make(shape: Shape, data: CpuArray, dtype: DType = data instanceof Int32Array ? 'i32' : 'f32'): Tensor {
    if (data.length !== sizeOf(shape)) throw new Error(`cpu: ${data.length} values for shape [${shape}]`);
    return new Tensor(this, shape, dtype, data);
  }

  zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    return this.make(shape, dtype === 'i32' ? new Int32Array(n) : new Float64Array(n), dtype);
  }

  fromArray(data: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    const arr = dtype === 'i32' ? Int32Array.from(data) : Float64Array.from(data);
    return this.make(shape, arr, dtype);
  }

  view(t: Tensor, shape: Shape): Tensor {
    if (sizeOf(shape) !== t.size) throw new Error(`cpu: cannot view [${t.shape}] as [${shape}]`);
    return new Tensor(this, shape, t.dtype, t.storage);
  }

  async read(t: Tensor): Promise<Float64Array | Int32Array> {
    const s = t.storage as CpuArray;
    return s instanceof Int32Array ? Int32Array.from(s) : Float64Array.from(s);
  }

  release(_t: Tensor): void {
    // Garbage collection frees host arrays.
  }

  async flush(): Promise<void> {}
}

installOps(CpuBackend.prototype, 'cpu', [
  activation,
  adamwOps,
  attentionOps,
  decodeOps,
  elementwise,
  embeddingOps,
  fp8Ops,
  fp8GemmOps,
  grpoOps,
  layoutOps,
  matmulOps,
  moeAuxOps,
  moeDispatchOps,
  moeRouteOps,
  reduceOps,
  rmsnormOps,
  ropeOps,
  sampleOps,
  softmaxOps,
  xentOps,
]);
