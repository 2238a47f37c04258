// The generation engine's cache ops on the GPU (semantics in engine/backend.ts; float64
// reference in backends/cpu/decode.ts):
//   cacheWrite      shaders/decode_cache.wgsl      one invocation per copied element, in place
//   ropeAt          shaders/decode_rope.wgsl       one invocation per rotated pair
//   cachedAttention shaders/decode_attention.wgsl  one workgroup per query (b, j, h), online softmax
// Inference only: no backward.

import type { CachedAttentionShape } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import attnSrc from '../../../shaders/decode_attention.wgsl?raw';
import cacheSrc from '../../../shaders/decode_cache.wgsl?raw';
import ropeMath from '../../../shaders/rope_math.wgsl?raw';
import decodeRopeSrc from '../../../shaders/decode_rope.wgsl?raw';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const CACHE_WRITE: Kernel = { name: 'decode_cache_write', code: cacheSrc, entry: 'main' };
const ROPE_AT: Kernel = { name: 'decode_rope_at', code: `${ropeMath}\n${decodeRopeSrc}`, entry: 'main' };
const WG_1D = 256;

/** Threads per cachedAttention workgroup = keys per tile. */
const ATTN_WG = 64;
/** Key columns staged per chunk (workgroup memory: ATTN_WG·(ATTN_DC+1) floats). */
const ATTN_DC = 32;
/** Largest head dims cachedAttention supports: the staged query (MAX_DQK) and NACC ≤ 16 accumulators per thread. */
export const CACHED_ATTENTION_MAX_DQK = 1024;
export const CACHED_ATTENTION_MAX_DV = 1024;
const NACC_LINE = 'const NACC: u32 = 16u;';

// One shader text per accumulator count (private arrays need a const size): NACC ∈ {1,2,4,8,16},
// the smallest power of two with NACC·ATTN_WG ≥ dV.
const attnKernels = new Map<number, Kernel>();
function attnKernel(dV: number): Kernel {
  let nacc = 1;
  while (nacc * ATTN_WG < dV) nacc *= 2;
  let k = attnKernels.get(nacc);
  if (!k) {
    if (!attnSrc.includes(NACC_LINE))
      throw new Error('decode_attention.wgsl: the NACC line decode.ts rewrites is missing');
    k = {
      name: `decode_attention_acc${nacc}`,
      code: attnSrc.replace(NACC_LINE, `const NACC: u32 = ${nacc}u;`),
      entry: 'main',
    };
    attnKernels.set(nacc, k);
  }
  return k;
}

function checkPos(op: string, pos: Tensor, B: number): void {
  if (pos.dtype !== 'i32' || pos.shape.length !== 1 || pos.shape[0] !== B) {
    throw new Error(`${op}: pos must be i32 [${B}], got ${pos.dtype} [${pos.shape}]`);
  }
}

