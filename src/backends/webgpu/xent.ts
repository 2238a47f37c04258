// Softmax cross-entropy on the GPU (shaders/xent.wgsl): forward an online max/sum-exp per tree
// lane and a fixed-order tree per row, rows shaped as RMSNorm's (rowShape: several rows per
// workgroup, each on a few threads holding several lanes); backward one invocation per logit, reading a
// gradient per row or (the mean's backward) one upstream scalar times a factor.

import src from '../../../shaders/xent.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms, rowShape } from './runtime';

const FWD: Kernel = { name: 'xent', code: src, entry: 'forward' };
const BWD: Kernel = { name: 'xent', code: src, entry: 'backward' };

const BWD_WG = 256;

let wideRows = false;

/**
 * Tests only: run the forward with one workgroup of TPR threads per row (the shape before
 * rowShape); both must give the same bits.
 */
export function setCrossEntropyWideRows(on: boolean): void {
  wideRows = on;
}

export function crossEntropy(be: WebGPUBackend, logits: Tensor, targets: Tensor): { loss: Tensor; lse: Tensor } {
  const [N, V] = logits.shape;
  const loss = be.empty([N]);
  const lse = be.empty([N]);
  if (N === 0) return { loss, lse };
  const shape = rowShape(N, V);
  const { tpr, r, rows } = wideRows ? { tpr: shape.tpr, r: shape.tpr, rows: 1 } : shape;
  be.rt.record({
    kernel: FWD,
    overrides: { WG: r * rows, TPR: tpr, R: r, ROWS: rows },
    buffers: [be.buf(logits), be.buf(targets), be.buf(loss), be.buf(lse)],
    uniform: packUniforms('uu', [N, V]),
    workgroups: grid1d(Math.ceil(N / rows), 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return { loss, lse };
}

/** The backward dispatch: dloss per row (factor null) or dloss[0] · factor for every row. */
function backward(
  be: WebGPUBackend,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  dloss: Tensor,
  factor: number | null,
): Tensor {
  const [N, V] = logits.shape;
  const dlogits = be.empty([N, V]);
  const count = N * V;
  if (count === 0) return dlogits;
  be.rt.record({
    kernel: BWD,
    overrides: { WG: BWD_WG },
    buffers: [be.buf(logits), be.buf(targets), be.buf(lse), be.buf(dloss), be.buf(dlogits)],
    uniform: packUniforms('uuuf', [count, V, factor === null ? 0 : 1, factor ?? 1]),
    workgroups: grid1d(count, BWD_WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return dlogits;
}

export function crossEntropyBackward(
  be: WebGPUBackend,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  dloss: Tensor,
): Tensor {
  return backward(be, logits, targets, lse, dloss, null);
}

export function crossEntropyMeanBackward(
  be: WebGPUBackend,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  dy: Tensor,
  factor: number,
): Tensor {
  if (dy.size !== 1) throw new Error(`crossEntropyMeanBackward: dy must have one element, got ${dy}`);
  return backward(be, logits, targets, lse, dy, factor);
}

export const ops = { crossEntropy, crossEntropyBackward, crossEntropyMeanBackward } satisfies WebGPUFamily;
