// Op check for the row softmax over the last dim of x [R, Tq, Tk], with and without the causal
// mask. The backward recomputes y = softmax(x) and calls softmaxBackward(y, dy), as the tape
// does. Causal offsets: null (no mask), 0 (the standard causal mask), Tk − Tq (the last query
// sees every key, as in incremental decoding) and a small positive offset; Tq ≤ Tk whenever a
// mask is applied.

import type { Rng } from '../engine/rng';
import { onTree } from './reduce';
import type { OpCheck } from './types';

function dims(rng: Rng, index: number): [number, number, number] {
  switch (index % 3) {
    case 0:
      return [rng.int(1, 2), rng.int(1, 3), rng.int(1, 4)];
    case 1:
      // Odd row lengths: not multiples of the row thread count (32..256).
      return [rng.pick([1, 3, 5]), rng.pick([7, 33]), rng.pick([7, 33, 130, 257])];
    default:
      return [rng.int(2, 4), rng.int(60, 150), rng.int(150, 400)];
  }
}

const softmax: OpCheck = {
  name: 'softmax',
  about:
    'row softmax over the last dim of [R, Tq, Tk], optional causal mask j > i + offset; backward y ⊙ (dy − Σ dy⊙y)',
  // exp and one division per element in f32 plus a tree sum over ≤ 400 terms: ~1e-7 observed.
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng, index) {
    let [R, Tq, Tk] = dims(rng, index);
    const mode = rng.pick(['none', 'causal', 'decode', 'small'] as const);
    let offset: number | null = null;
    if (mode !== 'none') {
      if (Tq > Tk) [Tq, Tk] = [Tk, Tq];
      offset = mode === 'causal' ? 0 : mode === 'decode' ? Tk - Tq : rng.int(1, 3);
    }
    const scale = rng.pick([1, 3]);
    return {
      desc: `R=${R} Tq=${Tq} Tk=${Tk} offset=${offset} |x|~${scale}`,
      inputs: [{ name: 'x', shape: [R, Tq, Tk], dtype: 'f32', data: rng.normalArray(R * Tq * Tk, scale), grad: true }],
      nDiff: 1,
      forward: (be, [x]) => [be.softmax(x, offset)],
      backward(be, [x], [dy]) {
        const y = be.softmax(x, offset);
        const dx = be.softmaxBackward(y, dy);
        y.dispose();
        return [dx];
      },
    };
  },
};

// On the device's path (subgroup finish of the row trees where it has `subgroups`) and on the tree path.
export const softmaxChecks: OpCheck[] = [softmax, onTree(softmax)];
