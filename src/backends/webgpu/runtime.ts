// The WebGPU runtime: records kernel dispatches, then encodes all of them into ONE command
// encoder per flush (the trainer flushes once per step), and reads buffers back asynchronously.
// Nothing here maps a buffer between flushes, so a training step never waits on the GPU.

import { BufferPool } from './buffers';
import type { AcquiredDevice, GpuFeatures } from './device';
import { PipelineCache, type Kernel, type Overrides } from './pipelines';

/**
 * A byte range of a buffer, bound as one storage binding: a tensor that lives inside a larger
 * buffer (an arena of parameters). `offset` is a multiple of minStorageBufferOffsetAlignment.
 */
export class BufferRange {
  constructor(
    readonly buffer: GPUBuffer,
    readonly offset: number,
    readonly size: number,
  ) {}
}

/** What a dispatch binds at one slot: a whole buffer, or a range of one. */
export type Bindable = GPUBuffer | BufferRange;

function bindingOf(b: Bindable): GPUBufferBinding {
  return b instanceof BufferRange ? { buffer: b.buffer, offset: b.offset, size: b.size } : { buffer: b };
}

export interface Dispatch {
  kernel: Kernel;
  overrides?: Overrides;
  /** Storage buffers (or ranges of them), bound at @group(0) @binding(0..n-1) in this order. */
  buffers: Bindable[];
  /** Optional uniform block, bound at @binding(n) right after the storage buffers. */
  uniform?: ArrayBuffer;
  workgroups: [number, number, number];
}

/** A buffer-to-buffer copy recorded in order with the dispatches (encoded between compute passes). */
export interface Copy {
  copy: { src: Bindable; dst: Bindable; bytes: number };
}

type Command = Dispatch | Copy;

const isCopy = (c: Command): c is Copy => 'copy' in c;

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
}

/** Field types of a uniform block: 'u' = u32, 'i' = i32, 'f' = f32. */
type UniformType = 'u' | 'i' | 'f';

/** One number per letter of a type string ('uuf' → [number, number, number]); never for other letters. */
export type UniformValues<S extends string> = S extends ''
  ? []
  : S extends `${UniformType}${infer Rest}`
    ? [number, ...UniformValues<Rest>]
    : never;

/**
 * Pack a uniform block from a type string and values: 'u' = u32, 'i' = i32, 'f' = f32.
 * Each field takes 4 bytes in order (declare the WGSL struct with only scalar u32/i32/f32
 * fields in the same order). Padded to a multiple of 16 bytes. The compiler checks that there
 * is one value per field.
 */
export function packUniforms<S extends string>(types: S, values: UniformValues<S>): ArrayBuffer {
  if (types.length !== values.length)
    throw new Error(`packUniforms: ${types.length} types for ${values.length} values`);
  const bytes = Math.max(16, Math.ceil((types.length * 4) / 16) * 16);
  const buf = new ArrayBuffer(bytes);
  const dv = new DataView(buf);
  for (let i = 0; i < types.length; i++) {
    const t = types[i];
    const v = values[i];
    if (t === 'u') dv.setUint32(i * 4, v >>> 0, true);
    else if (t === 'i') dv.setInt32(i * 4, v | 0, true);
    else if (t === 'f') dv.setFloat32(i * 4, v, true);
    else throw new Error(`packUniforms: unknown type '${t}'`);
  }
  return buf;
}

/**
 * Threads per workgroup for a kernel that reduces one row of n elements per workgroup: enough to
 * give short rows about one element per thread, 256 for long ones (each thread then strides over
 * n/256 elements). A function of n only, so the reduction tree — and so every bit of the result —
 * is fixed per shape.
 */
export function rowThreads(n: number): number {
  if (n <= 32) return 32;
  if (n <= 64) return 64;
  if (n <= 128) return 128;
  return 256;
}

/** Threads a row kernel aims to run in all (rows × threads per row), and its least workgroup size. */
const ROW_TARGET_THREADS = 4096;
const ROW_MIN_WG = 64;
/** Tree lanes one thread may hold (VMAX in the shader). */
const ROW_VMAX = 32;

