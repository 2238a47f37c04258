// The WebGPU backend: each op records one or more WGSL dispatches on the runtime; flush()
// encodes them into a single command encoder. Tensors own pooled GPU buffers.
// One file per op family (matmul.ts, attention.ts, …) with its WGSL in shaders/.

import { type BackendCore, type BackendOps, SLICE_ALIGN } from '../../engine/backend';
import { Tensor, sizeOf, type DType, type Shape } from '../../engine/tensor';
import { withOps, type OpFamily } from '../registry';
import { acquireDevice, setKernelPaths } from './device';
import * as families from './families';
import { tilePrecision } from './matmul';
import { type Bindable, BufferRange, GpuRuntime } from './runtime';

interface GpuStorage {
  /** The whole buffer, or the range of a larger one that a slice (an arena's tensor) occupies. */
  buffer: Bindable;
  /** False for views and slices: releasing them frees nothing. */
  owner: boolean;
  /** A part of a carved buffer (carve): the buffer returns to the pool when its last part is released. */
  share?: { buffer: GPUBuffer; parts: number };
}

/** The WebGPU backend's own part: the runtime, memory and the host helpers its op families use. */
export class WebGPUBackendCore implements BackendCore {
  readonly name = 'webgpu' as const;

  constructor(readonly rt: GpuRuntime) {}

  /** This backend with its ops, for the tensors it makes (withOps installs them on this class). */
  private get self(): WebGPUBackend {
    return this as unknown as WebGPUBackend;
  }

  static async create(gpu: GPU | undefined): Promise<WebGPUBackend> {
    return new WebGPUBackend(new GpuRuntime(await acquireDevice(gpu)));
  }

  get deviceLabel(): string {
    return this.rt.adapterLabel;
  }

  matmulTiles(want: 'f32' | 'f16'): 'f32' | 'f16' {
    setKernelPaths(this, { matmul: want });
    return tilePrecision(this.self);
  }

  /** The buffer behind a tensor, or its range of one (for binding in a dispatch). */
  buf(t: Tensor): Bindable {
    if (t.disposed) throw new Error(`webgpu: ${t} used after dispose`);
    return (t.storage as GpuStorage).buffer;
  }

  /** A new tensor with uninitialized (pooled) storage; a kernel must write all of it. */
  empty(shape: Shape, dtype: DType = 'f32'): Tensor {
    const bytes = Math.max(4, sizeOf(shape) * 4);
    const buffer = this.rt.pool.acquire(bytes);
    return new Tensor(this.self, shape, dtype, { buffer, owner: true } satisfies GpuStorage);
  }

  zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    const t = this.empty(shape, dtype);
    const buf = this.buf(t);
    this.rt.write(buf, new Uint8Array(buf.size));
    return t;
  }

  /**
   * Elements [offset, offset + size(shape)) of t as a tensor of `shape`, sharing t's buffer: bound
   * as a range of it. offset is a multiple of SLICE_ALIGN elements (256 bytes, the largest
   * minStorageBufferOffsetAlignment WebGPU allows); the range covers whole vec4s.
   */
  slice(t: Tensor, offset: number, shape: Shape): Tensor {
    const n = sizeOf(shape);
    if (offset % SLICE_ALIGN !== 0 || offset < 0 || offset + n > t.size)
      throw new Error(`webgpu: slice of ${n} at ${offset} of ${t} (offsets are multiples of ${SLICE_ALIGN})`);
    const parent = (t.storage as GpuStorage).buffer;
    const [buffer, base] = parent instanceof BufferRange ? [parent.buffer, parent.offset] : [parent, 0];
    const bytes = Math.min(Math.max(16, Math.ceil(n / 4) * 16), (t.size - offset) * 4);
    const range = new BufferRange(buffer, base + offset * 4, bytes);
    return new Tensor(this.self, shape, t.dtype, { buffer: range, owner: false } satisfies GpuStorage);
  }

  /**
   * Tensors at element offsets (multiples of SLICE_ALIGN) of one new pooled buffer of `total`
   * elements, bound as ranges of it like slices, each owning a share of the buffer: it goes back
   * to the pool when the last of them is released. One dispatch can then write many outputs
   * (one binding) that live on as separate tensors.
   */
  carve(total: number, parts: ReadonlyArray<{ offset: number; shape: Shape; dtype?: DType }>): Tensor[] {
    const buffer = this.rt.pool.acquire(Math.max(4, total * 4));
    const share = { buffer, parts: parts.length };
    if (parts.length === 0) this.rt.pool.release(buffer);
    return parts.map(({ offset, shape, dtype }) => {
      const n = sizeOf(shape);
      if (offset % SLICE_ALIGN !== 0 || offset < 0 || offset + n > total)
        throw new Error(`webgpu: carve of ${n} at ${offset} of ${total} (offsets are multiples of ${SLICE_ALIGN})`);
      const bytes = Math.min(Math.max(16, Math.ceil(n / 4) * 16), (total - offset) * 4);
      const range = new BufferRange(buffer, offset * 4, bytes);
      return new Tensor(this.self, shape, dtype ?? 'f32', { buffer: range, owner: false, share } satisfies GpuStorage);
    });
  }

  fromArray(data: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    if (data.length !== n) throw new Error(`webgpu: ${data.length} values for shape [${shape}]`);
    const t = this.empty(shape, dtype);
    const host = dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data);
    if (n > 0) this.rt.write(this.buf(t), host);
    return t;
  }

  view(t: Tensor, shape: Shape): Tensor {
    if (sizeOf(shape) !== t.size) throw new Error(`webgpu: cannot view [${t.shape}] as [${shape}]`);
    return new Tensor(this.self, shape, t.dtype, { buffer: this.buf(t), owner: false } satisfies GpuStorage);
  }

  async read(t: Tensor): Promise<Float64Array | Int32Array> {
    if (t.size === 0) return t.dtype === 'i32' ? new Int32Array(0) : new Float64Array(0);
    const bytes = await this.rt.readBuffer(this.buf(t), t.size * 4);
    return t.dtype === 'i32' ? new Int32Array(bytes) : Float64Array.from(new Float32Array(bytes));
  }

  release(t: Tensor): void {
    const s = t.storage as GpuStorage;
    if (s.owner && !(s.buffer instanceof BufferRange)) this.rt.pool.release(s.buffer);
    else if (s.share && --s.share.parts === 0) this.rt.pool.release(s.share.buffer);
  }

  flush(): Promise<void> {
    return this.rt.flush();
  }
}

/** The WebGPU backend: WebGPUBackendCore with every op of the families in ./families.ts. */
export type WebGPUBackend = WebGPUBackendCore & BackendOps;
export const WebGPUBackend = withOps('webgpu', WebGPUBackendCore, families);

/** An op family of the WebGPU backend (see registry.ts). */
export type WebGPUFamily = OpFamily<WebGPUBackend>;
