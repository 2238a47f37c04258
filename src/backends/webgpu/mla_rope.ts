// MLA's RoPE-and-layout kernels on the GPU (shaders/mla_rope.wgsl): ropeCols, mlaKeys,
// mlaKeysBackward. Each is one dispatch, one invocation per output element; the rotation is
// rope.wgsl's, so values match the unfused slice / rope / repeat / concat path bit for bit.

import ropeMath from '../../../shaders/rope_math.wgsl?raw';
import mlaSrc from '../../../shaders/mla_rope.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const WG = 256;
/** mla_rope.wgsl with the shared rotation (rope_math.wgsl) prepended. */
const src = `${ropeMath}\n${mlaSrc}`;
const ROPE_COLS: Kernel = { name: 'mla_rope', code: src, entry: 'rope_cols' };
const KEYS_FWD: Kernel = { name: 'mla_rope', code: src, entry: 'keys_fwd' };
const KEYS_BWD: Kernel = { name: 'mla_rope', code: src, entry: 'keys_bwd' };

/** Params of the shader, in its field order. */
function params(
  n: number,
  nFirst: number,
  d: number,
  start: number,
  len: number,
  heads: number,
  seq: number,
  posOffset: number,
  inverse: boolean,
  theta: number,
): ArrayBuffer {
  return packUniforms('uuuuuuuuff', [
    n,
    nFirst,
    d,
    start,
    len,
    heads,
    seq,
    posOffset,
    inverse ? -1 : 1,
    Math.log2(theta),
  ]);
}

export function ropeCols(
  be: WebGPUBackend,
  x: Tensor,
  start: number,
  len: number,
  theta: number,
  posOffset: number,
  inverse: boolean,
): Tensor {
  const [, T, H, D] = x.shape;
  const y = be.empty(x.shape);
  if (x.size === 0) return y;
  be.rt.record({
    kernel: ROPE_COLS,
    overrides: { WG },
    buffers: [be.buf(x), be.buf(y)],
    uniform: params(x.size, 0, D, start, len, H, T, posOffset, inverse, theta),
    workgroups: grid1d(x.size, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return y;
}

export function mlaKeys(
  be: WebGPUBackend,
  kv: Tensor,
  kpe: Tensor,
  dn: number,
  theta: number,
  posOffset: number,
): { k: Tensor; v: Tensor } {
  const [B, T, H, W] = kv.shape;
  const dv = W - dn;
  const dr = kpe.shape[kpe.shape.length - 1];
  const k = be.empty([B, T, H, dn + dr]);
  const v = be.empty([B, T, H, dv]);
  const n = k.size + v.size;
  if (n === 0) return { k, v };
  be.rt.record({
    kernel: KEYS_FWD,
    overrides: { WG },
    buffers: [be.buf(kv), be.buf(kpe), be.buf(k), be.buf(v)],
    uniform: params(n, k.size, dn, dv, dr, H, T, posOffset, false, theta),
    workgroups: grid1d(n, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return { k, v };
}

export function mlaKeysBackward(
  be: WebGPUBackend,
  dk: Tensor,
  dv: Tensor,
  dn: number,
  theta: number,
  posOffset: number,
): { dkv: Tensor; dkpe: Tensor } {
  const [B, T, H, W] = dk.shape;
  const dr = W - dn;
  const dV = dv.shape[3];
  const dkv = be.empty([B, T, H, dn + dV]);
  const dkpe = be.empty([B, T, dr]);
  const n = dkv.size + dkpe.size;
  if (n === 0) return { dkv, dkpe };
  be.rt.record({
    kernel: KEYS_BWD,
    overrides: { WG },
    buffers: [be.buf(dk), be.buf(dv), be.buf(dkv), be.buf(dkpe)],
    uniform: params(n, dkv.size, dn, dV, dr, H, T, posOffset, true, theta),
    workgroups: grid1d(n, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return { dkv, dkpe };
}

export const ops = { ropeCols, mlaKeys, mlaKeysBackward } satisfies WebGPUFamily;
