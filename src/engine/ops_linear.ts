// Differentiable linear algebra: matmul, the linear layer, and several linears that read one
// input. Re-exported by ops.ts, where model code finds every op.

import type { MatmulOpts, MatmulProduct } from './backend';
import { fail, needsGrad, requireF32 } from './op_base';
import { Tape } from './tape';
import { type Tensor, sameShape, shapeStr } from './tensor';

export function matmul(a: Tensor, b: Tensor, opts: MatmulOpts = {}): Tensor {
  requireF32('matmul', a, b);
  if (a.shape.length < 2 || b.shape.length < 2)
    fail('matmul', `inputs must be rank ≥ 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const ar = a.shape.length;
  const br = b.shape.length;
  const kA = opts.transA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kB = opts.transB ? b.shape[br - 1] : b.shape[br - 2];
  if (kA !== kB)
    fail(
      'matmul',
      `inner dims differ: ${shapeStr(a.shape)}${opts.transA ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${opts.transB ? 'ᵀ' : ''}`,
    );
  if (br > 2 && !sameShape(a.shape.slice(0, ar - 2), b.shape.slice(0, br - 2))) {
    fail('matmul', `batch dims differ: ${shapeStr(a.shape)} · ${shapeStr(b.shape)}`);
  }
  const be = a.backend;
  const c = be.matmul(a, b, opts);
  if (needsGrad(a, b)) {
    const broadcastB = br === 2 && ar > 2;
    if (broadcastB && opts.transA) fail('matmul', 'gradients through a broadcast B with transA are not supported');
    // One GEMM dispatch for both gradients where the backend can (Backend.matmuls), each added
    // to its input's gradient gathered so far (the add the tape would do next, in its kernel).
    // x·x would fold the same gradient twice: then only A's is folded.
    Tape.recordAccumulating([c], [a, b], [true, a !== b], (dys, prev) => {
      const dc = dys[0] as Tensor; // the one output: not null (the tape skips a node with no gradient)
      const { transA = false, transB = false } = opts;
      const products: MatmulProduct[] = [];
      if (a.requiresGrad) {
        products.push(
          transA
            ? { a: b, b: dc, opts: { transA: transB, transB: true }, acc: prev[0] }
            : { a: dc, b, opts: { transB: !transB }, acc: prev[0] },
        );
      }
      if (b.requiresGrad) {
        // With B broadcast over A's batch, fold the batch into rows so the matmul sums over it.
        const a2 = broadcastB ? be.view(a, [a.size / a.shape[ar - 1], a.shape[ar - 1]]) : a;
        const dc2 = broadcastB
          ? be.view(dc, [dc.size / dc.shape[dc.shape.length - 1], dc.shape[dc.shape.length - 1]])
          : dc;
        products.push(
          transB
            ? { a: dc2, b: a2, opts: { transA: true, transB: transA }, acc: prev[1] }
            : { a: a2, b: dc2, opts: { transA: !transA }, acc: prev[1] },
        );
      }
      const outs = be.matmuls(products);
      const da = a.requiresGrad ? outs[0] : null;
      const db = b.requiresGrad ? outs[outs.length - 1] : null;
      return [da, db];
    });
  }
  return c;
}

/**
 * y = x · Wᵀ with W stored [out, in] as in Hugging Face checkpoints. x [..., in].
 * One tape node for the whole linear (x's rows flattened inside it, no view nodes), so its
 * backward adds dX to the gradient gathered so far for x itself, and dX and dW are one dispatch
 * (Backend.matmuls).
 */
export function linear(x: Tensor, w: Tensor): Tensor {
  return linearNode(x, [w], null)[0];
}

/**
 * base + x · Wᵀ (base [..., out]): the residual-style add folded into the GEMM's store (the
 * add after the k-sum, the same bits as add(base, linear(x, w))); its gradient passes to base.
 */
export function linearAdd(x: Tensor, w: Tensor, base: Tensor): Tensor {
  requireF32('linearAdd', base);
  const outShape = [...x.shape.slice(0, -1), w.shape[0]];
  if (!sameShape(base.shape, outShape))
    fail('linearAdd', `base ${shapeStr(base.shape)} is not the output's shape ${shapeStr(outShape)}`);
  return linearNode(x, [w], base)[0];
}

/**
 * y_i = x · W_iᵀ for several weights read by the same input (MLA's q and kv down-projections,
 * an FFN's gate and up): the products two per dispatch (Backend.matmuls), the same bits as a
 * linear each. The backward walks the weights last to first, as the tape would walk separate
 * linears recorded in this order: dX_i and dW_i in one dispatch, dX_i added to the gradient
 * gathered so far for x (so the chain of adds is the tape's, in its order).
 */
export function linears(x: Tensor, ws: Tensor[]): Tensor[] {
  return linearNode(x, ws, null);
}

/**
 * [base +] swiglu(g, u) · Wᵀ — an FFN's down projection over its SwiGLU gate (g, u [..., F] from
 * the gate and up projections, W [out, F], base [..., out] or null) as one op: the backend folds
 * the gate into the GEMM (Backend.swigluLinear; on the GPU no [rows, F] activation is written,
 * forward or backward). The same bits as linear(swiglu(g, u), W) (or linearAdd), gradients
 * included: the backward runs the ops that pair's would, in the same order.
 */
export function swigluLinear(g: Tensor, u: Tensor, w: Tensor, base: Tensor | null = null): Tensor {
  requireF32('swigluLinear', g, u, w);
  if (!sameShape(g.shape, u.shape)) fail('swigluLinear', `g ${shapeStr(g.shape)} and u ${shapeStr(u.shape)} differ`);
  const F = g.shape[g.shape.length - 1];
  if (w.shape.length !== 2 || w.shape[1] !== F)
    fail('swigluLinear', `weight ${w.name ?? ''}${shapeStr(w.shape)} is not [out, ${F}]`);
  const outShape = [...g.shape.slice(0, -1), w.shape[0]];
  if (base) {
    requireF32('swigluLinear', base);
    if (!sameShape(base.shape, outShape))
      fail('swigluLinear', `base ${shapeStr(base.shape)} is not the output's shape ${shapeStr(outShape)}`);
  }
  const be = g.backend;
  const rows = g.size / Math.max(F, 1);
  const g2 = be.view(g, [rows, F]);
  const u2 = be.view(u, [rows, F]);
  const y2 = be.swigluLinear(g2, u2, w, base && be.view(base, [rows, w.shape[0]]));
  const y = be.view(y2, outShape);
  const bases = base ? [base] : [];
  if (needsGrad(g, u, w, ...bases)) {
    // W's gathered gradient is added in dW's GEMM (as linear's backward does); g's and u's are
    // the tape's to add (as after swiglu's backward); base's gradient is dy.
    Tape.recordAccumulating([y], [g, u, w, ...bases], [false, false, true, ...bases.map(() => false)], (dys, prev) => {
      const dy = dys[0] as Tensor;
      const dy2 = be.view(dy, [rows, w.shape[0]]);
      const r = be.swigluLinearBackward(g2, u2, w, dy2, prev[2], w.requiresGrad);
      const dBase = base ? [be.view(dy, base.shape)] : [];
      return [be.view(r.dg, g.shape), be.view(r.du, u.shape), r.dw, ...dBase];
    });
  }
  return y;
}

/** linears, with base added to the one product when given (linearAdd). */
function linearNode(x: Tensor, ws: Tensor[], base: Tensor | null): Tensor[] {
  requireF32('linear', x, ...ws);
  const inDim = x.shape[x.shape.length - 1];
  for (const w of ws) {
    if (w.shape.length !== 2) fail('linear', `weight must be [out, in], got ${shapeStr(w.shape)}`);
    if (inDim !== w.shape[1])
      fail('linear', `input width ${inDim} ≠ weight in-dim ${w.shape[1]} (weight ${w.name ?? ''}${shapeStr(w.shape)})`);
  }
  const be = x.backend;
  const rows = x.size / inDim;
  const x2 = be.view(x, [rows, inDim]);
  const lead = x.shape.slice(0, -1);
  // One weight, nothing to add: the plain matmul kernel (the same bits as the multi kernel's).
  const acc = base && be.view(base, [rows, ws[0].shape[0]]);
  const flat =
    ws.length === 1 && !acc
      ? [be.matmul(x2, ws[0], { transB: true })]
      : be.matmuls(ws.map((w, i) => ({ a: x2, b: w, opts: { transB: true }, acc: i === 0 ? acc : null })));
  const ys = flat.map((y, i) => be.view(y, [...lead, ws[i].shape[0]]));
  const bases = base ? [base] : [];
  if (needsGrad(x, ...ws, ...bases)) {
    // A weight read twice (or the input as a weight) is folded once; base's gradient is dy.
    const folds = [true, ...ws.map((w, i) => w !== x && ws.indexOf(w) === i), ...bases.map(() => false)];
    Tape.recordAccumulating(ys, [x, ...ws, ...bases], folds, (dys, prev) => {
      let dx = prev[0] && be.view(prev[0], [rows, inDim]);
      const dws: Array<Tensor | null> = ws.map(() => null);
      for (let i = ws.length - 1; i >= 0; i--) {
        const dy = dys[i];
        if (!dy) continue;
        const w = ws[i];
        const dy2 = be.view(dy, [rows, w.shape[0]]);
        // dX_i = dY_i · W_i and dW_i = dY_iᵀ · X: the products matmul's backward forms for x · W_iᵀ.
        const products: MatmulProduct[] = [];
        if (x.requiresGrad) products.push({ a: dy2, b: w, opts: {}, acc: dx });
        if (w.requiresGrad)
          products.push({ a: dy2, b: x2, opts: { transA: true }, acc: folds[1 + i] ? prev[1 + i] : null });
        const outs = be.matmuls(products);
        if (x.requiresGrad) dx = outs[0];
        if (w.requiresGrad) dws[i] = outs[outs.length - 1];
      }
      const dBase = base && dys[0] ? [be.view(dys[0], base.shape)] : bases.map(() => null);
      return [dx && be.view(dx, x.shape), ...dws, ...dBase];
    });
  }
  return ys;
}
