// AdamW over a parameter map, with global grad-norm clipping computed on the device:
// the norm² is one device-side reduction over every gradient, and each AdamW dispatch reads
// it to scale its gradient. No host round trip inside a step.

import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { RunConfig } from '../config';

export class AdamW {
  private readonly m = new Map<string, Tensor>();
  private readonly v = new Map<string, Tensor>();
  step = 0;

  constructor(
    private readonly be: Backend,
    params: Map<string, Tensor>,
  ) {
    for (const [name, t] of params) {
      this.m.set(name, be.zeros(t.shape));
      this.v.set(name, be.zeros(t.shape));
    }
  }

  /**
   * One update. Returns the pre-clip global grad norm² as a device tensor (read it later).
   * Weight decay applies to matrices only, not to norm gains (a common, stated choice).
   */
  update(params: Map<string, Tensor>, grads: Map<string, Tensor>, o: RunConfig['optim'], lr: number): Tensor {
    this.step++;
    const names = [...params.keys()];
    const gs = names.map((n) => {
      const g = grads.get(n);
      if (!g) throw new Error(`optimizer: no gradient for ${n}`);
      return g;
    });
    const normSq = this.be.sumSquares(gs);
    const clip = o.clip_norm > 0 ? { normSq, maxNorm: o.clip_norm } : null;
    names.forEach((n, i) => {
      const p = params.get(n)!;
      const wd = p.shape.length >= 2 ? o.weight_decay : 0;
      this.be.adamw(
        p,
        gs[i],
        this.m.get(n)!,
        this.v.get(n)!,
        { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: wd, step: this.step },
        clip,
      );
    });
    return normSq;
  }

  /** A fresh start: zero moments and step count (bias correction starts over). */
  reset(): void {
    for (const map of [this.m, this.v]) {
      for (const [name, t] of map) {
        map.set(name, this.be.zeros(t.shape));
        t.dispose();
      }
    }
    this.step = 0;
  }

  /** Host copies of the moments, by parameter name. */
  async readState(): Promise<{ step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }> {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, t] of this.m) m[name] = Float32Array.from(await t.read());
    for (const [name, t] of this.v) v[name] = Float32Array.from(await t.read());
    return { step: this.step, m, v };
  }

  /** Replace the moments (shapes must match the parameters). */
  loadState(st: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void {
    for (const [map, src] of [
      [this.m, st.m],
      [this.v, st.v],
    ] as const) {
      for (const [name, t] of map) {
        const data = src[name];
        if (!data || data.length !== t.size)
          throw new Error(`checkpoint: optimizer state for ${name} is missing or has the wrong size`);
        map.set(name, this.be.fromArray(data, t.shape));
        t.dispose();
      }
    }
    this.step = st.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
