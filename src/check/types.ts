// One op check = a seeded case generator. The harness (harness.ts) runs each case on the CPU
// reference and on the GPU, compares forward outputs and input gradients, and checks the CPU
// backward against central finite differences. `npm run lab -- check` and the unit tests share it.

import type { Backend } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { DType, Shape, Tensor } from '../engine/tensor';

export interface HostInput {
  name: string;
  shape: Shape;
  dtype: DType;
  data: Float64Array | Int32Array;
  /** Whether the op is differentiable with respect to this input. */
  grad: boolean;
}

export interface CheckCase {
  /** Shape summary for the report, e.g. "M=7 K=33 N=130 transB". */
  desc: string;
  inputs: HostInput[];
  /** Run the op. Outputs [0, nDiff) are differentiable; later ones (e.g. lse) are compared only. */
  forward(be: Backend, xs: Tensor[]): Tensor[];
  nDiff: number;
  /**
   * Given upstream grads for the first nDiff outputs, return the gradient for every input
   * (null where grad is false). Omit for ops without a backward (e.g. the optimizer step).
   */
  backward?(be: Backend, xs: Tensor[], dys: Tensor[]): Array<Tensor | null>;
  /** A tighter forward tolerance for this case than the check's tolForward (e.g. an exact path). */
  tolForward?: number;
}

export interface OpCheck {
  name: string;
  /** One line: what is checked. */
  about: string;
  /** Max normwise relative error allowed, GPU (f32) vs CPU (f64). */
  tolForward: number;
  tolBackward: number;
  /** Cases per seed when runCheck's caller names no count (default 3: one per shape regime). */
  cases?: number;
  /** Build a case. `index` 0,1,2… lets a check cycle through shape regimes (tiny, odd, larger). */
  makeCase(rng: Rng, index: number): CheckCase;
}