/**
 * Shape of a row kernel over N rows of D (RMSNorm's, the cross-entropy forward's): the tree width TPR (from D alone: it fixes the bits),
 * R threads per row — as few as keep about ROW_TARGET_THREADS threads busy over all rows, at
 * least TPR / ROW_VMAX — and ROWS rows per workgroup (R · ROWS ≥ ROW_MIN_WG threads).
 */
export function rowShape(N: number, D: number): { tpr: number; r: number; rows: number } {
  const tpr = rowThreads(D);
  let r = Math.max(1, tpr / ROW_VMAX);
  while (r < tpr && N * r < ROW_TARGET_THREADS) r *= 2;
  return { tpr, r, rows: Math.max(1, ROW_MIN_WG / r) };
}

/**
 * Workgroup grid for `n` invocations of a 1-D kernel with `wg` threads per group, folded into
 * two dimensions when it exceeds maxComputeWorkgroupsPerDimension. In WGSL, recover the linear
 * index as `gid.x + gid.y * (nwg.x * WG)` (nwg = @builtin(num_workgroups)) and bounds-check it.
 */
export function grid1d(n: number, wg: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly adapterLabel: string;
  readonly features: GpuFeatures;
  readonly limits: GPUSupportedLimits;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  private recorded: Command[] = [];
  private uniformBuf: GPUBuffer | null = null;
  private lostMessage: string | null = null;
  private lastKernels: string[] = [];
  /** Number of flushes (≈ command encoders submitted). */
  submits = 0;
  /** Number of dispatches encoded in total. */
  dispatches = 0;
  /** Number of buffer-to-buffer copies encoded in total. */
  copies = 0;

  constructor(acq: AcquiredDevice) {
    this.device = acq.device;
    this.adapterLabel = acq.adapterLabel;
    this.features = acq.features;
    this.limits = acq.limits;
    this.pipelines = new PipelineCache(this.device);
    this.pool = new BufferPool(
      this.device,
      Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize),
    );
    this.device.lost.then((info) => {
      const last = this.lastKernels.length ? ` (last kernels: ${this.lastKernels.slice(-5).join(', ')})` : '';
      this.lostMessage = `GPU device lost (${info.reason}): ${info.message || 'no message'}${last}`;
    });
  }

  get isLost(): boolean {
    return this.lostMessage !== null;
  }

  checkAlive(): void {
    if (this.lostMessage) throw new DeviceLostError(this.lostMessage);
  }

  record(d: Dispatch): void {
    this.checkAlive();
    const [x, y, z] = d.workgroups;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new GpuValidationError(
        `kernel "${d.kernel.name}": dispatch [${x},${y},${z}] exceeds ${max} workgroups per dimension`,
      );
    }
    if (d.buffers.length > this.limits.maxStorageBuffersPerShaderStage) {
      throw new GpuValidationError(
        `kernel "${d.kernel.name}": ${d.buffers.length} storage buffers exceed this device's limit of ${this.limits.maxStorageBuffersPerShaderStage}`,
      );
    }
    if (x === 0 || y === 0 || z === 0) return; // nothing to do
    this.recorded.push(d);
  }

  /**
   * Record a copy of `bytes` from src to dst (both a buffer or a range; a multiple of 4 bytes),
   * ordered with the dispatches around it. Used to gather tensors into an arena.
   */
  recordCopy(src: Bindable, dst: Bindable, bytes: number): void {
    this.checkAlive();
    if (bytes % 4 !== 0) throw new GpuValidationError(`copy of ${bytes} bytes: not a multiple of 4`);
    if (bytes > src.size || bytes > dst.size)
      throw new GpuValidationError(`copy of ${bytes} bytes from ${src.size} into ${dst.size} bytes`);
    if (bytes === 0) return;
    this.recorded.push({ copy: { src, dst, bytes } });
  }

  get pendingDispatches(): number {
    return this.recorded.length;
  }

  private flushing: Promise<void> = Promise.resolve();

  /**
   * Compile what is missing, encode everything recorded into one command encoder, submit.
   * Flushes are serialized: a flush (and so a read) called while another is compiling waits for
   * it, so submits keep recording order and no buffer is recycled before its work is submitted.
   */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushNow());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async flushNow(): Promise<void> {
    this.checkAlive();
    const cmds = this.recorded;
    this.recorded = [];
    // Buffers released before this point were last used by `cmds` (or earlier): they become
    // reusable once it is submitted. Ones released later (e.g. while pipelines compile) wait.
    const freed = this.pool.takePending();
    if (cmds.length === 0) {
      this.pool.recycle(freed);
      return;
    }
    const work = cmds.filter((c): c is Dispatch => !isCopy(c));
    const pipelines = await Promise.all(work.map((d) => this.pipelines.get(d.kernel, d.overrides)));
    this.checkAlive();
    this.writeUniforms(work);

    this.device.pushErrorScope('validation');
    const bindGroups = work.map((d, i) => {
      const entries: GPUBindGroupEntry[] = d.buffers.map((b, binding) => ({ binding, resource: bindingOf(b) }));
      if (d.uniform) {
        entries.push({
          binding: d.buffers.length,
          resource: { buffer: this.uniformBuf!, offset: this.uniformOffsets[i], size: d.uniform.byteLength },
        });
      }
      return this.device.createBindGroup({ layout: pipelines[i].getBindGroupLayout(0), entries, label: d.kernel.name });
    });
    if (this.profile) {
      await this.submitProfiled(cmds, pipelines, bindGroups);
    } else {
      const encoder = this.device.createCommandEncoder({ label: 'v3lab-step' });
      let pass: GPUComputePassEncoder | null = null;
      let i = 0;
      for (const c of cmds) {
        if (isCopy(c)) {
          pass?.end();
          pass = null;
          encodeCopy(encoder, c);
          continue;
        }
        pass ??= encoder.beginComputePass();
        pass.setPipeline(pipelines[i]);
        pass.setBindGroup(0, bindGroups[i]);
        pass.dispatchWorkgroups(c.workgroups[0], c.workgroups[1], c.workgroups[2]);
        i++;
      }
      pass?.end();
      this.device.queue.submit([encoder.finish()]);
    }
    this.submits++;
    this.dispatches += work.length;
    this.copies += cmds.length - work.length;
    this.lastKernels = work.map((d) => d.kernel.name);
    this.pool.recycle(freed);
    const err = await this.device.popErrorScope();
    if (err) {
      const names = [...new Set(work.map((d) => d.kernel.name))].join(', ');
      throw new GpuValidationError(`GPU validation error in a batch of kernels [${names}]: ${err.message}`);
    }
  }

  private uniformOffsets: number[] = [];

  /** One uniform buffer per flush, each dispatch's block at an aligned offset (uniformOffsets[i]). */
  private writeUniforms(work: Dispatch[]): void {
    const align = this.limits.minUniformBufferOffsetAlignment;
    const offsets: number[] = [];
    let total = 0;
    for (const d of work) {
      if (d.uniform) {
        offsets.push(total);
        total += Math.ceil(d.uniform.byteLength / align) * align;
      } else offsets.push(-1);
    }
    this.uniformOffsets = offsets;
    if (total === 0) return;
    if (!this.uniformBuf || this.uniformBuf.size < total) {
      this.uniformBuf?.destroy();
      const size = 2 ** Math.ceil(Math.log2(Math.max(total, 4096)));
      this.uniformBuf = this.device.createBuffer({
        size,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        label: 'uniforms',
      });
    }
    const staging = new Uint8Array(total);
    work.forEach((d, i) => {
      if (d.uniform) staging.set(new Uint8Array(d.uniform), offsets[i]);
    });
    this.device.queue.writeBuffer(this.uniformBuf, 0, staging);
  }

  /**
   * Profiling (diagnostics only): when set, each dispatch is submitted alone and timed to
   * completion, accumulating time per kernel name: the GPU time between timestamps written at
   * the start and end of its compute pass where the device has 'timestamp-query' (profileClock
   * says 'gpu'), else host wall time to completion, which includes each submission's latency.
   * Much slower than normal flushing; never on in training.
   */
  profile: Map<string, { count: number; ms: number }> | null = null;

  /** The clock of the last profiled submission: 'gpu' (timestamps; a dispatch whose stamps did not advance keeps its wall time) or 'wall'. */
  profileClock: 'gpu' | 'wall' = 'wall';

  private profileStamps: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;

  private async submitProfiled(
    cmds: Command[],
    pipelines: GPUComputePipeline[],
    bindGroups: GPUBindGroup[],
  ): Promise<void> {
    if (!this.profileStamps && this.features.timestampQuery) {
      this.profileStamps = {
        set: this.device.createQuerySet({ type: 'timestamp', count: 2, label: 'profile' }),
        resolve: this.device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
        read: this.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      };
    }
    const stamps = this.profileStamps;
    this.profileClock = stamps ? 'gpu' : 'wall';
    let i = 0;
    for (const c of cmds) {
      const t0 = performance.now();
      const encoder = this.device.createCommandEncoder({ label: isCopy(c) ? 'copy' : c.kernel.name });
      let key = 'copy';
      let stamped = false;
      if (isCopy(c)) encodeCopy(encoder, c);
      else {
        const pass = encoder.beginComputePass(
          stamps
            ? { timestampWrites: { querySet: stamps.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } }
            : {},
        );
        pass.setPipeline(pipelines[i]);
        pass.setBindGroup(0, bindGroups[i]);
        pass.dispatchWorkgroups(c.workgroups[0], c.workgroups[1], c.workgroups[2]);
        pass.end();
        if (stamps) {
          encoder.resolveQuerySet(stamps.set, 0, 2, stamps.resolve, 0);
          encoder.copyBufferToBuffer(stamps.resolve, 0, stamps.read, 0, 16);
          stamped = true;
        }
        key = `${c.kernel.name}:${c.kernel.entry ?? 'main'}`;
        i++;
      }
      this.device.queue.submit([encoder.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      let ms = performance.now() - t0;
      if (stamped && stamps) {
        await stamps.read.mapAsync(GPUMapMode.READ);
        const [a, b] = new BigInt64Array(stamps.read.getMappedRange().slice(0));
        stamps.read.unmap();
        // A clock that did not advance (or went back) is not trusted: that dispatch keeps its wall time.
        if (b > a) ms = Number(b - a) / 1e6;
      }
      const e = this.profile!.get(key) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += ms;
      this.profile!.set(key, e);
    }
  }

  /** Flush, then copy `bytes` of `buf` (a buffer or a range of one) back to the host. */
  async readBuffer(src: Bindable, bytes: number): Promise<ArrayBuffer> {
    const buf = src instanceof BufferRange ? src.buffer : src;
    const offset = src instanceof BufferRange ? src.offset : 0;
    await this.flush();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'readback',
    });
    const enc = this.device.createCommandEncoder({ label: 'readback' });
    enc.copyBufferToBuffer(buf, offset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      // A failed map is often the first sign of a lost device: give device.lost a moment to land.
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 100))]);
      await Promise.resolve();
      this.checkAlive();
      throw e;
    }
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Write host data into a buffer or a range of one (queued before the next flush's work). */
  write(dst: Bindable, data: ArrayBufferView): void {
    this.checkAlive();
    const [buf, offset] = dst instanceof BufferRange ? [dst.buffer, dst.offset] : [dst, 0];
    this.device.queue.writeBuffer(buf, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  destroy(): void {
    this.pool.trim();
    this.uniformBuf?.destroy();
    this.device.destroy();
  }
}

function encodeCopy(encoder: GPUCommandEncoder, c: Copy): void {
  const { src, dst, bytes } = c.copy;
  const [sb, so] = src instanceof BufferRange ? [src.buffer, src.offset] : [src, 0];
  const [db, dOff] = dst instanceof BufferRange ? [dst.buffer, dst.offset] : [dst, 0];
  encoder.copyBufferToBuffer(sb, so, db, dOff, bytes);
}
