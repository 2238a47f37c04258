// The memory check a run passes before anything is allocated: the estimate of
// model/memory.ts against the adapter's buffer limits and the lab's memory budget. Over budget,
// a ConfigError names the largest contributor and the field to change.

import { ConfigError, type RunConfig } from '../config';
import type { Backend } from '../engine/backend';
import { modelConfigOf } from '../model/config';
import { formatBytes, type MemoryEstimate, trainingMemory } from '../model/memory';

/**
 * The lab's budget for one run's buffers. WebGPU does not report a device's memory, so the lab
 * sets its own: 8 GiB (a laptop GPU's share; software adapters take it from host RAM). The CPU
 * reference is float64 (twice the bytes) and for micro models only.
 */
export const MEMORY_BUDGET_BYTES = { webgpu: 8 * 2 ** 30, cpu: 2 * 2 ** 30 } as const;

interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** The adapter's buffer limits (WebGPU only; the CPU reference has none but the budget). */
function limitsOf(be: Backend): BufferLimits | null {
  const rt = (be as unknown as { rt?: { limits?: BufferLimits } }).rt;
  return rt?.limits ?? null;
}

export function runMemory(cfg: RunConfig, vocabSize: number): MemoryEstimate {
  const m = modelConfigOf(cfg, vocabSize);
  return trainingMemory(m, cfg.data.batch_size, cfg.data.seq_len, cfg.rl.mode === 'pipeline');
}

/** Throw a ConfigError if the run would not fit; returns the estimate otherwise. */
export function checkMemory(be: Backend, cfg: RunConfig, vocabSize: number): MemoryEstimate {
  const est = runMemory(cfg, vocabSize);
  const scale = be.name === 'cpu' ? 2 : 1; // float64 host arrays
  const budget = MEMORY_BUDGET_BYTES[be.name];
  const total = est.total * scale;
  if (total > budget) {
    const top = [...est.parts].sort((a, b) => b.bytes - a.bytes)[0];
    const list = est.parts.map((p) => `${p.name} ${formatBytes(p.bytes * scale)}`).join(', ');
    throw new ConfigError(
      `memory: this run needs about ${formatBytes(total)} (${list}), over the lab's ${formatBytes(budget)} budget; the largest part is ${top.name}: lower ${top.field}`,
    );
  }
  const lim = limitsOf(be);
  if (lim) {
    const cap = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    const big = est.largestBuffer;
    if (big.bytes > cap)
      throw new ConfigError(
        `memory: the largest buffer (${big.name}, ${formatBytes(big.bytes)}) exceeds this adapter's limit of ${formatBytes(cap)} per buffer; lower ${big.field}`,
      );
  }
  return est;
}
