// A pool of storage buffers, bucketed by size (powers of two above 256 bytes).
// A released buffer is not reusable until the work recorded before its release has been
// submitted: it waits in `pendingFree` until the next flush, so later queue writes can never
// overtake earlier reads of the same memory.

const STORAGE_USAGE = GPUBufferUsageFlags();

function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global in browsers and (after node.ts runs) in node.
  const U = (globalThis as unknown as { GPUBufferUsage?: Record<string, number> }).GPUBufferUsage;
  if (!U) return 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
  return U.STORAGE | U.COPY_SRC | U.COPY_DST;
}

export function bucketBytes(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  return 2 ** Math.ceil(Math.log2(bytes));
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pendingFree: GPUBuffer[] = [];
  /** Bytes currently handed out to tensors. */
  liveBytes = 0;
  /** Bytes held by the pool in total (live + free). */
  totalBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferBytes: number,
  ) {}

  acquire(bytes: number, label?: string): GPUBuffer {
    const size = bucketBytes(Math.max(4, bytes));
    if (size > this.maxBufferBytes && bytes <= this.maxBufferBytes) {
      // Bucketing would exceed the limit; use the exact (4-aligned) size instead, pooled by it.
      const exact = Math.ceil(bytes / 4) * 4;
      const reused = this.free.get(exact)?.pop();
      if (reused) {
        this.liveBytes += exact;
        return reused;
      }
      return this.create(exact, label);
    }
    if (size > this.maxBufferBytes) {
      throw new Error(
        `buffer of ${bytes} bytes exceeds this device's maxStorageBufferBindingSize (${this.maxBufferBytes})`,
      );
    }
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) {
      this.liveBytes += size;
      return buf;
    }
    return this.create(size, label);
  }

  private create(size: number, label?: string): GPUBuffer {
    const buf = this.device.createBuffer({ size, usage: STORAGE_USAGE || GPUBufferUsageFlags(), label });
    this.liveBytes += size;
    this.totalBytes += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    this.liveBytes -= buf.size;
    this.pendingFree.push(buf);
  }

  /** The buffers released so far (to be recycled once the work recorded before now is submitted). */
  takePending(): GPUBuffer[] {
    const out = this.pendingFree;
    this.pendingFree = [];
    return out;
  }

  /** Called after a submit with the buffers taken before it: they may now be reused. */
  recycle(bufs: GPUBuffer[] = this.takePending()): void {
    for (const buf of bufs) {
      const list = this.free.get(buf.size) ?? [];
      list.push(buf);
      this.free.set(buf.size, list);
    }
  }

  /** Destroy every free buffer (e.g. after a run ends). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.totalBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }
}