export function cacheWrite(be: WebGPUBackend, cache: Tensor, rows: Tensor, pos: Tensor): void {
  if (cache.shape.length !== 3 || rows.shape.length !== 3)
    throw new Error(`cacheWrite: cache [${cache.shape}] and rows [${rows.shape}] must be 3-D`);
  const [B, C, W] = cache.shape;
  const n = rows.shape[1];
  if (rows.shape[0] !== B || rows.shape[2] !== W)
    throw new Error(`cacheWrite: rows [${rows.shape}] do not fit cache [${cache.shape}]`);
  checkPos('cacheWrite', pos, B);
  const total = rows.size;
  if (total === 0 || C === 0) return;
  be.rt.record({
    kernel: CACHE_WRITE,
    overrides: { WG: WG_1D },
    buffers: [be.buf(cache), be.buf(rows), be.buf(pos)],
    uniform: packUniforms('uuuu', [total, n, W, C]),
    workgroups: grid1d(total, WG_1D, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function ropeAt(be: WebGPUBackend, x: Tensor, pos: Tensor, theta: number): Tensor {
  if (x.shape.length !== 4) throw new Error(`ropeAt: x must be [B, n, H, D], got [${x.shape}]`);
  const [B, n, H, D] = x.shape;
  if (D % 2 !== 0) throw new Error(`ropeAt: head dim ${D} must be even`);
  checkPos('ropeAt', pos, B);
  const y = be.empty(x.shape);
  const pairs = x.size / 2;
  if (pairs === 0) return y;
  be.rt.record({
    kernel: ROPE_AT,
    overrides: { WG: WG_1D },
    buffers: [be.buf(x), be.buf(pos), be.buf(y)],
    uniform: packUniforms('uuuuf', [pairs, D / 2, H, n, Math.log2(theta)]),
    workgroups: grid1d(pairs, WG_1D, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return y;
}

export function cachedAttention(
  be: WebGPUBackend,
  q: Tensor,
  kc: Tensor,
  vc: Tensor,
  pos: Tensor,
  s: CachedAttentionShape,
): Tensor {
  if (q.shape.length !== 4 || kc.shape.length !== 3 || vc.shape.length !== 3) {
    throw new Error(
      `cachedAttention: expected q [B, n, H, dQK], kc [B, C, kStride], vc [B, C, vStride]; got [${q.shape}], [${kc.shape}], [${vc.shape}]`,
    );
  }
  const [B, n, H, dQK] = q.shape;
  const C = kc.shape[1];
  if (H !== s.heads || dQK !== s.dQK)
    throw new Error(`cachedAttention: q [${q.shape}] does not match heads ${s.heads} × dQK ${s.dQK}`);
  if (!(s.kvHeads >= 1) || H % s.kvHeads !== 0)
    throw new Error(`cachedAttention: heads ${H} is not a multiple of kvHeads ${s.kvHeads}`);
  if (kc.shape[0] !== B || vc.shape[0] !== B || vc.shape[1] !== C) {
    throw new Error(
      `cachedAttention: caches kc [${kc.shape}] and vc [${vc.shape}] must both be [${B}, C, ·] with one C`,
    );
  }
  if (kc.shape[2] !== s.kStride || s.kStride < s.kvHeads * dQK)
    throw new Error(
      `cachedAttention: kc [${kc.shape}] needs rows of kStride ${s.kStride} ≥ kvHeads·dQK = ${s.kvHeads * dQK}`,
    );
  if (vc.shape[2] !== s.vStride || s.vStride < s.vOffset + s.kvHeads * s.dV) {
    throw new Error(
      `cachedAttention: vc [${vc.shape}] needs rows of vStride ${s.vStride} ≥ vOffset + kvHeads·dV = ${s.vOffset + s.kvHeads * s.dV}`,
    );
  }
  if (dQK > CACHED_ATTENTION_MAX_DQK || s.dV > CACHED_ATTENTION_MAX_DV) {
    throw new Error(
      `cachedAttention: head dims dQK ${dQK}, dV ${s.dV} exceed the WebGPU kernel's limits (${CACHED_ATTENTION_MAX_DQK}, ${CACHED_ATTENTION_MAX_DV})`,
    );
  }
  checkPos('cachedAttention', pos, B);
  const o = be.empty([B, n, H, s.dV]);
  if (o.size === 0) return o;
  be.rt.record({
    kernel: attnKernel(s.dV),
    overrides: { WG: ATTN_WG, DC: ATTN_DC, MAX_DQK: CACHED_ATTENTION_MAX_DQK },
    buffers: [be.buf(q), be.buf(kc), be.buf(vc), be.buf(pos), be.buf(o)],
    uniform: packUniforms('uuuuuuuuuf', [C, n, H, H / s.kvHeads, dQK, s.dV, s.kStride, s.vStride, s.vOffset, s.scale]),
    workgroups: [H, n, B],
  });
  return o;
}

export const ops = { cacheWrite, ropeAt, cachedAttention } satisfies WebGPUFamily;
