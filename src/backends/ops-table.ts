// Both backends implement the Backend ops the same way: method `op(...args)` calls the family
// module's `op(backend, ...args)` (backends/<kind>/<family>.ts). Rather than writing ~50
// forwarding methods per backend, each backend class installs them from its family modules.

import type { Backend } from '../engine/backend';

/** The Backend methods implemented by op-family modules (everything but memory management). */
export const OP_METHODS = [
  'matmul',
  'add',
  'mul',
  'scale',
  'addInPlace',
  'broadcastScalar',
  'sum',
  'sumSquares',
  'embedding',
  'embeddingBackward',
  'rmsnorm',
  'rmsnormBackward',
  'rope',
  'attention',
  'attentionBackward',
  'softmax',
  'softmaxBackward',
  'sliceLast',
  'padLast',
  'concatLast',
  'swap01',
  'silu',
  'siluBackward',
  'swiglu',
  'swigluBackward',
  'sigmoid',
  'sigmoidBackward',
  'moeRoute',
  'moeRouteBackward',
  'moePlan',
  'moeBiasUpdate',
  'moeGather',
  'moeGatherBackward',
  'moeGroupedMatmul',
  'moeGroupedWeightGrad',
  'moeCombine',
  'moeCombineBackward',
  'moeAuxLoss',
  'moeAuxLossBackward',
  'quantizeRows',
  'quantizeBlocks',
  'dequantize',
  'blockScaledMatmul',
  'crossEntropy',
  'crossEntropyBackward',
  'adamw',
  'cacheWrite',
  'ropeAt',
  'cachedAttention',
  'samplingProbs',
  'sampleCategorical',
  'tokenLogprob',
  'specResidual',
  'specAccept',
  'grpoLoss',
  'grpoLossBackward',
] as const satisfies ReadonlyArray<keyof Backend>;

export type BackendOps = Pick<Backend, (typeof OP_METHODS)[number]>;

type Family = Record<string, unknown>;

/**
 * Define every OP_METHODS method on `proto` as a call into the one family module that exports a
 * function of that name, with the backend as first argument. Throws at load time when an op has
 * no implementation or more than one.
 */
export function installOps(proto: object, kind: string, families: readonly Family[]): void {
  for (const name of OP_METHODS) {
    const impls = families
      .map((f) => f[name])
      .filter((f): f is (...args: unknown[]) => unknown => typeof f === 'function');
    if (impls.length !== 1) throw new Error(`${kind} backend: ${impls.length} implementations of op "${name}"`);
    const impl = impls[0];
    Object.defineProperty(proto, name, {
      value: function (this: unknown, ...args: unknown[]) {
        return impl(this, ...args);
      },
      writable: true,
      configurable: true,
    });
  }
}
