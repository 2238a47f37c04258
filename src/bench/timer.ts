// Timing one sample of a bench case on one GPUDevice.
//
// With 'timestamp-query' the sample is bracketed on the GPU's own clock: a compute pass that
// writes a timestamp at its beginning goes into the FIRST queue submission the timed code makes
// (we wrap queue.submit for the duration of the sample, so the stamp is submitted together with
// the work and the GPU is not left idling while the host records it), and a pass that writes a
// timestamp at its end is submitted after the last one. Queue order puts every command of the
// sample between the two stamps. So the figure is the GPU timeline from the start of the
// sample's first command buffer to the end of its last: pure device time for one submission,
// and for several (tfjs submits every few dispatches; a training step per step) it also counts
// any gaps in which the GPU waited for the host — the throughput a user sees.
//
// Without timestamps (or when the stamps look wrong, e.g. a driver that resets its clock) the
// sample is wall time on the host, from before the timed code runs to queue.onSubmittedWorkDone
// after it: it includes host-side recording. Each sample says which it is.

export type TimingMethod = 'gpu-timestamp' | 'wall';

export interface Sample {
  ms: number;
  method: TimingMethod;
  /** Host wall time of the same sample (recording + submission + GPU + callback latency). */
  wallMs: number;
}

export class GpuTimer {
  readonly timestamps: boolean;
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolve: GPUBuffer | null = null;

  constructor(
    readonly device: GPUDevice,
    useTimestamps = device.features.has('timestamp-query'),
  ) {
    this.timestamps = useTimestamps;
    if (useTimestamps) {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: 2, label: 'bench-bracket' });
      this.resolve = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
        label: 'bench-resolve',
      });
    }
  }

  /** A command buffer holding one empty compute pass that stamps its beginning or its end. */
  private stamp(which: 'begin' | 'end'): GPUCommandEncoder {
    const enc = this.device.createCommandEncoder({ label: `bench-${which}` });
    const timestampWrites: GPUComputePassTimestampWrites =
      which === 'begin'
        ? { querySet: this.querySet!, beginningOfPassWriteIndex: 0 }
        : { querySet: this.querySet!, endOfPassWriteIndex: 1 };
    enc.beginComputePass({ timestampWrites, label: `bench-${which}` }).end();
    return enc;
  }

  /**
   * Time `body` (which records and submits work, possibly over several submissions) followed
   * by `finish` (which must submit anything still pending, e.g. flush a runtime). The device
   * is drained first, so earlier work does not leak into the sample.
   */
  async measure(body: () => unknown, finish: () => Promise<void>): Promise<Sample> {
    const queue = this.device.queue;
    await queue.onSubmittedWorkDone();
    if (!this.timestamps) {
      const t0 = performance.now();
      await body();
      await finish();
      await queue.onSubmittedWorkDone();
      const wallMs = performance.now() - t0;
      return { ms: wallMs, method: 'wall', wallMs };
    }

    const begin = this.stamp('begin').finish();
    const original = queue.submit;
    let armed = true;
    const disarm = () => {
      if (!armed) return;
      armed = false;
      // Restore the prototype's method (delete the own property) when that is what we shadowed.
      if (Object.prototype.hasOwnProperty.call(queue, 'submit')) delete (queue as { submit?: unknown }).submit;
      if (queue.submit !== original) (queue as { submit: GPUQueue['submit'] }).submit = original;
    };
    (queue as { submit: GPUQueue['submit'] }).submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
      disarm();
      return original.call(queue, [begin, ...buffers]);
    };
    const t0 = performance.now();
    try {
      await body();
      await finish();
    } finally {
      if (armed) {
        disarm();
        queue.submit([begin]); // nothing was submitted: an empty bracket
      }
    }
    const enc = this.stamp('end');
    const staging = this.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'bench-stamps',
    });
    enc.resolveQuerySet(this.querySet!, 0, 2, this.resolve!, 0);
    enc.copyBufferToBuffer(this.resolve!, 0, staging, 0, 16);
    queue.submit([enc.finish()]);
    await queue.onSubmittedWorkDone();
    const wallMs = performance.now() - t0;
    await staging.mapAsync(GPUMapMode.READ);
    const [a, b] = new BigUint64Array(staging.getMappedRange());
    const gpuMs = Number(b - a) / 1e6;
    staging.unmap();
    staging.destroy();
    // A bracket can never exceed the host's view of the same work (plus quantization slack).
    if (!(gpuMs > 0) || gpuMs > wallMs + 1) return { ms: wallMs, method: 'wall', wallMs };
    return { ms: gpuMs, method: 'gpu-timestamp', wallMs };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
  }
}
