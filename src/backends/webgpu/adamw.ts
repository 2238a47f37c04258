// AdamW on the GPU (shaders/adamw.wgsl): one elementwise dispatch, in place on param, m, v.
// The clip factor is computed on the device from the normSq tensor; bias corrections are
// computed here in float64.

import src from '../../../shaders/adamw.wgsl?raw';
import type { AdamWParams } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { scalarVariant, vec4Ok } from './elementwise';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const ADAMW4: Kernel = { name: 'adamw', code: src, entry: 'main' };
const ADAMW1: Kernel = { name: 'adamw_f32', code: scalarVariant(src), entry: 'main' };
const WG = 256;

export function adamw(
  be: WebGPUBackend,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  hp: AdamWParams,
  clip: { normSq: Tensor; maxNorm: number } | null,
): void {
  const n = param.size;
  if (n === 0) return;
  const bufs = [be.buf(param), be.buf(grad), be.buf(m), be.buf(v)];
  const v4 = vec4Ok(bufs);
  const count = v4 ? Math.ceil(n / 4) : n;
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  be.rt.record({
    kernel: v4 ? ADAMW4 : ADAMW1,
    overrides: { WG },
    // Without clipping norm_sq is unused; bind the (read-only) grad there.
    buffers: [...bufs, clip ? be.buf(clip.normSq) : be.buf(grad)],
    uniform: packUniforms('uuffffffffff', [
      count,
      clip ? 1 : 0,
      clip ? clip.maxNorm : 0,
      hp.lr,
      hp.beta1,
      1 - hp.beta1,
      hp.beta2,
      1 - hp.beta2,
      hp.eps,
      hp.weightDecay,
      bc1,
      bc2,
    ]),
    workgroups: grid1d(count, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export const ops = { adamw } satisfies WebGPUFamily;
