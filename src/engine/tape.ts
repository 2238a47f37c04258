// Reverse-mode autograd. While a Tape is active, ops.ts records, for each output that depends
// on a tensor requiring grad, a closure mapping the output's gradient to its inputs' gradients.
// backward() walks the records in reverse and accumulates gradients per tensor.

import type { Tensor } from './tensor';

type BackwardFn = (dy: Tensor) => Array<Tensor | null>;

interface Node {
  out: Tensor;
  inputs: Tensor[];
  backward: BackwardFn;
}

export class Tape {
  static active: Tape | null = null;
  private readonly nodes: Node[] = [];

  static record(out: Tensor, inputs: Tensor[], backward: BackwardFn): void {
    const tape = Tape.active;
    if (!tape) return;
    out.requiresGrad = true;
    tape.nodes.push({ out, inputs, backward });
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
      const dy = grads.get(node.out.id);
      if (!dy) continue;
      const dxs = node.backward(dy);
      node.inputs.forEach((x, j) => {
        const dx = dxs[j];
        if (!dx || !x.requiresGrad) return;
        const prev = grads.get(x.id);
        grads.set(x.id, prev ? x.backend.add(prev, dx) : dx);
      });
    }
    return grads;
  }
}
