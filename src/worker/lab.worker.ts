// The worker owns the GPU: it builds the lab on a WebGPU backend (or, on request, the float64
// CPU reference) and exposes the LabApi to the page with comlink. Two helpers on top keep
// checkpoint (de)serialization off the page's main thread: safetensors bytes are made and read here.

import * as Comlink from 'comlink';
import type { Backend } from '../engine/backend';
import type { Checkpoint, LabApi, RunInfo } from '../lab/api';
import { createLab } from '../lab/lab';
import { checkpointFromSafetensors, checkpointToSafetensors } from '../train/checkpoint';

export interface WorkerApi extends LabApi {
  /** The current run as a .safetensors file (weights + optimizer + sampler state). */
  checkpointSafetensors(opts?: { weightsOnly?: boolean }): Promise<Uint8Array>;
  /** The lab's latest automatic checkpoint as .safetensors bytes with its step (null: none yet). */
  lastCheckpointSafetensors(): Promise<{ step: number; bytes: Uint8Array } | null>;
  /** Validate a .safetensors checkpoint (CheckpointError names the problem) and continue from it. */
  restoreSafetensors(bytes: Uint8Array): Promise<RunInfo>;
  /** Validate a .safetensors checkpoint without loading it: its preset, seed, step and config. */
  inspectSafetensors(bytes: Uint8Array): Promise<Omit<Checkpoint, 'params' | 'optimizer' | 'samplerState'>>;
}

async function acquire(kind: 'webgpu' | 'cpu' = 'webgpu'): Promise<Backend> {
  if (kind === 'cpu') {
    const { CpuBackend } = await import('../backends/cpu/backend');
    return new CpuBackend();
  }
  const { WebGPUBackend } = await import('../backends/webgpu/backend');
  return WebGPUBackend.create(navigator.gpu);
}

const lab = createLab(acquire);

/** Own and inherited methods of the lab object, bound to it. */
function methods(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const v = (obj as Record<string, unknown>)[k];
      if (k !== 'constructor' && typeof v === 'function' && !(k in out))
        out[k] = (v as (...a: unknown[]) => unknown).bind(obj);
    }
  }
  return out;
}

const api: WorkerApi = {
  ...(methods(lab) as unknown as LabApi),
  async attentionPattern(opts) {
    // The T×T probabilities move to the page instead of being copied.
    const r = await lab.attentionPattern(opts);
    return Comlink.transfer(r, [r.probs.buffer as ArrayBuffer]);
  },
  async checkpointSafetensors(opts) {
    const bytes = checkpointToSafetensors(await lab.checkpoint(opts));
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },
  async lastCheckpointSafetensors() {
    const ckpt = await lab.lastCheckpoint();
    if (!ckpt) return null;
    const bytes = checkpointToSafetensors(ckpt);
    return Comlink.transfer({ step: ckpt.step, bytes }, [bytes.buffer as ArrayBuffer]);
  },
  async restoreSafetensors(bytes) {
    return lab.restore(checkpointFromSafetensors(bytes));
  },
  async inspectSafetensors(bytes) {
    const { params: _p, optimizer: _o, samplerState: _s, ...head } = checkpointFromSafetensors(bytes);
    return head;
  },
};

Comlink.expose(api);
