// Embedding forward (gather) and deterministic backward on the GPU (shaders/embedding.wgsl).
// The backward runs a workgroup per vocabulary row and up to 64 vec4 columns (f32 columns when
// D % 4 ≠ 0), each thread scanning the ids in order, so rows are summed in increasing n without
// atomics or barriers. See the shader for the algorithm and its cost.

import src from '../../../shaders/embedding.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { scalarVariant } from './elementwise';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms } from './runtime';

const FWD4: Kernel = { name: 'embedding', code: src, entry: 'forward' };
const FWD1: Kernel = { name: 'embedding_f32', code: scalarVariant(src), entry: 'forward' };
const BWD4: Kernel = { name: 'embedding', code: src, entry: 'backward' };
const BWD1: Kernel = { name: 'embedding_f32', code: scalarVariant(src), entry: 'backward' };
const WG = 256;
/** Backward: at most this many V-columns (threads) per workgroup. */
const BWG_MAX = 64;

export function embedding(be: WebGPUBackend, table: Tensor, ids: Tensor): Tensor {
  const D = table.shape[1];
  const N = ids.size;
  const out = be.empty([N, D]);
  if (N === 0 || D === 0) return out;
  // Whole vec4 rows when D % 4 == 0 (then every buffer's size is a multiple of 16 bytes).
  const v4 = D % 4 === 0;
  const dv = v4 ? D / 4 : D;
  be.rt.record({
    kernel: v4 ? FWD4 : FWD1,
    overrides: { WG },
    buffers: [be.buf(table), be.buf(ids), be.buf(out)],
    uniform: packUniforms('uu', [N * dv, dv]),
    workgroups: grid1d(N * dv, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export function embeddingBackward(be: WebGPUBackend, ids: Tensor, dOut: Tensor, vocab: number): Tensor {
  const D = dOut.shape[dOut.shape.length - 1];
  const N = ids.size;
  if (N === 0) return be.zeros([vocab, D]);
  const dTable = be.empty([vocab, D]);
  if (vocab === 0 || D === 0) return dTable;
  const v4 = D % 4 === 0;
  const dv = v4 ? D / 4 : D;
  const bwg = Math.min(BWG_MAX, 2 ** Math.ceil(Math.log2(dv)));
  be.rt.record({
    kernel: v4 ? BWD4 : BWD1,
    overrides: { BWG: bwg },
    buffers: [be.buf(ids), be.buf(dOut), be.buf(dTable)],
    uniform: packUniforms('uuu', [N, dv, vocab]),
    workgroups: grid1d(vocab * Math.ceil(dv / bwg), 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return dTable;
}

export const ops = { embedding, embeddingBackward } satisfies WebGPUFamily;
