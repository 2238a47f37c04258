// Op check for matmul: random transposes, and B batched, broadcast (rank 2 under a batched A)
// or both plain rank-2 matrices, over the three shape regimes.
//
// Backward, written with matmul alone (Ā = op(A), B̄ = op(B), C = Ā·B̄):
//   dĀ = dC·B̄ᵀ,  dB̄ = Āᵀ·dC  (summed over the batch when B is broadcast),
// then dA = dĀ (or dĀᵀ with transA) and dB = dB̄ (or dB̄ᵀ with transB). See matmulBackward.

import { matmulModel, roundF16 } from '../backends/cpu/matmul';
import { withKernelPaths } from '../backends/webgpu/device';
import type { Backend, MatmulOpts } from '../engine/backend';
import type { Rng } from '../engine/rng';
import { shapeStr, type Shape, type Tensor } from '../engine/tensor';
import { relErr } from './harness';
import type { CheckCase, HostInput, OpCheck } from './types';

/**
 * Gradients of C = op(A)·op(B) for upstream dC, using only Backend.matmul (plus view for
 * reshapes and fromArray for identity matrices). The batched and plain cases are one matmul each:
 *   dA = transA ? B̄·dCᵀ : dC·B̄ᵀ        dB = transB ? dCᵀ·Ā : Āᵀ·dC
 * A broadcast B (rank 2 under a batched A) needs its gradient summed over the batch:
 *   - without transA, Ā's rows for all batches stack into one [batch·M, K] matrix (a view), so
 *     Σ_b Ā[b]ᵀ·dC[b] is a single 2-D matmul of the stacked A and stacked dC;
 *   - with transA, A[b] is Ā[b]ᵀ, so Ā is first made explicit as Aᵀ·I (a product with an
 *     identity is an exact transpose), then stacked as above.
 * With transA, dA[b] = B̄·dC[b]ᵀ has an unbatched left operand, which matmul does not take; it
 * is computed as (dC[b]·B̄ᵀ)ᵀ, transposed the same exact way.
 */
