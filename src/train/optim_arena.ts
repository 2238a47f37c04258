// The optimizer's arena: every trainable parameter, its gradient and its two AdamW moments live
// in four flat buffers (P, G, M, V), one slot per parameter at the same offset in each, so a
// whole optimizer step is a few dispatches over the flat buffers instead of a few per tensor:
//
//   gather   each gradient copied into its slot of G (buffer-to-buffer copies, no dispatch);
//   norm     one segmented partial pass over G (sumSquaresSegments) + the usual tree over the
//            partials: the global grad norm² for clipping;
//   update   AdamW over two ranges of the arena, the weight-decayed matrices [0, decayEnd) and
//            the undecayed vectors [decayEnd, total): two dispatches.
//
// The parameters the model reads are slices of P (Backend.slice), so nothing is copied back.
// Slots start at multiples of SLICE_ALIGN (64 floats = 256 bytes, WebGPU's largest binding
// offset alignment); the padding between slots is zero in P, G, M and V and stays zero under
// AdamW (g = m = v = p = 0 gives an update of 0 / (0 + eps) = 0).
//
// Same bits as the per-tensor path: the norm's slices, trees and partial order are those of
// sumSquares over the gradients in parameter order (segments listed in that order), and AdamW
// is the same elementwise kernel with the same uniforms, applied to every element once.

import { type Backend, SLICE_ALIGN, type Segment } from '../engine/backend';
import type { Tensor } from '../engine/tensor';

/** Weight decay applies to matrices only, not to norm gains (a common, stated choice). */
export const decays = (shape: readonly number[]): boolean => shape.length >= 2;

export interface ArenaLayout {
  /** Slot of each parameter, by name. */
  slots: Map<string, Segment & { shape: readonly number[] }>;
  /** Segments in the parameters' order (the order of the grad-norm sum). */
  normOrder: Segment[];
  /** Elements [0, decayEnd) hold the decayed parameters; [decayEnd, total) the others. */
  decayEnd: number;
  total: number;
}

const align = (n: number) => Math.ceil(n / SLICE_ALIGN) * SLICE_ALIGN;

/** Decayed parameters first, then the rest, each group in the map's order; slots aligned. */
export function arenaLayout(params: ReadonlyMap<string, { shape: readonly number[] }>): ArenaLayout {
  const slots: ArenaLayout['slots'] = new Map();
  let at = 0;
  const place = (decayed: boolean) => {
    for (const [name, p] of params) {
      if (decays(p.shape) !== decayed) continue;
      const size = p.shape.reduce((a, b) => a * b, 1);
      slots.set(name, { offset: at, size, shape: p.shape });
      at += align(size);
    }
    return at;
  };
  const decayEnd = place(true);
  place(false);
  const normOrder = [...params.keys()].map((n) => {
    const { offset, size } = slots.get(n)!;
    return { offset, size };
  });
  return { slots, normOrder, decayEnd, total: Math.max(at, SLICE_ALIGN) };
}

/** The four flat buffers and the per-parameter slices of them. */
export class ParamArena {
  readonly layout: ArenaLayout;
  readonly p: Tensor;
  readonly g: Tensor;
  m: Tensor;
  v: Tensor;
  /** Slices by name: the parameters (of P), gradient slots (of G), moments (of M, V). */
  readonly params = new Map<string, Tensor>();
  readonly grads = new Map<string, Tensor>();
  mSlices = new Map<string, Tensor>();
  vSlices = new Map<string, Tensor>();

  constructor(
    private readonly be: Backend,
    shapes: ReadonlyMap<string, { shape: readonly number[] }>,
  ) {
    this.layout = arenaLayout(shapes);
    const n = [this.layout.total];
    this.p = be.zeros(n);
    this.g = be.zeros(n);
    this.m = be.zeros(n);
    this.v = be.zeros(n);
    for (const [name, s] of this.layout.slots) {
      this.params.set(name, be.slice(this.p, s.offset, s.shape));
      this.grads.set(name, be.slice(this.g, s.offset, s.shape));
    }
    this.sliceMoments();
  }

  private sliceMoments(): void {
    this.mSlices = new Map();
    this.vSlices = new Map();
    for (const [name, s] of this.layout.slots) {
      this.mSlices.set(name, this.be.slice(this.m, s.offset, s.shape));
      this.vSlices.set(name, this.be.slice(this.v, s.offset, s.shape));
    }
  }

  /** Fresh zero moments. */
  resetMoments(): void {
    this.m.dispose();
    this.v.dispose();
    this.m = this.be.zeros([this.layout.total]);
    this.v = this.be.zeros([this.layout.total]);
    this.sliceMoments();
  }

  /**
   * Range [from, to) of each flat buffer as a tensor, for one AdamW dispatch over many
   * parameters. Empty when from = to.
   */
  range(from: number, to: number): { p: Tensor; g: Tensor; m: Tensor; v: Tensor } | null {
    if (to <= from) return null;
    const s = (t: Tensor) => this.be.slice(t, from, [to - from]);
    return { p: s(this.p), g: s(this.g), m: s(this.m), v: s(this.v) };
  }

  dispose(): void {
    for (const t of [this.p, this.g, this.m, this.v]) t.dispose();
  }
}
