// AdamW over a parameter map, with global grad-norm clipping computed on the device:
// the norm² is one device-side reduction over every gradient, and each AdamW dispatch reads
// it to scale its gradient. No host round trip inside a step. By default the parameters, their
// gradients and moments live in one arena (optim_arena.ts): the step is a segmented norm pass
// and two AdamW dispatches over the flat buffers, whatever the number of tensors.

import type { AdamWParams, Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { RunConfig } from '../config';
import { decays, ParamArena } from './optim_arena';

/** How the optimizer step runs: over the arena (a few dispatches) or one tensor at a time. */
export type OptimPath = 'arena' | 'per-tensor';

export class AdamW {
  /** The path new optimizers take (the bench and the tests set 'per-tensor' to measure the old one). */
  static defaultPath: OptimPath = 'arena';
  private readonly m = new Map<string, Tensor>();
  private readonly v = new Map<string, Tensor>();
  /** The flat buffers (arena path); null on the per-tensor path. */
  private readonly arena: ParamArena | null;
  step = 0;

  /**
   * On the arena path (the default) the parameters live in the optimizer's arena: call adopt()
   * and use the tensors it returns as the model's parameters. The per-tensor path (one norm pass
   * and one AdamW dispatch per parameter) is kept as the bench's and the tests' reference.
   */
  constructor(
    private readonly be: Backend,
    params: Map<string, Tensor>,
    readonly path: OptimPath = AdamW.defaultPath,
  ) {
    this.arena = path === 'arena' ? new ParamArena(be, params) : null;
    if (this.arena) return;
    for (const [name, t] of params) {
      this.m.set(name, be.zeros(t.shape));
      this.v.set(name, be.zeros(t.shape));
    }
  }

  /**
   * Move parameters into the arena: each tensor's values are copied into its slot and the slot
   * (a slice of the arena) is returned in its place, with the same name and requiresGrad. The
   * caller replaces its tensors with these and disposes the old ones. Identity on the per-tensor
   * path; a tensor that already is its slot is returned as it is.
   */
  adopt(params: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of params) {
      const slot = this.arena?.params.get(name);
      if (!this.arena) out.set(name, t);
      else if (!slot) throw new Error(`optimizer: ${name} is not a parameter of this optimizer`);
      else {
        if (t !== slot) this.be.copyInto(slot, t);
        slot.name = t.name ?? name;
        slot.requiresGrad = t.requiresGrad;
        out.set(name, slot);
      }
    }
    return out;
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
    const hp = (wd: number): AdamWParams => ({
      lr,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: wd,
      step: this.step,
    });
    if (this.arena) return this.updateArena(this.arena, params, names, gs, o, hp);
    const normSq = this.be.sumSquares(gs);
    const clip = o.clip_norm > 0 ? { normSq, maxNorm: o.clip_norm } : null;
    names.forEach((n, i) => {
      const p = params.get(n)!;
      this.be.adamw(p, gs[i], this.m.get(n)!, this.v.get(n)!, hp(decays(p.shape) ? o.weight_decay : 0), clip);
    });
    return normSq;
  }

  private updateArena(
    a: ParamArena,
    params: Map<string, Tensor>,
    names: string[],
    gs: Tensor[],
    o: RunConfig['optim'],
    hp: (wd: number) => AdamWParams,
  ): Tensor {
    names.forEach((n, i) => {
      if (params.get(n) !== a.params.get(n))
        throw new Error(`optimizer: parameter ${n} is not its arena slot (adopt() the parameters first)`);
      this.be.copyInto(a.grads.get(n)!, gs[i]);
    });
    const normSq = this.be.sumSquaresSegments(a.g, a.layout.normOrder);
    const clip = o.clip_norm > 0 ? { normSq, maxNorm: o.clip_norm } : null;
    const { decayEnd, total } = a.layout;
    for (const [from, to, wd] of [
      [0, decayEnd, o.weight_decay],
      [decayEnd, total, 0],
    ]) {
      const r = a.range(from, to);
      if (r) this.be.adamw(r.p, r.g, r.m, r.v, hp(wd), clip);
    }
    return normSq;
  }

  private moments(): [Map<string, Tensor>, Map<string, Tensor>] {
    return this.arena ? [this.arena.mSlices, this.arena.vSlices] : [this.m, this.v];
  }

  /** A fresh start: zero moments and step count (bias correction starts over). */
  reset(): void {
    if (this.arena) this.arena.resetMoments();
    else
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
    const [ms, vs] = this.moments();
    for (const [name, t] of ms) m[name] = Float32Array.from(await t.read());
    for (const [name, t] of vs) v[name] = Float32Array.from(await t.read());
    return { step: this.step, m, v };
  }

  /** Replace the moments (shapes must match the parameters). */
  loadState(st: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void {
    const [ms, vs] = this.moments();
    for (const [map, src] of [
      [ms, st.m],
      [vs, st.v],
    ] as const) {
      for (const [name, t] of map) {
        const data = src[name];
        if (!data || data.length !== t.size)
          throw new Error(`checkpoint: optimizer state for ${name} is missing or has the wrong size`);
      }
    }
    for (const [map, src] of [
      [ms, st.m],
      [vs, st.v],
    ] as const) {
      for (const [name, t] of map) {
        const fresh = this.be.fromArray(src[name], t.shape);
        if (this.arena) {
          this.be.copyInto(t, fresh);
          fresh.dispose();
        } else {
          map.set(name, fresh);
          t.dispose();
        }
      }
    }
    this.step = st.step;
  }

  dispose(): void {
    this.arena?.dispose();
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