export function matmulBackward(
  be: Backend,
  a: Tensor,
  b: Tensor,
  dC: Tensor,
  opts: MatmulOpts,
): { dA: Tensor; dB: Tensor } {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const ra = a.shape.length;
  const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = dC.shape[dC.shape.length - 1];
  const batch = a.shape.slice(0, ra - 2).reduce((x, y) => x * y, 1);
  const broadcast = b.shape.length === 2 && ra > 2;

  let dA: Tensor;
  if (!transA) {
    dA = be.matmul(dC, b, { transB: !transB }); // dC · B̄ᵀ
  } else if (!broadcast) {
    dA = be.matmul(b, dC, { transA: transB, transB: true }); // B̄ · dCᵀ
  } else {
    const dAbar = be.matmul(dC, b, { transB: !transB }); // [..., M, K]
    const eye = be.fromArray(identity(M), [M, M]);
    dA = be.matmul(dAbar, eye, { transA: true }); // dĀᵀ · I = dĀᵀ, [..., K, M]
    dAbar.dispose();
    eye.dispose();
  }

  let dB: Tensor;
  if (!broadcast) {
    dB = transB
      ? be.matmul(dC, a, { transA: true, transB: transA }) // dCᵀ · Ā
      : be.matmul(a, dC, { transA: !transA }); // Āᵀ · dC
  } else if (!transA) {
    const a2 = be.view(a, [batch * M, K]);
    const dC2 = be.view(dC, [batch * M, N]);
    dB = transB ? be.matmul(dC2, a2, { transA: true }) : be.matmul(a2, dC2, { transA: true });
  } else {
    // Make Ā explicit ([..., M, K], an exact transpose via the identity), then as above.
    const eye = be.fromArray(identity(K), [K, K]);
    const abar = be.matmul(a, eye, { transA: true }); // Aᵀ · I
    const a2 = be.view(abar, [batch * M, K]);
    const dC2 = be.view(dC, [batch * M, N]);
    dB = transB ? be.matmul(dC2, a2, { transA: true }) : be.matmul(a2, dC2, { transA: true });
    abar.dispose();
    eye.dispose();
  }
  return { dA, dB };
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

type Mode = 'plain' | 'batched' | 'broadcast';

/** [M, K, N] for a regime: 0 tiny (1..3), 1 odd non-multiples of the tiles, 2 larger (≤ ~300, or long K). */
function dims(rng: Rng, regime: number, batch: number): [number, number, number] {
  if (regime === 0) return [rng.int(1, 3), rng.int(1, 3), rng.int(1, 3)];
  if (regime === 1) {
    const odd = [1, 5, 7, 13, 17, 33, 63, 65, 67, 97, 130];
    return [rng.pick(odd), rng.pick(odd), rng.pick(odd)];
  }
  // Larger: each dim 64..300, shrunk (a random dim at a time) until the CPU work fits the
  // finite-difference budget (~32 CPU forwards per case). One case in three is instead a long-K
  // product with a small output (K 1024..2600), the shape that takes the GPU's split-K path.
  const longK = rng.next() < 1 / 3;
  const d: [number, number, number] = longK
    ? [rng.int(8, 48), rng.int(1024, 2600), rng.int(8, 48)]
    : [rng.int(64, 300), rng.int(64, 300), rng.int(64, 300)];
  while (d[0] * d[1] * d[2] * batch > 3e6) {
    const i = longK ? rng.pick([0, 2]) : rng.int(0, 2);
    d[i] = Math.max(longK ? 4 : 40, Math.floor((d[i] * 2) / 3));
  }
  return d;
}

/** A case of the matmul check with its transposes (the f16 check reuses the shapes). */
function matmulCase(rng: Rng, index: number): CheckCase & { opts: MatmulOpts } {
  const regime = index % 3;
  const mode: Mode = rng.pick(['plain', 'batched', 'broadcast'] as const);
  const transA = rng.next() < 0.5;
  const transB = rng.next() < 0.5;
  const batchDims: number[] =
    mode === 'plain'
      ? []
      : regime === 2
        ? [rng.int(1, 2)]
        : rng.next() < 0.5
          ? [rng.int(1, 3)]
          : [rng.int(1, 2), rng.int(1, 3)];
  const batch = batchDims.reduce((x, y) => x * y, 1);
  const [M, K, N] = dims(rng, regime, batch);
  const aShape: Shape = [...batchDims, ...(transA ? [K, M] : [M, K])];
  const bShape: Shape = [...(mode === 'batched' ? batchDims : []), ...(transB ? [N, K] : [K, N])];
  const size = (s: Shape) => s.reduce((x, y) => x * y, 1);
  const opts: MatmulOpts = { transA, transB };
  return {
    opts,
    desc: `${mode} A${shapeStr(aShape)}${transA ? 'ᵀ' : ''} B${shapeStr(bShape)}${transB ? 'ᵀ' : ''} M=${M} K=${K} N=${N}`,
    inputs: [
      { name: 'a', shape: aShape, dtype: 'f32', data: rng.normalArray(size(aShape)), grad: true },
      { name: 'b', shape: bShape, dtype: 'f32', data: rng.normalArray(size(bShape)), grad: true },
    ],
    nDiff: 1,
    forward: (be, [a, b]) => [be.matmul(a, b, opts)],
    backward: (be, [a, b], [dC]) => {
      const { dA, dB } = matmulBackward(be, a, b, dC, opts);
      return [dA, dB];
    },
  };
}

export const matmulCheck: OpCheck = {
  name: 'matmul',
  about: 'C = op(A)·op(B), random transA/transB, B batched / broadcast / plain 2-D; dA, dB via matmul',
  // Entries of C are sums of K products of N(0,1) inputs. f32 rounding of the inputs (2⁻²⁴
  // relative) and of each of the K sequential accumulations gives an error ≈ 2⁻²⁴·√K·|c|-ish
  // per entry; measured max 7.2e-7 over 90 cases (K ≤ 2600). 1e-5 leaves room for K ~ 10⁵.
  tolForward: 1e-5,
  // The backward is the same kernel on the same kind of sums (dC is N(0,1) too): same bound.
  tolBackward: 1e-5,
  makeCase: matmulCase,
};

const same = (x: number) => x;

/**
 * The forward error bound of the f16-tile path for one product, derived from the f16 rounding
 * of its inputs: ρ = the normwise error of the float64 product of the inputs rounded to f16
 * (nearest, ties to even) against the exact product — the error the path must make, since its
 * products are exact and its sums f32 — times 3, plus the f32 check's 1e-5 for the f32 sums.
 * The 3: WGSL lets an f32 → f16 conversion take either neighbouring value, so a GPU that rounds
 * toward zero errs by up to one ulp instead of half (each input error's second moment 4×, about
 * 2× on the random-walk sum). Tight enough to catch f16 accumulation: at M = 7, K = 4099, N = 33
 * its error is 1.4e-2 = 48 ρ against a bound of 9.0e-4, while f32 sums err by ρ = 3.0e-4
 * (src/backends/matmul-f16.test.ts models both on the CPU).
 */
export function f16Bound(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aShape: Shape,
  bShape: Shape,
  opts: MatmulOpts,
): { rho: number; tol: number } {
  const exact = matmulModel(a, b, aShape, bShape, opts, same, same);
  const rounded = matmulModel(a, b, aShape, bShape, opts, roundF16, same);
  const rho = relErr(rounded, exact);
  return { rho, tol: 3 * rho + 1e-5 };
}

/**
 * The matmul on its f16-tile path (device.ts KernelPaths matmul: 'f16'; where the device lacks
 * shader-f16 it runs the f32 path, which meets the bound too), against the float64 reference of
 * the unrounded inputs. The matmul check's shapes, transposes and batch modes, and a fourth
 * regime with K = 4099. Forward only: the backward is three more products on the same kernel,
 * and its formula is checked by finite differences in the matmul check.
 */
export const matmulF16Check: OpCheck = {
  name: 'matmulF16',
  about:
    'C = op(A)·op(B) with f16 tiles and f32 accumulation, vs float64; per-case bound from f16 rounding of the inputs',
  // Each case carries its own bound (f16Bound), which the harness takes when it is tighter.
  tolForward: 1,
  tolBackward: 0, // no backward
  cases: 4,
  makeCase(rng: Rng, index: number): CheckCase {
    let c: CheckCase & { opts: MatmulOpts };
    if (index % 4 === 3) {
      const [M, K, N] = [rng.pick([1, 7, 33]), 4099, rng.pick([5, 33, 130])];
      const opts: MatmulOpts = { transA: rng.next() < 0.5, transB: rng.next() < 0.5 };
      const aShape: Shape = opts.transA ? [K, M] : [M, K];
      const bShape: Shape = opts.transB ? [N, K] : [K, N];
      c = {
        opts,
        desc: `long-K A${shapeStr(aShape)}${opts.transA ? 'ᵀ' : ''} B${shapeStr(bShape)}${opts.transB ? 'ᵀ' : ''} M=${M} K=${K} N=${N}`,
        inputs: [
          { name: 'a', shape: aShape, dtype: 'f32', data: rng.normalArray(M * K), grad: false },
          { name: 'b', shape: bShape, dtype: 'f32', data: rng.normalArray(K * N), grad: false },
        ],
        nDiff: 1,
        forward: (be, [a, b]) => [be.matmul(a, b, opts)],
      };
    } else {
      c = matmulCase(rng, index % 3);
    }
    const [a, b] = c.inputs;
    const { rho, tol } = f16Bound(a.data, b.data, a.shape, b.shape, c.opts);
    const forward = c.forward;
    return {
      desc: `${c.desc} ρ=${rho.toExponential(1)}`,
      inputs: c.inputs.map((h) => ({ ...h, grad: false })),
      nDiff: 1,
      forward: (be, xs) => withKernelPaths(be, { matmul: 'f16' }, () => forward(be, xs)),
      tolForward: tol,
    };
  },
};

/**
 * Two independent 2-D products in one call (Backend.matmuls: the backward's dX and dW in one
 * dispatch on the GPU), each with random transposes and odd shapes, and each added to an earlier
 * result half the time. Backward per product: matmulBackward, and dAcc = dC.
 */
export const matmulsCheck: OpCheck = {
  name: 'matmuls',
  about: '[acc +] op(A)·op(B) for two independent products at once, random transposes and acc',
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng: Rng, index: number): CheckCase {
    const regime = index % 3;
    const products = [0, 1].map(() => {
      const [M, K, N] = dims(rng, regime, 1);
      const opts: MatmulOpts = { transA: rng.next() < 0.5, transB: rng.next() < 0.5 };
      return { M, K, N, opts, acc: rng.next() < 0.5 };
    });
    const inputs: HostInput[] = [];
    for (const [i, q] of products.entries()) {
      const aShape: Shape = q.opts.transA ? [q.K, q.M] : [q.M, q.K];
      const bShape: Shape = q.opts.transB ? [q.N, q.K] : [q.K, q.N];
      inputs.push({ name: `a${i + 1}`, shape: aShape, dtype: 'f32', data: rng.normalArray(q.M * q.K), grad: true });
      inputs.push({ name: `b${i + 1}`, shape: bShape, dtype: 'f32', data: rng.normalArray(q.K * q.N), grad: true });
      if (q.acc)
        inputs.push({
          name: `acc${i + 1}`,
          shape: [q.M, q.N],
          dtype: 'f32',
          data: rng.normalArray(q.M * q.N),
          grad: true,
        });
    }
    // Where each product's tensors sit in the inputs.
    const at = [0, products[0].acc ? 3 : 2];
    const desc = products
      .map(
        (q) =>
          `M=${q.M} K=${q.K} N=${q.N}${q.opts.transA ? ' transA' : ''}${q.opts.transB ? ' transB' : ''}${q.acc ? ' +acc' : ''}`,
      )
      .join(' | ');
    return {
      desc,
      inputs,
      nDiff: 2,
      forward: (be, xs) =>
        be.matmuls(
          products.map((q, i) => ({ a: xs[at[i]], b: xs[at[i] + 1], opts: q.opts, acc: q.acc ? xs[at[i] + 2] : null })),
        ),
      backward: (be, xs, dys) => {
        const grads: Array<Tensor | null> = [];
        products.forEach((q, i) => {
          const { dA, dB } = matmulBackward(be, xs[at[i]], xs[at[i] + 1], dys[i], q.opts);
          grads.push(dA, dB);
          if (q.acc) grads.push(be.scale(dys[i], 1)); // dAcc = dC (a fresh tensor)
        });
        return grads;
      },
    };
  },
};

