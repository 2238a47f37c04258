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
