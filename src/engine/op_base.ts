// The helpers every differentiable op shares: argument checks and the taped reshape. Its own
// file so that ops.ts and ops_linear.ts both import it (ops.ts re-exports it).

import { Tape } from './tape';
import type { Shape, Tensor } from './tensor';

// Argument checks shared by every differentiable op (also lowp/linear.ts, the low-precision linears).
export function fail(op: string, msg: string): never {
  throw new Error(`${op}: ${msg}`);
}

export function needsGrad(...ts: Tensor[]): boolean {
  return Tape.active !== null && ts.some((t) => t.requiresGrad);
}

export function requireF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') fail(op, `expected f32 tensor, got ${t}`);
}

/** Reshape without copying; the gradient flows through the same reshape. */
export function view(x: Tensor, shape: Shape): Tensor {
  const y = x.backend.view(x, shape);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [dy.backend.view(dy, x.shape)]);
  return y;
}