/**
 * An FFN's down projection over its SwiGLU gate, [base +] swiglu(g, u)·wᵀ (Backend.swigluLinear:
 * the gate folded into the GEMM on the GPU), with its backward (dg, du, dW; dBase = dy). Shapes
 * as matmul's (rows, F, out for M, K, N); the long-K cases put the length on F (the forward's
 * split-K, which takes the unfused path) or on the rows (dW's split-K). Base half the time.
 */
export const swigluLinearCheck: OpCheck = {
  name: 'swigluLinear',
  about: "[base +] swiglu(g, u)·Wᵀ; dg = dh·u·silu'(g), du = dh·silu(g) for dh = dy·W, dW = dyᵀ·swiglu(g, u)",
  tolForward: 1e-5,
  tolBackward: 1e-5,
  makeCase(rng: Rng, index: number): CheckCase {
    let [rows, F, out] = dims(rng, index % 3, 1);
    if (F >= 1024 && rng.next() < 0.5) [rows, F] = [F, rows];
    const withBase = rng.next() < 0.5;
    const n = rows * F;
    const inputs: HostInput[] = [
      { name: 'g', shape: [rows, F], dtype: 'f32', data: rng.normalArray(n, 3), grad: true },
      { name: 'u', shape: [rows, F], dtype: 'f32', data: rng.normalArray(n), grad: true },
      { name: 'w', shape: [out, F], dtype: 'f32', data: rng.normalArray(out * F, 1 / Math.sqrt(F)), grad: true },
    ];
    if (withBase)
      inputs.push({ name: 'base', shape: [rows, out], dtype: 'f32', data: rng.normalArray(rows * out), grad: true });
    return {
      desc: `rows=${rows} F=${F} out=${out}${withBase ? ' +base' : ''}`,
      inputs,
      nDiff: 1,
      forward: (be, [g, u, w, base]) => [be.swigluLinear(g, u, w, base ?? null)],
      backward: (be, [g, u, w, base], [dy]) => {
        const r = be.swigluLinearBackward(g, u, w, dy, null, true);
        return [r.dg, r.du, r.dw, ...(base ? [be.scale(dy, 1)] : [])];
      },
    };
  },
};

export const matmulChecks: OpCheck[] = [matmulCheck, matmulF16Check, matmulsCheck, swigluLinearCheck];
