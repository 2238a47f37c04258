// The V3 accumulation-precision experiment (spec §3 "Promotion"): how much error does a
// tensor core's limited accumulator (≈14 mantissa bits) add to an FP8 GEMM as K grows, and how
// much of it does promoting partial sums to f32 every N_C = 128 elements take away?
//
// For each K: random A [M, K] and B [N, K] are quantized (E4M3, A in 1×B tiles, B in B×B
// blocks), then multiplied three ways by Backend.blockScaledMatmul:
//   f32       — DeepSeek's fp8_gemm: f32 block partials, scaled and accumulated in f32;
//   limited   — every product added into an accumulator rounded to `mantissaBits` bits, never promoted;
//   promoted  — the same accumulator, added into f32 and cleared every `promoteEvery` elements;
// the last two both with round-to-nearest-even (the AccumSpec default) and with truncation toward
// zero (AccumRounding). RNE errors are unbiased and add up like a random walk
// (≈ √K); truncation loses up to an ulp on every add, always in the same direction, so its
// error grows ≈ K — the magnitude V3 reports for FP8 tensor cores (≈ 2 % at K = 4096).
// The reference C_f64 is the exact product of the DEQUANTIZED inputs (decoded codes × scales,
// summed in float64 from the codes and scales read back), so quantization error is excluded:
// what is measured is accumulation error alone, relErr = ‖C − C_f64‖_F / ‖C_f64‖_F.
//
// Inputs: 'uniform' (default) draws from U[0, 1): every product is positive, the running sum
// grows linearly with K, and each product added to it is ever smaller relative to the sum, so the
// limited accumulator's rounding (and eventually swamping: products below half an ulp of the sum
// vanish) shows as a systematic loss that grows with K — the regime V3 describes. 'normal'
// (N(0, 1)) gives sums that random-walk around zero, whose rounding errors mostly cancel: the
// same effect, much smaller.

import type { AccumRounding, Backend, QTensor, QuantSpec } from '../engine/backend';
import { Rng } from '../engine/rng';
import { lowpDecode } from './codec';

export interface AccumExperimentOptions {
  M?: number;
  N?: number;
  /** Input distribution: 'uniform' U[0,1) (default) or 'normal' N(0,1). */
  dist?: 'uniform' | 'normal';
  seed?: number;
  /** Accumulator mantissa bits of the emulated tensor core (default 14). */
  mantissaBits?: number;
  /** Promotion interval N_C in K elements (default 128). */
  promoteEvery?: number;
  /** Quantization (default E4M3, block 128, f32 scales). */
  spec?: QuantSpec;
}

export interface AccumRow {
  K: number;
  /** Relative Frobenius errors against the exact product of the dequantized inputs. */
  f32: number;
  /** Limited accumulator, round to nearest even: never promoted / promoted every promoteEvery. */
  limited: number;
  promoted: number;
  /** The same with truncation toward zero. */
  limitedTrunc: number;
  promotedTrunc: number;
}

/** Σ_k decode(a)·decode(b)·sA·sB in float64, from a QTensor pair's host arrays. */
function exactProduct(
  a: { q: QTensor; codes: Int32Array; scales: Float64Array },
  b: { q: QTensor; codes: Int32Array; scales: Float64Array },
): Float64Array {
  const blk = a.q.spec.block;
  const M = a.q.rows;
  const N = b.q.rows;
  const K = a.q.cols;
  const nkb = Math.ceil(K / blk);
  const W = (nkb * blk) / 4;
  const values = (x: typeof a): Float64Array => {
    const table = Float64Array.from({ length: 256 }, (_, c) => lowpDecode(c, x.q.spec.format));
    const rows = x.q.rows;
    const out = new Float64Array(rows * K);
    const tileRow = (r: number) => (x.q.tiling === 'blocks' ? Math.floor(r / blk) : r);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < K; k++) {
        const code = (x.codes[r * W + (k >> 2)] >>> ((k & 3) * 8)) & 0xff;
        out[r * K + k] = table[code] * x.scales[tileRow(r) * nkb + Math.floor(k / blk)];
      }
    }
    return out;
  };
  const A = values(a);
  const B = values(b);
  const C = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[m * K + k] * B[n * K + k];
      C[m * N + n] = s;
    }
  }
  return C;
}

function relFrob(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (x[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Rows of the experiment, one per K (see the header). Runs on whichever backend is given. */
export async function accumExperiment(
  be: Backend,
  Ks: readonly number[],
  opts: AccumExperimentOptions = {},
): Promise<AccumRow[]> {
  const M = opts.M ?? 64;
  const N = opts.N ?? 64;
  const mantissaBits = opts.mantissaBits ?? 14;
  const promoteEvery = opts.promoteEvery ?? 128;
  const spec = opts.spec ?? { format: 'e4m3', block: 128, scale: 'f32' };
  const draw = (rng: Rng, n: number) => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.fround(opts.dist === 'normal' ? rng.normal() : rng.next());
    return x;
  };
  const rows: AccumRow[] = [];
  for (const K of Ks) {
    // One stream per K, so a single K reproduces its row of a longer run (the CPU cross-check).
    const rng = new Rng((opts.seed ?? 1) * 100003 + K);
    const at = be.fromArray(draw(rng, M * K), [M, K]);
    const bt = be.fromArray(draw(rng, N * K), [N, K]);
    const qa = be.quantizeRows(at, spec);
    const qb = be.quantizeBlocks(bt, spec);
    const host = async (q: QTensor) => ({
      q,
      codes: (await q.codes.read()) as Int32Array,
      scales: (await q.scales.read()) as Float64Array,
    });
    const exact = exactProduct(await host(qa), await host(qb));
    const run = async (mbits: number, promote: number, rounding: AccumRounding = 'rne') => {
      const c = be.blockScaledMatmul(qa, qb, { mantissaBits: mbits, promoteEvery: promote, rounding });
      const out = await c.read();
      c.dispose();
      return relFrob(out, exact);
    };
    rows.push({
      K,
      f32: await run(0, 0),
      limited: await run(mantissaBits, 0),
      promoted: await run(mantissaBits, promoteEvery),
      limitedTrunc: await run(mantissaBits, 0, 'trunc'),
      promotedTrunc: await run(mantissaBits, promoteEvery, 'trunc'),
    });
    for (const t of [at, bt, qa.codes, qa.scales, qb.codes, qb.scales]) t.dispose();
  }
  return rows;
}

/** The rows as a fixed-width text table; `labels` replace the K column's text (e.g. "1024 cpu"). */
export function formatAccumTable(
  rows: readonly AccumRow[],
  opts: { mantissaBits?: number; promoteEvery?: number; labels?: string[] } = {},
): string {
  const m = opts.mantissaBits ?? 14;
  const P = opts.promoteEvery ?? 128;
  const head = ['K', 'f32 accum', `${m}b RNE`, `${m}b RNE +promote/${P}`, `${m}b trunc`, `${m}b trunc +promote/${P}`];
  const e = (x: number) => x.toExponential(2);
  const lines = rows.map((r, i) => [
    opts.labels?.[i] ?? String(r.K),
    e(r.f32),
    e(r.limited),
    e(r.promoted),
    e(r.limitedTrunc),
    e(r.promotedTrunc),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(w[i])).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}
