// Check cases for whole modules built from ops (e.g. MLA): the forward runs the module on
// tensors made from the case's inputs; the backward is the tape's vector-Jacobian product.

import type { Backend } from '../engine/backend';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import type { CheckCase, HostInput } from './types';

export function moduleCase(desc: string, inputs: HostInput[], run: (xs: Tensor[]) => Tensor): CheckCase {
  return {
    desc,
    inputs,
    nDiff: 1,
    forward: (_be: Backend, xs: Tensor[]) => [run(xs)],
    backward: (_be: Backend, xs: Tensor[], dys: Tensor[]) => {
      xs.forEach((x, i) => {
        x.requiresGrad = inputs[i].grad;
      });
      const tape = new Tape();
      const out = tape.run(() => run(xs));
      const grads = tape.backwardFrom(out, dys[0]);
      return xs.map((x, i) => (inputs[i].grad ? (grads.get(x.id) ?? x.backend.zeros(x.shape)) : null));
    },
  };
}
