// Reverse-mode autograd. While a Tape is active, ops.ts records, for each output that depends
// on a tensor requiring grad, a closure mapping the output's gradient to its inputs' gradients.
// backward() walks the records in reverse and accumulates gradients per tensor.
//
// Accumulation. A tensor used by several ops receives one gradient part per use, in the order
// the walk reaches the uses. The tape keeps the parts and adds them, in that order
// (((g1 + g2) + g3) …), when a plain op's backward needs the total. Two kinds of node take the
// adds into their own kernels instead, with the same sums in the same order:
//   - a folding node (recordFolding) receives its output's parts unsummed (the kernel adds them
//     as it reads dy), and, for the inputs it marks, the gradient gathered so far, which its
//     kernel adds to the gradient it computes (prev + dx) — e.g. RMSNorm's backward;
//   - an accumulating node (recordAccumulating: the matmul's and the linears' backward) reads its
//     outputs' totals like a plain node and, for the inputs it marks, adds the gradient gathered
//     so far into the one it computes (its GEMMs add it after their k-sums);
//   - a multi-output node (recordMulti) runs once with every output's total.

import type { Tensor } from './tensor';

type BackwardFn = (dy: Tensor) => Array<Tensor | null>;
/** A multi-output op's backward: one upstream gradient per output (null: that output got none). */
type MultiBackwardFn = (dys: Array<Tensor | null>) => Array<Tensor | null>;
/**
 * A backward that reads its output's gradient as parts to be added in order (dy[0] + dy[1] + …,
 * never empty) and adds into its gradient for input j the gradient already gathered for that
 * input (prev[j]; null if none yet): the accumulation adds fused into the op's own kernel.
 */
type FoldingBackwardFn = (dy: Tensor[], prev: Array<Tensor | null>) => Array<Tensor | null>;

type Node =
  | { kind: 'plain'; outs: Tensor[]; inputs: Tensor[]; backward: MultiBackwardFn }
  | { kind: 'folding'; outs: [Tensor]; inputs: Tensor[]; backward: FoldingBackwardFn; folds: boolean[] }
  | { kind: 'accumulating'; outs: Tensor[]; inputs: Tensor[]; backward: AccumulatingBackwardFn; folds: boolean[] };

/** One upstream gradient total per output (null: unused) and, per input, the gradient gathered so far. */
type AccumulatingBackwardFn = (dys: Array<Tensor | null>, prev: Array<Tensor | null>) => Array<Tensor | null>;

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
    tape.nodes.push({ kind: 'plain', outs, inputs, backward });
  }

  /**
   * A node whose backward does the gradient accumulation in its own kernel: it gets its output's
   * gradient parts unsummed, and for each input marked in `folds` the gradient gathered so far,
   * to be added to the gradient it returns, which then replaces it (for the other inputs the
   * tape accumulates as usual). Same additions, same order as the unfused tape; no add dispatches.
   */
  static recordFolding(out: Tensor, inputs: Tensor[], folds: boolean[], backward: FoldingBackwardFn): void {
    const tape = Tape.active;
    if (!tape) return;
    out.requiresGrad = true;
    tape.nodes.push({ kind: 'folding', outs: [out], inputs, backward, folds });
  }

  /**
   * A node whose backward reads each output's gradient as one total (as a plain multi-output
   * node does) and adds, for each input marked in `folds`, the gradient gathered so far into the
   * gradient it computes, which then replaces it — e.g. the matmul's and the linears' backward,
   * whose GEMMs add it after their k-sums (the add the tape would do next, same operands). An
   * input that appears twice among `inputs` must be marked at most once.
   */
  static recordAccumulating(
    outs: Tensor[],
    inputs: Tensor[],
    folds: boolean[],
    backward: AccumulatingBackwardFn,
  ): void {
    const tape = Tape.active;
    if (!tape) return;
    for (const out of outs) out.requiresGrad = true;
    tape.nodes.push({ kind: 'accumulating', outs, inputs, backward, folds });
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

  /**
   * Vector-Jacobian product: gradients of Σ(out ⊙ dOut) with respect to every recorded tensor
   * (an intermediate tensor whose parts a folding node took unsummed is left out: its total was
   * never formed).
   */
  backwardFrom(out: Tensor, dOut: Tensor): Map<number, Tensor> {
    // Each tensor's gradient parts, in arrival order; one entry once they have been added.
    const parts = new Map<number, Tensor[]>();
    const takenApart = new Set<number>();
    const total = (id: number): Tensor | null => {
      const p = parts.get(id);
      if (!p) return null;
      if (p.length > 1) {
        let s = p[0];
        for (let k = 1; k < p.length; k++) s = s.backend.add(s, p[k]);
        parts.set(id, [s]);
      }
      return (parts.get(id) as Tensor[])[0];
    };
    parts.set(out.id, [dOut]);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      let dxs: Array<Tensor | null>;
      let folds: boolean[] | null = null;
      if (node.kind === 'folding' || node.kind === 'accumulating') {
        folds = node.folds;
        const f = folds;
        const prev = () => node.inputs.map((x, j) => (f[j] && x.requiresGrad ? total(x.id) : null));
        if (node.kind === 'folding') {
          const dy = parts.get(node.outs[0].id);
          if (!dy) continue;
          takenApart.add(node.outs[0].id);
          dxs = node.backward(dy, prev());
        } else {
          const dys = node.outs.map((o) => total(o.id));
          if (dys.every((d) => d === null)) continue;
          dxs = node.backward(dys, prev());
        }
      } else {
        const dys = node.outs.map((o) => total(o.id));
        if (dys.every((dy) => dy === null)) continue;
        dxs = node.backward(dys);
      }
      node.inputs.forEach((x, j) => {
        const dx = dxs[j];
        if (!dx || !x.requiresGrad) return;
        const p = parts.get(x.id);
        if (p && !folds?.[j]) p.push(dx);
        else parts.set(x.id, [dx]);
      });
    }
    const grads = new Map<number, Tensor>();
    for (const id of parts.keys()) {
      if (takenApart.has(id) && (parts.get(id) as Tensor[]).length > 1) continue;
      grads.set(id, total(id) as Tensor);
    }
    return grads;
  }
}
