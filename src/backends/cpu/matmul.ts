// Matmul, the float64 reference: C[...b, M, N] = op(A)[...b, M, K] · op(B)[...b, K, N].
// op(A) = A, or Aᵀ of A's last two dims with transA (A stored [...b, K, M]); likewise op(B)
// with transB (B stored [...b, N, K]). B of rank 2 is shared by every batch of A.

import type { Backend, MatmulOpts, MatmulProduct, SwigluLinearGrads } from '../../engine/backend';
import { shapeStr, type Shape, type Tensor } from '../../engine/tensor';
import type { CpuBackend, CpuFamily } from './backend';

export interface MatmulDims {
  /** Product of A's batch dims (1 for rank 2). */
  batch: number;
  M: number;
  K: number;
  N: number;
  /** False when B is rank 2 and broadcast over A's batch. */
  bBatched: boolean;
  /** Output shape [...batchA, M, N]. */
  outShape: Shape;
}

/**
 * Validate matmul operands and derive the problem size. Shared by both backends (and the
 * checks), so the two agree on what a valid call is. Throws an Error naming the shapes.
 */
export function matmulDims(aShape: Shape, bShape: Shape, opts: MatmulOpts): MatmulDims {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const what = () =>
    `matmul: A ${shapeStr(aShape)}${transA ? ' (transA)' : ''}, B ${shapeStr(bShape)}${transB ? ' (transB)' : ''}`;
  if (aShape.length < 2 || bShape.length < 2) throw new Error(`${what()}: both inputs need rank >= 2`);
  const ra = aShape.length;
  const rb = bShape.length;
  const M = transA ? aShape[ra - 1] : aShape[ra - 2];
  const K = transA ? aShape[ra - 2] : aShape[ra - 1];
  const Kb = transB ? bShape[rb - 1] : bShape[rb - 2];
  const N = transB ? bShape[rb - 2] : bShape[rb - 1];
  if (K !== Kb) throw new Error(`${what()}: inner dims differ (op(A) is ${M}x${K}, op(B) is ${Kb}x${N})`);
  const batchDims = aShape.slice(0, ra - 2);
  const bBatched = rb > 2;
  if (bBatched) {
    const bb = bShape.slice(0, rb - 2);
    if (bb.length !== batchDims.length || bb.some((d, i) => d !== batchDims[i])) {
      throw new Error(
        `${what()}: batch dims differ (A ${shapeStr(batchDims)}, B ${shapeStr(bb)}); B must have A's batch dims or none`,
      );
    }
  }
  let batch = 1;
  for (const d of batchDims) batch *= d;
  return { batch, M, K, N, bBatched, outShape: [...batchDims, M, N] };
}

export function matmul(be: CpuBackend, a: Tensor, b: Tensor, opts: MatmulOpts): Tensor {
  const { batch, M, K, N, bBatched, outShape } = matmulDims(a.shape, b.shape, opts);
  if (a.dtype !== 'f32' || b.dtype !== 'f32')
    throw new Error(`matmul: f32 inputs expected, got ${a.dtype} and ${b.dtype}`);
  const A = be.data(a);
  const B = be.data(b);
  const C = new Float64Array(batch * M * N);
  // Strides of op(A) and op(B) within one batch's matrix: op(A)[m, k] = A[m·sAm + k·sAk], etc.
  const [sAm, sAk] = opts.transA ? [1, M] : [K, 1];
  const [sBk, sBn] = opts.transB ? [1, K] : [N, 1];
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * M * K;
    const bOff = bBatched ? bi * K * N : 0;
    const cOff = bi * M * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[aOff + m * sAm + k * sAk] * B[bOff + k * sBk + n * sBn];
        C[cOff + m * N + n] = s;
      }
    }
  }
  return be.make(outShape, C);
}

/** Each product, then its add (float64: the reference for the GPU's fused pairs). */
export function matmuls(be: CpuBackend, products: MatmulProduct[]): Tensor[] {
  return products.map(({ a, b, opts, acc }) => {
    const c = matmul(be, a, b, opts);
    if (!acc) return c;
    const sum = be.add(acc, c);
    c.dispose();
    return sum;
  });
}

/**
 * Backend.swigluLinear from a backend's own ops: swiglu(g, u), then [base +] h·wᵀ (the float64
 * reference here; the WebGPU backend's path for products its fused GEMM does not take).
 */
export function swigluLinearComposed(be: Backend, g: Tensor, u: Tensor, w: Tensor, base: Tensor | null): Tensor {
  const h = be.swiglu(g, u);
  const y = base
    ? be.matmuls([{ a: h, b: w, opts: { transB: true }, acc: base }])[0]
    : be.matmul(h, w, { transB: true });
  h.dispose();
  return y;
}

function swigluLinear(be: CpuBackend, g: Tensor, u: Tensor, w: Tensor, base: Tensor | null): Tensor {
  return swigluLinearComposed(be, g, u, w, base);
}

/** Backend.swigluLinearBackward: dh = dy·w, swigluBackward, and dW = [accW +] dyᵀ·swiglu(g, u). */
function swigluLinearBackward(
  be: CpuBackend,
  g: Tensor,
  u: Tensor,
  w: Tensor,
  dy: Tensor,
  accW: Tensor | null,
  needW: boolean,
): SwigluLinearGrads {
  const dh = matmul(be, dy, w, {});
  const { dg, du } = be.swigluBackward(g, u, dh);
  dh.dispose();
  let dw: Tensor | null = null;
  if (needW) {
    const h = be.swiglu(g, u);
    dw = matmuls(be, [{ a: dy, b: h, opts: { transA: true }, acc: accW }])[0];
    h.dispose();
  }
  return { dg, du, dw };
}

export const ops = { matmul, matmuls, swigluLinear, swigluLinearBackward } satisfies CpuFamily;

/**
 * x rounded to the nearest IEEE binary16 value (ties to even; subnormals below 2⁻¹⁴, ±∞ from
 * 65520 up, as an f32 → f16 conversion rounds to nearest).
 */
export function roundF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Number.POSITIVE_INFINITY;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const q = 2 ** (Math.max(e, -14) - 10); // spacing of f16 values around a
  const r = a / q; // exact: q is a power of two
  let n = Math.floor(r);
  const frac = r - n;
  if (frac > 0.5 || (frac === 0.5 && n % 2 === 1)) n += 1;
  return Math.sign(x) * n * q;
}

/**
 * op(A)·op(B) on host arrays (A, B laid out as matmul's operands), with each operand element
 * passed through `input` and the running sum through `acc` after every addition: the identity
 * for both is the float64 reference; roundF16 inputs with Math.fround sums model the f16-tile
 * path (f32 accumulation); roundF16 for both models f16 accumulation. Used by the f16 checks.
 */
export function matmulModel(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  aShape: Shape,
  bShape: Shape,
  opts: MatmulOpts,
  input: (x: number) => number,
  acc: (x: number) => number,
): Float64Array {
  const { batch, M, K, N, bBatched } = matmulDims(aShape, bShape, opts);
  const [sAm, sAk] = opts.transA ? [1, M] : [K, 1];
  const [sBk, sBn] = opts.transB ? [1, K] : [N, 1];
  const Ar = Float64Array.from(A, input);
  const Br = Float64Array.from(B, input);
  const C = new Float64Array(batch * M * N);
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * M * K;
    const bOff = bBatched ? bi * K * N : 0;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s = acc(s + Ar[aOff + m * sAm + k * sAk] * Br[bOff + k * sBk + n * sBn]);
        C[bi * M * N + m * N + n] = s;
      }
    }
  }
  return C;
}
