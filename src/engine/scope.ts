// Memory scopes: every tensor created inside a scope is disposed when it ends, except those
// explicitly kept. A training step runs in one scope, so activations, grads and temporaries
// go back to the GPU buffer pool each step while parameters and optimizer state live on.

import { Tensor, tensorHooks } from './tensor';

export class Scope {
  private readonly tensors = new Set<Tensor>();
  private readonly parent: ((t: Tensor) => void) | null;
  private ended = false;

  constructor() {
    this.parent = tensorHooks.created;
    tensorHooks.created = (t) => this.tensors.add(t);
  }

  /** Remove tensors from this scope so they survive it (they move to the enclosing scope). */
  keep(...ts: Tensor[]): void {
    for (const t of ts) {
      this.tensors.delete(t);
      this.parent?.(t);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    tensorHooks.created = this.parent;
    for (const t of this.tensors) t.dispose();
    this.tensors.clear();
  }
}

/** Run fn in a scope; the returned tensors (if any) are kept. */
export function scoped<T>(fn: () => T): T {
  const s = new Scope();
  try {
    const out = fn();
    if (out instanceof Tensor) s.keep(out);
    else if (Array.isArray(out)) s.keep(...out.filter((x): x is Tensor => x instanceof Tensor));
    return out;
  } finally {
    s.end();
  }
}

/** Run fn outside every scope: what it creates lives until disposed explicitly (e.g. a frozen copy of the weights). */
export function unscoped<T>(fn: () => T): T {
  const prev = tensorHooks.created;
  tensorHooks.created = null;
  try {
    return fn();
  } finally {
    tensorHooks.created = prev;
  }
}
