// Sequence-wise MoE balance loss on the GPU: one workgroup per sequence (shaders/moe_aux.wgsl).
import src from '../../../shaders/moe_aux.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { packUniforms } from './runtime';

const FWD: Kernel = { name: 'moe_aux', code: src, entry: 'forward' };
const BWD: Kernel = { name: 'moe_aux', code: src, entry: 'backward' };
const WG = 64;

function overrides(E: number) {
  return { WG, MAX_E: Math.max(1, E) };
}

export function moeAuxLoss(be: WebGPUBackend, scores: Tensor, idx: Tensor): Tensor {
  const [B, T, E] = scores.shape;
  const K = idx.shape[2];
  const out = be.empty([B]);
  be.rt.record({
    kernel: FWD,
    overrides: overrides(E),
    buffers: [be.buf(scores), be.buf(idx), be.buf(out)],
    uniform: packUniforms('uuu', [T, E, K]),
    workgroups: [B, 1, 1],
  });
  return out;
}

export function moeAuxLossBackward(be: WebGPUBackend, scores: Tensor, idx: Tensor, dL: Tensor): Tensor {
  const [B, T, E] = scores.shape;
  const K = idx.shape[2];
  const ds = be.empty([B, T, E]);
  be.rt.record({
    kernel: BWD,
    overrides: overrides(E),
    buffers: [be.buf(scores), be.buf(idx), be.buf(dL), be.buf(ds)],
    uniform: packUniforms('uuu', [T, E, K]),
    workgroups: [B, 1, 1],
  });
  return ds;
}

export const ops = { moeAuxLoss, moeAuxLossBackward } satisfies WebGPUFamily;
