// The peer library: TensorFlow.js with its WebGPU backend (@tensorflow/tfjs-backend-webgpu),
// loaded into the same process as our runtime and run on the same adapter (its own GPUDevice,
// as a user of tfjs would get it). Works in node (dawn.node; the caller passes the GPU object,
// because tfjs looks for navigator.gpu when its module loads) and in a browser page.

import type * as TF from '@tensorflow/tfjs-core';

/** The parts of tfjs's WebGPUBackend we use (stable across 4.x; see backend_webgpu.js). */
interface TfWebGPUBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
  recordAndSubmit(program: unknown, output: TF.TensorInfo, inputs: TF.TensorInfo[], ...rest: unknown[]): void;
}

export interface TfjsPeer {
  tf: typeof TF;
  /** tfjs's own device (timed with its own GpuTimer). */
  device: GPUDevice;
  version: string;
  /** Submit what tfjs has recorded but not yet submitted (it batches dispatches into passes). */
  finish(): Promise<void>;
  /**
   * Run fn once and count tfjs's dispatches and the bytes of the tensors they bind (inputs +
   * output of each program): the peer's side of a step's census.
   */
  census(fn: () => void): { dispatches: number; boundBytes: number };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 4, complex64: 8, string: 4 };

function tensorBytes(t: TF.TensorInfo): number {
  return t.shape.reduce((a, b) => a * b, 1) * (BYTES[t.dtype] ?? 4);
}

/**
 * Load tfjs-core and the WebGPU backend and make 'webgpu' the active backend. `gpu` is the
 * WebGPU entry point to expose as navigator.gpu where there is none (node); in a browser pass
 * nothing. `registerGradients` loads tfjs-core's gradient definitions (tf.grad needs them; the
 * umbrella @tensorflow/tfjs package would import them, tfjs-core alone does not) — how depends
 * on the module system, so the caller supplies it. Returns null (with the reason in `onError`)
 * when tfjs cannot start.
 */
export async function loadTfjs(
  gpu: GPU | undefined,
  registerGradients: () => Promise<unknown>,
  onError: (msg: string) => void = () => {},
): Promise<TfjsPeer | null> {
  try {
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (gpu && !g.navigator?.gpu) {
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...(g.navigator ?? {}), gpu, userAgent: 'node' },
        configurable: true,
        writable: true,
      });
    }
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    await registerGradients();
    // Keep every op on the GPU (by default tfjs runs small ops on the CPU when their inputs are there).
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialize');
    await tf.ready();
    const be = tf.backend() as unknown as TfWebGPUBackend;
    const finish = async () => {
      if (be.commandEncoder) {
        be.endComputePassEncoder();
        be.submitQueue();
      }
    };
    const census = (fn: () => void) => {
      let dispatches = 0;
      let boundBytes = 0;
      const original = be.recordAndSubmit;
      be.recordAndSubmit = function (this: TfWebGPUBackend, program, output, inputs, ...rest) {
        dispatches++;
        boundBytes += tensorBytes(output) + inputs.reduce((n, t) => n + tensorBytes(t), 0);
        return original.call(this, program, output, inputs, ...rest);
      };
      try {
        fn();
      } finally {
        be.recordAndSubmit = original;
      }
      return { dispatches, boundBytes };
    };
    return { tf, device: be.device, version: tf.version_core, finish, census };
  } catch (e) {
    onError(`tfjs-backend-webgpu unavailable: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}
