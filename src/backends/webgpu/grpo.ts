// GRPO's per-token objective on the GPU (shaders/grpo.wgsl): the forward is one workgroup that
// strides over all N tokens and tree-reduces the loss and the stats in workgroup memory (fixed
// order, no atomics); the backward is one invocation per token, reading dLoss on the device.

import src from '../../../shaders/grpo.wgsl?raw';
import type { GrpoHyper } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const FWD: Kernel = { name: 'grpo', code: src, entry: 'forward' };
const BWD: Kernel = { name: 'grpo', code: src, entry: 'backward' };
/** Threads of the single forward workgroup (the browser default limit) and per-token backward groups. */
const WG = 256;
/** Tokens each forward thread loads per loop trip. */
const UNROLL = 4;

function params(n: number, hp: GrpoHyper): ArrayBuffer {
  // The clip bounds are formed in float64 and rounded once to f32.
  return packUniforms('ufff', [n, 1 - hp.epsLow, 1 + hp.epsHigh, hp.beta]);
}

export function grpoLoss(
  be: WebGPUBackend,
  lp: Tensor,
  old: Tensor,
  ref: Tensor,
  adv: Tensor,
  w: Tensor,
  hp: GrpoHyper,
): { loss: Tensor; stats: Tensor } {
  const loss = be.empty([1]);
  const stats = be.empty([3]);
  // Even for N = 0 the kernel runs: it writes loss 0 and zero stats.
  be.rt.record({
    kernel: FWD,
    overrides: { WG, UNROLL },
    buffers: [be.buf(lp), be.buf(old), be.buf(ref), be.buf(adv), be.buf(w), be.buf(loss), be.buf(stats)],
    uniform: params(lp.size, hp),
    workgroups: [1, 1, 1],
  });
  return { loss, stats };
}

export function grpoLossBackward(
  be: WebGPUBackend,
  lp: Tensor,
  old: Tensor,
  ref: Tensor,
  adv: Tensor,
  w: Tensor,
  hp: GrpoHyper,
  dLoss: Tensor,
): Tensor {
  const n = lp.size;
  const dlp = be.empty([n]);
  if (n === 0) return dlp;
  be.rt.record({
    kernel: BWD,
    overrides: { WG },
    buffers: [be.buf(lp), be.buf(old), be.buf(ref), be.buf(adv), be.buf(w), be.buf(dLoss), be.buf(dlp)],
    uniform: params(n, hp),
    workgroups: grid1d(n, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return dlp;
}

export const ops = { grpoLoss, grpoLossBackward } satisfies WebGPUFamily;
