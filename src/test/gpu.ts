// Shared test fixtures: one WebGPU backend per test file (node, dawn.node) and the CPU reference.
import { CpuBackend } from '../backends/cpu/backend';
import type { WebGPUBackend } from '../backends/webgpu/backend';
import { createNodeBackend } from '../backends/webgpu/node';

let gpuPromise: Promise<WebGPUBackend> | null = null;

export function gpuBackend(): Promise<WebGPUBackend> {
  gpuPromise ??= createNodeBackend();
  return gpuPromise;
}

export const cpu = new CpuBackend();

/** fn's result and the dispatches it recorded on `gpu`: their kernels as `name:entry`, and their WGSL. */
export function traced<T>(gpu: WebGPUBackend, fn: () => T): { value: T; kernels: string[]; codes: string[] } {
  const kernels: string[] = [];
  const codes: string[] = [];
  const rt = gpu.rt;
  const record = rt.record;
  const own = Object.hasOwn(rt, 'record'); // already wrapped by a caller: put that wrapper back
  rt.record = (d) => {
    kernels.push(`${d.kernel.name}:${d.kernel.entry}`);
    codes.push(d.kernel.code);
    return record.call(rt, d);
  };
  try {
    return { value: fn(), kernels, codes };
  } finally {
    if (own) rt.record = record;
    else delete (rt as { record?: unknown }).record;
  }
}
