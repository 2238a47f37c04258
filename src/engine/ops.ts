// Differentiable ops: model code calls these. Each validates shapes (errors name the op and the
// shapes), runs the backend's forward, and, while a Tape is recording and an input needs a
// gradient, records how to push the output's gradient back to its inputs.

import type { AccumSpec, AttentionShape, QuantSpec, RouteConfig } from './backend';
import { fail, needsGrad, requireF32, view } from './op_base';
import { matmul } from './ops_linear';
import { Tape } from './tape';
import { type Tensor, sameShape, shapeStr, type Shape } from './tensor';

export { fail, needsGrad, requireF32, view } from './op_base';
export { linear, linearAdd, linears, matmul, swigluLinear } from './ops_linear';
export { rmsnormSegments } from './ops_norm';
export { moeCombine, moeExperts, moeExpertsGathered, moeExpertsMany, moeExpertsSwiglu, moeGather } from './ops_moe';

// ---------------------------------------------------------------- elementwise

function sameShapeOrFail(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) fail(op, `shapes differ: ${shapeStr(a.shape)} vs ${shapeStr(b.shape)}`);
}

export function add(a: Tensor, b: Tensor): Tensor {
  requireF32('add', a, b);
  sameShapeOrFail('add', a, b);
  const y = a.backend.add(a, b);
  if (needsGrad(a, b)) Tape.record(y, [a, b], (dy) => [a.requiresGrad ? dy : null, b.requiresGrad ? dy : null]);
  return y;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  requireF32('mul', a, b);
  sameShapeOrFail('mul', a, b);
  const be = a.backend;
  const y = be.mul(a, b);
  if (needsGrad(a, b))
    Tape.record(y, [a, b], (dy) => [a.requiresGrad ? be.mul(dy, b) : null, b.requiresGrad ? be.mul(dy, a) : null]);
  return y;
}

export function scale(a: Tensor, s: number): Tensor {
  requireF32('scale', a);
  const be = a.backend;
  const y = be.scale(a, s);
  if (needsGrad(a)) Tape.record(y, [a], (dy) => [be.scale(dy, s)]);
  return y;
}

export function sum(a: Tensor): Tensor {
  requireF32('sum', a);
  const be = a.backend;
  const y = be.sum(a);
  if (needsGrad(a)) Tape.record(y, [a], (dy) => [be.broadcastScalar(dy, a.shape, 1)]);
  return y;
}

export function mean(a: Tensor): Tensor {
  if (a.size === 0) fail('mean', 'empty tensor');
  return scale(sum(a), 1 / a.size);
}

export function silu(x: Tensor): Tensor {
  requireF32('silu', x);
  const be = x.backend;
  const y = be.silu(x);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.siluBackward(x, dy)]);
  return y;
}

/** silu(g) · u, the SwiGLU gate. */
export function swiglu(g: Tensor, u: Tensor): Tensor {
  requireF32('swiglu', g, u);
  sameShapeOrFail('swiglu', g, u);
  const be = g.backend;
  const y = be.swiglu(g, u);
  if (needsGrad(g, u)) {
    Tape.record(y, [g, u], (dy) => {
      const { dg, du } = be.swigluBackward(g, u, dy);
      return [dg, du];
    });
  }
  return y;
}

// ---------------------------------------------------------------- embedding, norm, rope

export function embedding(table: Tensor, ids: Tensor): Tensor {
  requireF32('embedding', table);
  if (ids.dtype !== 'i32') fail('embedding', `ids must be i32, got ${ids}`);
  if (table.shape.length !== 2) fail('embedding', `table must be [vocab, dim], got ${shapeStr(table.shape)}`);
  const be = table.backend;
  const flat = be.view(ids, [ids.size]);
  const y = be.embedding(table, flat);
  const out = be.view(y, [...ids.shape, table.shape[1]]);
  if (needsGrad(table)) {
    Tape.record(out, [table], (dy) => [
      be.embeddingBackward(flat, be.view(dy, [ids.size, table.shape[1]]), table.shape[0]),
    ]);
  }
  return out;
}

