// One-off benchmark: our matmul vs tfjs-backend-webgpu's, same process, same dawn.node adapter.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/matmul-vs-tfjs.ts [sizes…]
// For each square size n: warm up (pipelines compiled, buffers pooled), then time `reps`
// back-to-back matmuls submitted together and waited for with queue.onSubmittedWorkDone();
// median over a few such repeats. Both timings include the host-side recording. GFLOP/s = 2n³·reps / seconds. On a software adapter the
// absolute numbers mean little: read the ratio.

import { createNodeBackend, nodeGpu } from '../src/backends/webgpu/node';
import { Rng } from '../src/engine/rng';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [256, 512, 1024];
const REPEATS = 5;

/** Matmuls per timed submission: enough work (~0.5 GFLOP at least) to dwarf the submit overhead. */
function repsFor(n: number): number {
  return Math.max(1, Math.round(5e8 / (2 * n ** 3)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// tfjs-webgpu decides at import time whether WebGPU exists (navigator.gpu), so shim first.
Object.defineProperty(globalThis, 'navigator', { value: { gpu: nodeGpu(), userAgent: 'node' }, configurable: true });
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
tf.env().set('WEBGPU_CPU_FORWARD', false);
if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend failed to initialize');
await tf.ready();
// tfjs's WebGPUBackend internals used here: its device, and ending the open compute pass and
// submitting its command encoder (what it does itself before a read).
const tfBackend = tf.backend() as unknown as {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
};
async function tfjsFinish(): Promise<void> {
  if (tfBackend.commandEncoder) {
    tfBackend.endComputePassEncoder();
    tfBackend.submitQueue();
  }
  await tfBackend.device.queue.onSubmittedWorkDone();
}

const ours = await createNodeBackend();
console.log(`adapter: ${ours.deviceLabel}`);

/** A timed run: record `reps` matmuls of two n×n inputs, submit, wait; returns milliseconds. */
type Runner = { run(): Promise<number>; dispose(): void };

function oursRunner(n: number, reps: number): Runner {
  const rng = new Rng(n);
  const a = ours.fromArray(rng.normalArray(n * n), [n, n]);
  const b = ours.fromArray(rng.normalArray(n * n), [n, n]);
  return {
    async run() {
      await ours.flush();
      await ours.rt.device.queue.onSubmittedWorkDone();
      const t0 = performance.now();
      const outs = Array.from({ length: reps }, () => ours.matmul(a, b, {}));
      await ours.flush();
      await ours.rt.device.queue.onSubmittedWorkDone();
      const dt = performance.now() - t0;
      for (const o of outs) o.dispose();
      return dt;
    },
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}

function tfjsRunner(n: number, reps: number): Runner {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  return {
    async run() {
      await tfjsFinish(); // the inputs' generation is not timed
      const t0 = performance.now();
      const outs = Array.from({ length: reps }, () => tf.matMul(a, b));
      await tfjsFinish();
      const dt = performance.now() - t0;
      for (const o of outs) o.dispose();
      return dt;
    },
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}

const rows: Array<{ n: number; ours: number; tfjs: number }> = [];
for (const n of SIZES) {
  const reps = repsFor(n);
  const runners = [oursRunner(n, reps), tfjsRunner(n, reps)];
  for (const r of runners) await r.run(); // warm-up: pipelines compiled, buffers pooled
  // Alternate the two so load from other processes falls on both alike.
  const times: number[][] = [[], []];
  for (let i = 0; i < REPEATS; i++) {
    for (let j = 0; j < 2; j++) times[j].push(await runners[j].run());
  }
  for (const r of runners) r.dispose();
  const [o, t] = times.map((ts) => (2 * n ** 3 * reps) / (median(ts) / 1e3) / 1e9);
  rows.push({ n, ours: o, tfjs: t });
  console.log(`n=${n} (${reps} matmuls per timing): ours ${o.toFixed(2)} GFLOP/s, tfjs ${t.toFixed(2)} GFLOP/s`);
}

console.log('\n   size | ours GFLOP/s | tfjs GFLOP/s | ours/tfjs');
console.log('  ------+--------------+--------------+----------');
for (const r of rows) {
  console.log(
    `  ${String(r.n).padStart(5)} | ${r.ours.toFixed(2).padStart(12)} | ${r.tfjs.toFixed(2).padStart(12)} | ${(r.ours / r.tfjs).toFixed(2).padStart(8)}`,
  );
}
process.exit(0);
