// Quantized operands kept for the life of one tape (one forward + backward = one optimizer step):
//  * a weight is quantized once per step — in B×B blocks, W and Wᵀ together in one pass
//    (quantizeBlocksPair), in 1×B rows W and then Wᵀ read in place (quantizeRowsT) — and the
//    forward GEMM and the backward's Dgrad GEMM of every linear that uses it read the same codes
//    (the model quantizes all its block linears' weights in one pass at the start of the step:
//    prequantizeWeights);
//  * an activation's Q_rows(xᵀ), the Wgrad operand kept for the backward, is made once per input
//    tensor, so q/k/v (and gate/up), which read the same x, share it.
//
// Invalidation. The cache hangs off the Tape that is recording (a WeakMap keyed by it): a
// training step records on a fresh tape and the optimizer updates the weights only after that
// tape's backward, so an update always lands between two tapes and can never be seen through a
// stale entry. Each entry also remembers the tensor's storage (its arena slot: a WebGPU buffer
// range or a CPU array) and is rebuilt when that changes or when its codes have been disposed
// (their scope ended). Outside a tape (evaluation, generation) nothing is cached: every call
// quantizes, as before.

import type { Backend, QTensor, QuantSpec } from '../engine/backend';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';

interface Entry {
  storage: unknown;
  q: QTensor;
  /** The transposed operand, once made (weights only). */
  t: QTensor | null;
}

const caches = new WeakMap<Tape, Map<Tensor, Map<string, Entry>>>();

function specKey(kind: string, s: QuantSpec): string {
  return `${kind}:${s.format}:${s.block}:${s.scale}`;
}

const live = (q: QTensor | null): q is QTensor => q !== null && !q.codes.disposed && !q.scales.disposed;

function slotOf(t: Tensor, key: string): { get(): Entry | null; set(e: Entry): void } {
  const tape = Tape.active;
  if (!tape) return { get: () => null, set: () => {} };
  let byTensor = caches.get(tape);
  if (!byTensor) caches.set(tape, (byTensor = new Map()));
  let byKey = byTensor.get(t);
  if (!byKey) byTensor.set(t, (byKey = new Map()));
  const m = byKey;
  return {
    get: () => {
      const e = m.get(key);
      return e && e.storage === t.storage && live(e.q) ? e : null;
    },
    set: (e) => m.set(key, e),
  };
}

/** A weight's quantized forms for one step: `q` = Q(W), `transposed()` = Q(Wᵀ) (made on first use). */
export interface WeightQuant {
  q: QTensor;
  transposed(): QTensor;
}

/**
 * W [out, in] quantized for Fprop (`q`) and, when `needT`, Wᵀ for Dgrad — both from one pass in
 * B×B blocks. Cached on the recording tape (see the header).
 */
export function weightQuant(
  be: Backend,
  w: Tensor,
  spec: QuantSpec,
  tiling: 'blocks' | 'rows',
  needT: boolean,
): WeightQuant {
  const slot = slotOf(w, specKey(tiling, spec));
  let e = slot.get();
  if (!e) {
    if (tiling === 'blocks' && needT) {
      const [q, t] = be.quantizeBlocksPair(w, spec);
      e = { storage: w.storage, q, t };
    } else {
      e = {
        storage: w.storage,
        q: tiling === 'blocks' ? be.quantizeBlocks(w, spec) : be.quantizeRows(w, spec),
        t: null,
      };
    }
    slot.set(e);
  }
  const entry = e;
  return {
    q: entry.q,
    transposed(): QTensor {
      if (!live(entry.t)) {
        entry.t = tiling === 'blocks' ? be.quantizeBlocksPair(w, spec)[1] : be.quantizeRowsT(w, spec);
      }
      return entry.t;
    },
  };
}

/**
 * Weights quantized for Fprop and Dgrad ahead of their linears, all in one pass
 * (Backend.quantizeBlocksPairs / quantizeRowsPairs: one dispatch on the GPU when they share the
 * parameter arena) instead of one or two passes per linear as weightQuant reaches them: their
 * cache entries are what weightQuant then finds, with the same codes. Only on a recording tape
 * (nothing is cached outside one); weights whose entry is live already are skipped.
 */
export function prequantizeWeights(
  be: Backend,
  ws: readonly Tensor[],
  spec: QuantSpec,
  tiling: 'blocks' | 'rows' = 'blocks',
): void {
  if (!Tape.active) return;
  const key = specKey(tiling, spec);
  const todo = [...new Set(ws)].filter((w) => slotOf(w, key).get() === null);
  if (todo.length === 0) return;
  const pairs = tiling === 'blocks' ? be.quantizeBlocksPairs(todo, spec) : be.quantizeRowsPairs(todo, spec);
  pairs.forEach(([q, t], i) => {
    slotOf(todo[i], key).set({ storage: todo[i].storage, q, t });
  });
}

/**
 * Q_rows(x2ᵀ) of an activation x2 [rows, in] (a view of `x`), quantized in place without a
 * transpose pass; one per input tensor per tape.
 */
export function activationQuantT(be: Backend, x: Tensor, x2: Tensor, spec: QuantSpec): QTensor {
  const slot = slotOf(x, specKey('rowsT', spec));
  const e = slot.get();
  if (e) return e.q;
  const q = be.quantizeRowsT(x2, spec);
  slot.set({ storage: x.storage, q, t: null });
  return q;
}
