// A Tensor is a shape, a dtype and a handle to backend-owned storage.
// The handle is opaque to model code: a Float64Array/Int32Array on the CPU backend,
// a pooled GPUBuffer on the WebGPU backend. Tensors are immutable from model code's
// point of view, except for the in-place optimizer ops (AdamW) and grad accumulation.

import type { Backend } from './backend';

export type DType = 'f32' | 'i32';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

let nextId = 1;

/** Called for every tensor created; engine/scope.ts uses it to free a step's temporaries. */
export const tensorHooks: { created: ((t: Tensor) => void) | null } = { created: null };

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  disposed = false;
  /** Set by the tape for tensors that take part in autograd. */
  requiresGrad = false;
  /** Optional label, used in error messages and checkpoints. */
  name?: string;

  constructor(
    readonly backend: Backend,
    readonly shape: Shape,
    readonly dtype: DType,
    /** Backend-owned storage. Only the owning backend looks inside. */
    readonly storage: unknown,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor shape ${shapeStr(shape)}`);
    }
    this.size = sizeOf(shape);
    tensorHooks.created?.(this);
  }

  /** Copy back to the host. On the GPU this flushes pending work and waits for it. */
  read(): Promise<Float64Array | Int32Array> {
    return this.backend.read(this);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.release(this);
  }

  toString(): string {
    return `Tensor#${this.id}${this.name ? `(${this.name})` : ''}${shapeStr(this.shape)}:${this.dtype}`;
  }
}