/** RMSNorm over the last dim: x · rsqrt(mean(x²) + eps) · w. */
export function rmsnorm(x: Tensor, w: Tensor, eps: number): Tensor {
  requireF32('rmsnorm', x, w);
  const d = x.shape[x.shape.length - 1];
  if (w.shape.length !== 1 || w.shape[0] !== d)
    fail('rmsnorm', `weight ${shapeStr(w.shape)} does not match last dim ${d} of ${shapeStr(x.shape)}`);
  const be = x.backend;
  const x2 = be.view(x, [x.size / d, d]);
  const { y, rstd } = be.rmsnorm(x2, w, eps);
  const out = be.view(y, x.shape);
  if (needsGrad(x, w)) {
    // One kernel for dx, dw, the sum of y's gradient parts and the accumulation of dx into x's
    // gradient gathered so far.
    Tape.recordFolding(out, [x, w], [true, false], (dy, [prev]) => {
      const rows = [x.size / d, d];
      const res = prev ? be.view(prev, rows) : undefined;
      const [dy0, ...more] = dy.map((t) => be.view(t, rows));
      const { dx, dw } = be.rmsnormBackward(x2, w, rstd, dy0, res, more);
      return [be.view(dx, x.shape), dw];
    });
  }
  return out;
}

/**
 * The residual stream's add fused into the norm after it: { sum: a + b, y: rmsnorm(a + b, w) }
 * in one kernel. On the tape it is the two ops it replaces (add, then rmsnorm of the sum), so
 * the gradients are those of the unfused ops, bit for bit.
 */
export function addRmsnorm(a: Tensor, b: Tensor, w: Tensor, eps: number): { sum: Tensor; y: Tensor } {
  requireF32('addRmsnorm', a, b, w);
  sameShapeOrFail('addRmsnorm', a, b);
  const d = a.shape[a.shape.length - 1];
  if (w.shape.length !== 1 || w.shape[0] !== d)
    fail('addRmsnorm', `weight ${shapeStr(w.shape)} does not match last dim ${d} of ${shapeStr(a.shape)}`);
  const be = a.backend;
  const rows = [a.size / d, d];
  const r = be.addRmsnorm(be.view(a, rows), be.view(b, rows), w, eps);
  const sum = be.view(r.sum, a.shape);
  const y = be.view(r.y, a.shape);
  if (needsGrad(a, b)) Tape.record(sum, [a, b], (dy) => [a.requiresGrad ? dy : null, b.requiresGrad ? dy : null]);
  if (needsGrad(a, b, w)) {
    // The norm's backward also adds the stream's gradient from the next block (one kernel).
    Tape.recordFolding(y, [sum, w], [true, false], (dy, [prev]) => {
      const res = prev ? be.view(prev, rows) : undefined;
      const [dy0, ...more] = dy.map((t) => be.view(t, rows));
      const { dx, dw } = be.rmsnormBackward(r.sum, w, r.rstd, dy0, res, more);
      return [be.view(dx, a.shape), dw];
    });
  }
  return { sum, y };
}

/** Rotary embedding on x [B, T, H, D], adjacent pairs, position t + posOffset. */
export function rope(x: Tensor, theta: number, posOffset = 0): Tensor {
  requireF32('rope', x);
  if (x.shape.length !== 4) fail('rope', `expected [B, T, H, D], got ${shapeStr(x.shape)}`);
  if (x.shape[3] % 2 !== 0) fail('rope', `head dim must be even, got ${x.shape[3]}`);
  const be = x.backend;
  const y = be.rope(x, theta, posOffset, false);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.rope(dy, theta, posOffset, true)]);
  return y;
}

/**
 * rope(q) and rope(k) as one op (q [B, T, H, D], k [B, T, Hkv, D]): one dispatch each way on the
 * GPU instead of two; the same bits, value and gradient.
 */
export function ropePair(q: Tensor, k: Tensor, theta: number, posOffset = 0): [Tensor, Tensor] {
  requireF32('ropePair', q, k);
  if (q.shape.length !== 4 || k.shape.length !== 4)
    fail('ropePair', `expected [B, T, H, D] twice, got ${shapeStr(q.shape)} and ${shapeStr(k.shape)}`);
  if (q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1] || q.shape[3] !== k.shape[3])
    fail('ropePair', `q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} differ in B, T or D`);
  if (q.shape[3] % 2 !== 0) fail('ropePair', `head dim must be even, got ${q.shape[3]}`);
  const be = q.backend;
  const [qr, kr] = be.ropePair(q, k, theta, posOffset, false);
  if (needsGrad(q, k))
    Tape.recordMulti([qr, kr], [q, k], ([dq, dk]) => {
      if (dq && dk) return be.ropePair(dq, dk, theta, posOffset, true);
      return [dq && be.rope(dq, theta, posOffset, true), dk && be.rope(dk, theta, posOffset, true)];
    });
  return [qr, kr];
}

