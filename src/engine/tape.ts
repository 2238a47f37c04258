// Reverse-mode autograd. While a Tape is active, ops.ts records, for each output that depends
// on a tensor requiring grad, a closure mapping the output's gradient to its inputs' gradients.
// backward() walks the records in reverse and accumulates gradients per tensor.

import type { Tensor } from './tensor';

type BackwardFn = (dy: Tensor) => Array<Tensor | null>;
/** A multi-output op's backward: one upstream gradient per output (null: that output got none). */
type MultiBackwardFn = (dys: Array<Tensor | null>) => Array<Tensor | null>;
/**
 * A backward that adds, into its gradient for input j, the gradient already gathered for that
 * input (prev[j]; null if none yet) — the accumulation add fused into the op's own kernel.
 */
type FoldingBackwardFn = (dy: Tensor, prev: Array<Tensor | null>) => Array<Tensor | null>;

interface Node {
  outs: Tensor[];
  inputs: Tensor[];
  backward: (dys: Array<Tensor | null>, prev: Array<Tensor | null>) => Array<Tensor | null>;
  /** folds[j]: the backward's gradient for input j already includes prev[j] (else the tape adds). */
  folds: boolean[] | null;
}

export class Tape {
  static active: Tape | null = null;
  private readonly nodes: Node[] = [];

  static record(out: Tensor, inputs: Tensor[], backward: BackwardFn): void {
    Tape.recordMulti([out], inputs, ([dy]) => backward(dy as Tensor));
  }

  /**
   * One node for an op with several outputs (e.g. a split in one kernel): its backward runs once,
   * with every output's gradient (null for an output nothing used), when the walk reaches it —
   * after every consumer of any of its outputs, since those were recorded later.
   */
  static recordMulti(outs: Tensor[], inputs: Tensor[], backward: MultiBackwardFn): void {
    const tape = Tape.active;
    if (!tape) return;
    for (const out of outs) out.requiresGrad = true;
    tape.nodes.push({ outs, inputs, backward, folds: null });
  }

  /**
   * A node whose backward folds the gradient accumulation for the inputs marked in `folds` into
   * its own kernel: it receives the gradient gathered so far for each such input and returns the
   * sum, which replaces it (for the others the tape adds, as usual). The same additions in the
   * same order as the unfused tape (prev + the op's gradient), one dispatch fewer each.
   */
  static recordFolding(out: Tensor, inputs: Tensor[], folds: boolean[], backward: FoldingBackwardFn): void {
    const tape = Tape.active;
    if (!tape) return;
    out.requiresGrad = true;
    tape.nodes.push({ outs: [out], inputs, backward: ([dy], prev) => backward(dy as Tensor, prev), folds });
  }

  /** Run fn with this tape recording. */
  run<T>(fn: () => T): T {
    const prev = Tape.active;
    Tape.active = this;
    try {
      return fn();
    } finally {
      Tape.active = prev;
    }
  }

  get length(): number {
    return this.nodes.length;
  }

  /**
   * Gradients of the scalar `loss` (one element) with respect to every recorded tensor,
   * keyed by tensor id. Seeds dL/dL = 1.
   */
  backward(loss: Tensor): Map<number, Tensor> {
    if (loss.size !== 1) throw new Error(`backward: loss must have one element, got ${loss}`);
    return this.backwardFrom(loss, loss.backend.fromArray([1], loss.shape));
  }

  /** Vector-Jacobian product: gradients of Σ(out ⊙ dOut) with respect to every recorded tensor. */
  backwardFrom(out: Tensor, dOut: Tensor): Map<number, Tensor> {
    const grads = new Map<number, Tensor>();
    grads.set(out.id, dOut);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const dys = node.outs.map((out) => grads.get(out.id) ?? null);
      if (dys.every((dy) => dy === null)) continue;
      const folds = node.folds;
      const prevs = folds
        ? node.inputs.map((x, j) => (folds[j] && x.requiresGrad ? (grads.get(x.id) ?? null) : null))
        : [];
      const dxs = node.backward(dys, prevs);
      node.inputs.forEach((x, j) => {
        const dx = dxs[j];
        if (!dx || !x.requiresGrad) return;
        const prev = grads.get(x.id);
        grads.set(x.id, prev && !folds?.[j] ? x.backend.add(prev, dx) : dx);
      });
    }
    return grads;
  }
}
