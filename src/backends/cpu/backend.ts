// The CPU reference backend: float64 everywhere, plain loops, written to be read.
// It is the ground truth the WGSL kernels are tested against, and a fallback for tiny models
// where a browser has no WebGPU. One file per op family, mirroring backends/webgpu.

import { type BackendCore, type BackendOps, SLICE_ALIGN } from '../../engine/backend';
import { Tensor, sizeOf, type DType, type Shape } from '../../engine/tensor';
import { withOps, type OpFamily } from '../registry';
import * as families from './families';

export type CpuArray = Float64Array | Int32Array;

/** The CPU backend's own part: memory and the host helpers its op families use. */
export class CpuBackendCore implements BackendCore {
  readonly name = 'cpu' as const;
  readonly deviceLabel = 'CPU (float64 reference)';

  matmulTiles(_want: 'f32' | 'f16'): 'f32' | 'f16' {
    return 'f32';
  }

  /** This backend with its ops, for the tensors it makes (withOps installs them on this class). */
  private get self(): CpuBackend {
    return this as unknown as CpuBackend;
  }

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
    return new Tensor(this.self, shape, dtype, data);
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
    return new Tensor(this.self, shape, t.dtype, t.storage);
  }

  slice(t: Tensor, offset: number, shape: Shape): Tensor {
    const n = sizeOf(shape);
    if (offset % SLICE_ALIGN !== 0 || offset < 0 || offset + n > t.size)
      throw new Error(`cpu: slice of ${n} at ${offset} of ${t} (offsets are multiples of ${SLICE_ALIGN})`);
    return new Tensor(this.self, shape, t.dtype, (t.storage as CpuArray).subarray(offset, offset + n));
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

/** The CPU backend: CpuBackendCore with every op of the families in ./families.ts. */
export type CpuBackend = CpuBackendCore & BackendOps;
export const CpuBackend = withOps('cpu', CpuBackendCore, families);

/** An op family of the CPU backend (see registry.ts). */
export type CpuFamily = OpFamily<CpuBackend>;