/**
 * x [B, T, H, D] with columns [start, start + len) of each head rotated as rope() rotates a
 * len-wide head, the rest copied: MLA's [q_nope ; RoPE(q_pe)] in one kernel instead of two
 * slices, a rope and a concat (and one kernel backward instead of six).
 */
export function ropeCols(x: Tensor, start: number, len: number, theta: number, posOffset = 0): Tensor {
  requireF32('ropeCols', x);
  if (x.shape.length !== 4) fail('ropeCols', `expected [B, T, H, D], got ${shapeStr(x.shape)}`);
  const D = x.shape[3];
  if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 2 || len % 2 !== 0 || start + len > D)
    fail('ropeCols', `columns [${start}, ${start + len}) must be an even-width range inside the head dim ${D}`);
  const be = x.backend;
  const y = be.ropeCols(x, start, len, theta, posOffset, false);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.ropeCols(dy, start, len, theta, posOffset, true)]);
  return y;
}

/**
 * MLA's keys and values: kv [B, T, H, dn + dv] (W_UKV·c per head) and the shared RoPE key kpe
 * [B, T, dr] (not yet rotated) → k [B, T, H, dn + dr] = [k_nope_h ; RoPE(kpe)], v = kv[..., dn:].
 * One kernel for the slices, the RoPE, the repeat over heads and the concat; one backward kernel.
 */
export function mlaKeys(kv: Tensor, kpe: Tensor, dn: number, theta: number, posOffset = 0): { k: Tensor; v: Tensor } {
  requireF32('mlaKeys', kv, kpe);
  if (kv.shape.length !== 4 || kpe.shape.length !== 3 || !sameShape(kv.shape.slice(0, 2), kpe.shape.slice(0, 2)))
    fail(
      'mlaKeys',
      `expected kv [B, T, H, dn + dv] and kpe [B, T, dr], got ${shapeStr(kv.shape)} and ${shapeStr(kpe.shape)}`,
    );
  const dr = kpe.shape[2];
  if (!Number.isInteger(dn) || dn < 1 || dn >= kv.shape[3] || dr % 2 !== 0)
    fail(
      'mlaKeys',
      `nope width ${dn} must leave a value part of kv ${shapeStr(kv.shape)}; RoPE width ${dr} must be even`,
    );
  const be = kv.backend;
  const { k, v } = be.mlaKeys(kv, kpe, dn, theta, posOffset);
  if (needsGrad(kv, kpe)) {
    Tape.recordMulti([k, v], [kv, kpe], ([dk, dv]) => {
      const g = be.mlaKeysBackward(dk ?? be.zeros(k.shape), dv ?? be.zeros(v.shape), dn, theta, posOffset);
      return [g.dkv, g.dkpe];
    });
  }
  return { k, v };
}

// ---------------------------------------------------------------- attention

