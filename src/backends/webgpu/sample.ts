// The generation engine's sampling and speculative-decoding ops on the GPU (semantics in
// engine/backend.ts; float64 reference in backends/cpu/sample.ts), all in shaders/sample.wgsl:
//   samplingProbs      one workgroup per row: argmax, exact top-k / top-p thresholds by
//                      32-step bisection over order-preserving bit patterns, softmax
//   sampleCategorical  one workgroup per row: chunk sums → workgroup scan → first crossing
//   tokenLogprob       one workgroup per row: max, Σ exp, one log-prob
//   specResidual       one invocation per element
//   specAccept         one invocation per row
// Inference only: no backward.

import src from '../../../shaders/sample.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms, rowThreads } from './runtime';

const PROBS: Kernel = { name: 'sample', code: src, entry: 'sampling_probs' };
const CATEGORICAL: Kernel = { name: 'sample', code: src, entry: 'sample_categorical' };
const LOGPROB: Kernel = { name: 'sample', code: src, entry: 'token_logprob' };
const RESIDUAL: Kernel = { name: 'sample', code: src, entry: 'spec_residual' };
const ACCEPT: Kernel = { name: 'sample', code: src, entry: 'spec_accept' };

/** Threads per elementwise / per-row-thread workgroup. */
const WG_1D = 256;
const WG_ACCEPT = 64;

function rowsOf(op: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new Error(`${op}: expected a [R, V] tensor, got [${t.shape}]`);
  return [t.shape[0], t.shape[1]];
}

function checkRowVector(op: string, name: string, t: Tensor, R: number, dtype: 'f32' | 'i32'): void {
  if (t.dtype !== dtype || t.size !== R)
    throw new Error(`${op}: ${name} must be ${dtype} [${R}], got ${t.dtype} [${t.shape}]`);
}

export function samplingProbs(
  be: WebGPUBackend,
  logits: Tensor,
  temperature: number,
  topK: number,
  topP: number,
): Tensor {
  const [R, V] = rowsOf('samplingProbs', logits);
  const out = be.empty([R, V]);
  if (out.size === 0) return out;
  const k = topK >= 1 ? Math.min(Math.floor(topK), 0xffffffff) : 0; // ≥ V means off, in the kernel
  const p = topP > 0 && topP < 1 ? topP : 1; // 1 = off (also for NaN)
  be.rt.record({
    kernel: PROBS,
    overrides: { WG: rowThreads(V) },
    buffers: [be.buf(logits), be.buf(out)],
    uniform: packUniforms('uufuf', [R, V, temperature, k, p]),
    workgroups: grid1d(R, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export function sampleCategorical(be: WebGPUBackend, w: Tensor, u: Tensor): Tensor {
  const [R, V] = rowsOf('sampleCategorical', w);
  checkRowVector('sampleCategorical', 'u', u, R, 'f32');
  const out = be.empty([R], 'i32');
  if (R === 0) return out;
  be.rt.record({
    kernel: CATEGORICAL,
    overrides: { WG: rowThreads(V) },
    buffers: [be.buf(w), be.buf(u), be.buf(out)],
    uniform: packUniforms('uu', [R, V]),
    workgroups: grid1d(R, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export function tokenLogprob(be: WebGPUBackend, logits: Tensor, ids: Tensor, temperature: number): Tensor {
  const [R, V] = rowsOf('tokenLogprob', logits);
  checkRowVector('tokenLogprob', 'ids', ids, R, 'i32');
  const out = be.empty([R]);
  if (R === 0) return out;
  if (V === 0) throw new Error('tokenLogprob: empty vocabulary');
  be.rt.record({
    kernel: LOGPROB,
    overrides: { WG: rowThreads(V) },
    buffers: [be.buf(logits), be.buf(ids), be.buf(out)],
    uniform: packUniforms('uuf', [R, V, temperature === 0 ? 1 : temperature]),
    workgroups: grid1d(R, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export function specResidual(be: WebGPUBackend, p: Tensor, q: Tensor): Tensor {
  if (p.size !== q.size) throw new Error(`specResidual: p [${p.shape}] and q [${q.shape}] differ in size`);
  const out = be.empty(p.shape);
  if (p.size === 0) return out;
  be.rt.record({
    kernel: RESIDUAL,
    overrides: { WG: WG_1D },
    buffers: [be.buf(p), be.buf(q), be.buf(out)],
    uniform: packUniforms('u', [p.size]),
    workgroups: grid1d(p.size, WG_1D, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export function specAccept(be: WebGPUBackend, p: Tensor, q: Tensor, draft: Tensor, u: Tensor, resid: Tensor): Tensor {
  const [R, V] = rowsOf('specAccept', p);
  if (q.size !== p.size) throw new Error(`specAccept: p [${p.shape}] and q [${q.shape}] differ in size`);
  checkRowVector('specAccept', 'draft', draft, R, 'i32');
  checkRowVector('specAccept', 'u', u, R, 'f32');
  checkRowVector('specAccept', 'resid', resid, R, 'i32');
  const out = be.empty([R, 2], 'i32');
  if (R === 0) return out;
  be.rt.record({
    kernel: ACCEPT,
    overrides: { WG: WG_ACCEPT },
    buffers: [be.buf(p), be.buf(q), be.buf(draft), be.buf(u), be.buf(resid), be.buf(out)],
    uniform: packUniforms('uu', [R, V]),
    workgroups: grid1d(R, WG_ACCEPT, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export const ops = { samplingProbs, sampleCategorical, tokenLogprob, specResidual, specAccept } satisfies WebGPUFamily;
