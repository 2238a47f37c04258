// The timing loop of the diagnostics scripts: `fn`'s dispatches ten times in one submit, the wall
// time per call, median of `reps` such runs after one warm-up run; its outputs disposed after each
// run. Software adapters: compare lines of one run with each other, not with other machines.
import type { WebGPUBackend } from '../src/backends/webgpu/backend';
import type { Tensor } from '../src/engine/tensor';

export async function timeMedian(be: WebGPUBackend, name: string, fn: () => Tensor[], reps = 20): Promise<number> {
  const run = async () => {
    const t0 = performance.now();
    const outs: Tensor[] = [];
    for (let i = 0; i < 10; i++) outs.push(...fn());
    await be.flush();
    await be.rt.device.queue.onSubmittedWorkDone();
    const ms = (performance.now() - t0) / 10;
    for (const o of outs) o.dispose();
    return ms;
  };
  await run();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await run());
  xs.sort((a, b) => a - b);
  const median = xs[Math.floor(reps / 2)];
  console.log(name.padEnd(52), median.toFixed(3), 'ms');
  return median;
}