export function attention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape): Tensor {
  requireF32('attention', q, k, v);
  const want = (name: string, t: Tensor, shape: number[]) => {
    if (!sameShape(t.shape, shape)) fail('attention', `${name} is ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
  };
  if (s.heads % s.kvHeads !== 0) fail('attention', `heads ${s.heads} not a multiple of kv heads ${s.kvHeads}`);
  want('q', q, [s.batch, s.seq, s.heads, s.dQK]);
  want('k', k, [s.batch, s.seq, s.kvHeads, s.dQK]);
  want('v', v, [s.batch, s.seq, s.kvHeads, s.dV]);
  const be = q.backend;
  const { o, lse } = be.attention(q, k, v, s);
  if (needsGrad(q, k, v)) {
    Tape.record(o, [q, k, v], (dO) => {
      const { dq, dk, dv } = be.attentionBackward(q, k, v, o, lse, dO, s);
      return [dq, dk, dv];
    });
  }
  return o;
}

// ---------------------------------------------------------------- loss

/**
 * Mean softmax cross-entropy over rows whose target is ≥ 0. logits [..., V], targets i32 [...].
 * `count` is the number of rows with a target (known on the host when the batch is built).
 * The bits of scale(sum(crossEntropyRows(logits, targets)), 1 / count) and of its gradient, in
 * fewer dispatches: the sum's last pass applies the 1/count (sumScaled), and one tape node's
 * backward reads the upstream scalar times 1/count in the cross-entropy backward itself
 * (crossEntropyMeanBackward) — no scale, no broadcast.
 */
export function crossEntropyMean(logits: Tensor, targets: Tensor, count: number): Tensor {
  if (count <= 0) fail('crossEntropy', 'no rows with a target');
  const factor = 1 / count;
  const { l2, t2, loss, lse } = crossEntropyForward(logits, targets);
  const be = logits.backend;
  const y = be.sumScaled(loss, factor);
  loss.dispose();
  if (needsGrad(logits)) {
    Tape.record(y, [logits], (dy) => [be.view(be.crossEntropyMeanBackward(l2, t2, lse, dy, factor), logits.shape)]);
  }
  return y;
}

/**
 * Σ a · factor → [1] (a mean of a loss: factor = 1/count): the bits of scale(sum(a), factor)
 * and of its gradient (broadcastScalar(dy, shape, factor) = dy · factor, as scale's backward
 * then sum's), one dispatch fewer each way.
 */
export function sumScaled(a: Tensor, factor: number): Tensor {
  requireF32('sumScaled', a);
  const be = a.backend;
  const y = be.sumScaled(a, factor);
  if (needsGrad(a)) Tape.record(y, [a], (dy) => [be.broadcastScalar(dy, a.shape, factor)]);
  return y;
}

/**
 * Per-row cross-entropy [N] (lse − logit of the target; 0 where target < 0): the negative
 * log-probability of each target, differentiable — what sequence log-probs (GRPO) are made of.
 */
export function crossEntropyRows(logits: Tensor, targets: Tensor): Tensor {
  const { l2, t2, loss, lse } = crossEntropyForward(logits, targets);
  const be = logits.backend;
  if (needsGrad(logits)) {
    Tape.record(loss, [logits], (dloss) => [be.view(be.crossEntropyBackward(l2, t2, lse, dloss), logits.shape)]);
  }
  return loss;
}

/** Checked [N, V] / [N] views of logits and targets and the per-row forward (untaped). */
function crossEntropyForward(logits: Tensor, targets: Tensor) {
  requireF32('crossEntropy', logits);
  if (targets.dtype !== 'i32') fail('crossEntropy', `targets must be i32, got ${targets}`);
  const V = logits.shape[logits.shape.length - 1];
  const N = logits.size / V;
  if (targets.size !== N)
    fail('crossEntropy', `${targets.size} targets for ${N} rows of logits ${shapeStr(logits.shape)}`);
  const be = logits.backend;
  const l2 = be.view(logits, [N, V]);
  const t2 = be.view(targets, [N]);
  return { l2, t2, ...be.crossEntropy(l2, t2) };
}

// ---------------------------------------------------------------- layout (MLA needs these)

/** Columns [start, start+len) of the last dim. */
export function sliceLast(x: Tensor, start: number, len: number): Tensor {
  requireF32('sliceLast', x);
  const D = x.shape[x.shape.length - 1];
  if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 1 || start + len > D) {
    fail('sliceLast', `columns [${start}, ${start + len}) are outside the last dim ${D} of ${shapeStr(x.shape)}`);
  }
  const be = x.backend;
  const y = be.sliceLast(x, start, len);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.padLast(dy, start, D)]);
  return y;
}

/** [a ; b] along the last dim; leading dims must match. */
export function concatLast(a: Tensor, b: Tensor): Tensor {
  requireF32('concatLast', a, b);
  if (!sameShape(a.shape.slice(0, -1), b.shape.slice(0, -1)))
    fail('concatLast', `leading dims differ: ${shapeStr(a.shape)} vs ${shapeStr(b.shape)}`);
  const da = a.shape[a.shape.length - 1];
  const db = b.shape[b.shape.length - 1];
  const be = a.backend;
  const y = be.concatLast(a, b);
  if (needsGrad(a, b))
    Tape.record(y, [a, b], (dy) => [
      a.requiresGrad ? be.sliceLast(dy, 0, da) : null,
      b.requiresGrad ? be.sliceLast(dy, da, db) : null,
    ]);
  return y;
}

/** x[..., :at] and x[..., at:] in one kernel; the backward is one concat (a pad where one part got no gradient). */
export function splitLast(x: Tensor, at: number): [Tensor, Tensor] {
  requireF32('splitLast', x);
  const D = x.shape[x.shape.length - 1];
  if (!Number.isInteger(at) || at < 1 || at >= D)
    fail('splitLast', `split point ${at} must be inside the last dim ${D} of ${shapeStr(x.shape)}`);
  const be = x.backend;
  const { a, b } = be.splitLast(x, at);
  if (needsGrad(x)) {
    Tape.recordMulti([a, b], [x], ([da, db]) => [
      da && db ? be.concatLast(da, db) : da ? be.padLast(da, 0, D) : be.padLast(db as Tensor, at, D),
    ]);
  }
  return [a, b];
}

/** [A, B, C] → [B, A, C]. */
export function swap01(x: Tensor): Tensor {
  requireF32('swap01', x);
  if (x.shape.length !== 3) fail('swap01', `expected rank 3, got ${shapeStr(x.shape)}`);
  const be = x.backend;
  const y = be.swap01(x);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.swap01(dy)]);
  return y;
}

/** Softmax over the last dim of x [R, Tq, Tk]; with causalOffset, (i, j) is masked when j > i + offset. */
export function softmax(x: Tensor, causalOffset: number | null): Tensor {
  requireF32('softmax', x);
  if (x.shape.length !== 3) fail('softmax', `expected [R, Tq, Tk], got ${shapeStr(x.shape)}`);
  if (causalOffset !== null && (!Number.isInteger(causalOffset) || causalOffset < 0))
    fail('softmax', `causal offset must be a non-negative integer, got ${causalOffset}`);
  const be = x.backend;
  const y = be.softmax(x, causalOffset);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.softmaxBackward(y, dy)]);
  return y;
}

/**
 * x [N, 1, D] → [N, H, D], every row repeated H times, written as a batched product with a
 * ones column (ones[N, H, 1] · x[N, 1, D]) so that its gradient — the sum over the H copies —
 * comes from the matmul's own backward.
 */
export function repeatMiddle(x: Tensor, H: number): Tensor {
  if (x.shape.length !== 3 || x.shape[1] !== 1) fail('repeatMiddle', `expected [N, 1, D], got ${shapeStr(x.shape)}`);
  const ones = x.backend.fromArray(new Float32Array(x.shape[0] * H).fill(1), [x.shape[0], H, 1]);
  return matmul(ones, x);
}

/**
 * Causal attention written out with separate kernels (scores matmul, masked softmax, values
 * matmul), materializing the T×T scores: the unfused baseline the fused kernel is measured
 * against. Same semantics as attention(), for batch 1 and kvHeads = heads.
 */
export function attentionUnfused(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape): Tensor {
  if (s.batch !== 1 || s.kvHeads !== s.heads)
    fail('attentionUnfused', 'the unfused baseline takes batch 1 and kv heads = heads');
  const { seq: T, heads: H, dQK, dV } = s;
  const perHead = (x: Tensor, d: number) => swap01(view(x, [T, H, d])); // [H, T, d]
  const scores = scale(matmul(perHead(q, dQK), perHead(k, dQK), { transB: true }), s.scale); // [H, T, T]
  const out = matmul(softmax(scores, 0), perHead(v, dV)); // [H, T, dV]
  return view(swap01(out), [1, T, H, dV]);
}

// ---------------------------------------------------------------- mixture of experts

export function sigmoid(x: Tensor): Tensor {
  requireF32('sigmoid', x);
  const be = x.backend;
  const y = be.sigmoid(x);
  if (needsGrad(x)) Tape.record(y, [x], (dy) => [be.sigmoidBackward(y, dy)]);
  return y;
}

/**
 * Group-limited top-K routing (Backend.moeRoute). The selection (idx) carries no gradient; the
 * weights are the original scores of the chosen experts, so the gate's gradient flows through them.
 */
export function moeRoute(scores: Tensor, bias: Tensor, r: RouteConfig): { idx: Tensor; weight: Tensor } {
  checkRouting('moeRoute', scores, bias, r);
  const be = scores.backend;
  const { idx, weight } = be.moeRoute(scores, bias, r);
  if (needsGrad(scores)) Tape.record(weight, [scores], (dw) => [be.moeRouteBackward(scores, idx, dw, r)]);
  return { idx, weight };
}

/** x [N, E] (scores or logits), bias [E] and a routing valid for E experts. */
function checkRouting(name: string, x: Tensor, bias: Tensor, r: RouteConfig): void {
  requireF32(name, x, bias);
  if (x.shape.length !== 2) fail(name, `expected [N, E], got ${shapeStr(x.shape)}`);
  const E = x.shape[1];
  if (bias.size !== E) fail(name, `bias has ${bias.size} entries for ${E} experts`);
  if (E % r.nGroup !== 0 || r.topkGroup > r.nGroup || r.topK > (E / r.nGroup) * r.topkGroup)
    fail(name, `invalid routing ${JSON.stringify(r)} for ${E} experts`);
}

/**
 * sigmoid then moeRoute as one op (Backend.moeRouteSigmoid: one dispatch each way on the GPU),
 * returning the scores too. One tape node, outputs [weight, scores]: its backward takes the
 * weights' gradient and whatever reached the scores from elsewhere (the balance loss) and
 * returns dLogits, the bits of the two ops' backwards and the tape's add between them.
 */
export function moeRouteSigmoid(
  logits: Tensor,
  bias: Tensor,
  r: RouteConfig,
): { idx: Tensor; weight: Tensor; scores: Tensor } {
  checkRouting('moeRouteSigmoid', logits, bias, r);
  const be = logits.backend;
  const { idx, weight, scores } = be.moeRouteSigmoid(logits, bias, r);
  if (needsGrad(logits))
    Tape.recordMulti([weight, scores], [logits], ([dw, ds]) => [
      // No gradient on the weights (the tape skips the node when neither output has one): the
      // unfused path would not run the routing backward, only sigmoid's.
      dw ? be.moeRouteSigmoidBackward(scores, idx, dw, r, ds) : be.sigmoidBackward(scores, ds as Tensor),
    ]);
  return { idx, weight, scores };
}

/**
 * V3's sequence-wise balance loss per sequence (eqs. 17–20), scores [B, T, E], idx [B, T, K]:
 * L_b = Σ_i f_i·P_i, f_i = E/(K·T)·#{t: i chosen}, P_i = mean_t s_it/Σ_j s_jt. Gradient through P.
 */
export function moeAuxLoss(scores: Tensor, idx: Tensor): Tensor {
  requireF32('moeAuxLoss', scores);
  if (
    scores.shape.length !== 3 ||
    idx.shape.length !== 3 ||
    idx.shape[0] !== scores.shape[0] ||
    idx.shape[1] !== scores.shape[1]
  ) {
    fail(
      'moeAuxLoss',
      `scores ${shapeStr(scores.shape)} and idx ${shapeStr(idx.shape)} must be [B, T, E] and [B, T, K]`,
    );
  }
  const be = scores.backend;
  const y = be.moeAuxLoss(scores, idx);
  if (needsGrad(scores)) Tape.record(y, [scores], (dy) => [be.moeAuxLossBackward(scores, idx, dy)]);
  return y;
}

// ---------------------------------------------------------------- GRPO (spec §5)

/**
 * GRPO's weighted token objective (Backend.grpoLoss): lp, old, ref, adv, w all [N] f32 →
 * loss [1] = −Σ w·(min(r·A, clip(r)·A) − β·k3) and stats [3] = [#clipped, Σ k3, #tokens] over
 * tokens with w > 0. Gradient flows to lp only (old, ref, adv, w are constants of the step);
 * stats carry none.
 */
export function grpoLoss(
  lp: Tensor,
  old: Tensor,
  ref: Tensor,
  adv: Tensor,
  w: Tensor,
  hp: import('./backend').GrpoHyper,
): { loss: Tensor; stats: Tensor } {
  const named: Array<[string, Tensor]> = [
    ['lp', lp],
    ['old', old],
    ['ref', ref],
    ['adv', adv],
    ['w', w],
  ];
  for (const [, t] of named) requireF32('grpoLoss', t);
  if (lp.shape.length !== 1) fail('grpoLoss', `lp must be [N], got ${shapeStr(lp.shape)}`);
  for (const [name, t] of named) {
    if (!sameShape(t.shape, lp.shape))
      fail('grpoLoss', `${name} is ${shapeStr(t.shape)}, expected ${shapeStr(lp.shape)} like lp`);
  }
  for (const k of ['epsLow', 'epsHigh', 'beta'] as const) {
    if (!Number.isFinite(hp[k]) || hp[k] < 0) fail('grpoLoss', `${k} must be a finite number ≥ 0, got ${hp[k]}`);
  }
  const be = lp.backend;
  const { loss, stats } = be.grpoLoss(lp, old, ref, adv, w, hp);
  if (needsGrad(lp)) Tape.record(loss, [lp], (dLoss) => [be.grpoLossBackward(lp, old, ref, adv, w, hp, dLoss)]);
  return { loss, stats };
}
