// Op checks for fine-grained quantization (spec §3): quantizeRows (1×B tiles) and quantizeBlocks
// (B×B blocks), each with a random format (e4m3 / e5m2 / e2m1), scale rule (f32 / ue8m0 / mx)
// and block B ∈ {32, 64, 128}. Forward only; outputs [codes (i32 words), scales, dequantized].
//
// Tolerance 0: the inputs are generated exactly f32-representable (Math.fround) and the CPU
// reference rounds to f32 before quantizing, and both sides compute the same integer algorithms
// (amax over f32 magnitude bits, correctly rounded f32 division, integer RNE encode), so the codes
// and scales must be EQUAL bit for bit. The dequantized values decode(code) · scale are one f32
// product on both sides (the CPU rounds it with Math.fround), so they must be equal too.

import { type Backend, type LowFormat, type QuantSpec, type ScaleRule, SLICE_ALIGN } from '../engine/backend';
import type { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { LOW_FORMATS, SCALE_RULES } from '../lowp/codec';
import type { CheckCase, OpCheck } from './types';

const BLOCKS = [32, 64, 128] as const;
const ODD = [1, 7, 33, 130];

function dims(rng: Rng, regime: number): [number, number] {
  if (regime === 0) return [rng.int(1, 3), rng.int(1, 9)];
  if (regime === 1) return [rng.pick(ODD), rng.pick(ODD.slice(1)) + rng.int(0, 1) * 64];
  return [rng.int(100, 300), rng.int(200, 400)];
}

/**
 * Random f32 matrix: Gaussian rows with a random per-row magnitude (2^-20..2^20), plus planted
 * edge values: exact zeros, a few elements far below the rest of their tile (underflow to ±0),
 * and a few huge outliers (under the 'mx' rule these clip at ±max; under 'f32'/'ue8m0' they set the
 * scale). Every value is Math.fround'ed, so CPU and GPU see the same numbers.
 */
export function quantInput(rng: Rng, rows: number, cols: number): Float64Array {
  const x = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const mag = 2 ** rng.int(-20, 20);
    for (let c = 0; c < cols; c++) {
      const u = rng.next();
      let v = rng.normal() * mag;
      if (u < 0.02) v = 0;
      else if (u < 0.05)
        v *= 2 ** -rng.int(10, 30); // underflows in its tile
      else if (u < 0.07) v *= 2 ** rng.int(4, 12); // outlier
      x[r * cols + c] = Math.fround(v);
    }
  }
  return x;
}

function makeQuantCheck(name: 'quantizeRows' | 'quantizeBlocks'): OpCheck {
  return {
    name,
    about:
      name === 'quantizeRows'
        ? 'x [rows, cols] → 1×B tile codes (4 per u32), f32 scales, dequantized; e4m3/e5m2/e2m1 × f32/ue8m0/mx × B 32/64/128; bit-exact'
        : 'w [rows, cols] → B×B block codes (4 per u32), f32 scales, dequantized; e4m3/e5m2/e2m1 × f32/ue8m0/mx × B 32/64/128; bit-exact',
    tolForward: 0, // bit-identical by construction (see the header)
    tolBackward: 0,
    makeCase(rng: Rng, index: number): CheckCase {
      const [rows, cols] = dims(rng, index % 3);
      const spec: QuantSpec = {
        format: rng.pick<LowFormat>(LOW_FORMATS),
        scale: rng.pick<ScaleRule>(SCALE_RULES),
        block: rng.pick(BLOCKS),
      };
      return {
        desc: `rows=${rows} cols=${cols} ${spec.format} ${spec.scale} B=${spec.block}`,
        inputs: [{ name: 'x', shape: [rows, cols], dtype: 'f32', data: quantInput(rng, rows, cols), grad: false }],
        nDiff: 0,
        forward(be: Backend, xs: Tensor[]): Tensor[] {
          const q = name === 'quantizeRows' ? be.quantizeRows(xs[0], spec) : be.quantizeBlocks(xs[0], spec);
          return [q.codes, q.scales, be.dequantize(q)];
        },
      };
    },
  };
}

/**
 * quantizeRowsT (Q_rows(xᵀ) read in place) and quantizeBlocksPair (Q_blocks(w) and Q_blocks(wᵀ)
 * in one pass): outputs [codes, scales, dequantized] of each QTensor; bit-exact like the above
 * (the CPU reference quantizes a transposed copy).
 */
function makeTransposedCheck(name: 'quantizeRowsT' | 'quantizeBlocksPair'): OpCheck {
  return {
    name,
    about:
      name === 'quantizeRowsT'
        ? 'x [rows, cols] → Q_rows(xᵀ) (1×B tiles along rows of x) without a transpose pass; formats × rules × B; bit-exact'
        : 'w [rows, cols] → Q_blocks(w) and Q_blocks(wᵀ) from one pass; formats × rules × B; bit-exact',
    tolForward: 0,
    tolBackward: 0,
    makeCase(rng: Rng, index: number): CheckCase {
      const [rows, cols] = dims(rng, index % 3);
      const spec: QuantSpec = {
        format: rng.pick<LowFormat>(LOW_FORMATS),
        scale: rng.pick<ScaleRule>(SCALE_RULES),
        block: rng.pick(BLOCKS),
      };
      return {
        desc: `rows=${rows} cols=${cols} ${spec.format} ${spec.scale} B=${spec.block}`,
        inputs: [{ name: 'x', shape: [rows, cols], dtype: 'f32', data: quantInput(rng, rows, cols), grad: false }],
        nDiff: 0,
        forward(be: Backend, xs: Tensor[]): Tensor[] {
          const qs = name === 'quantizeRowsT' ? [be.quantizeRowsT(xs[0], spec)] : be.quantizeBlocksPair(xs[0], spec);
          return qs.flatMap((q) => [q.codes, q.scales, be.dequantize(q)]);
        },
      };
    },
  };
}

/**
 * Copies of xs in aligned slices of one flat tensor, as the parameter arena holds the weights
 * (the multi-weight quantizers take one dispatch for those), at least `gap` elements apart.
 */
export function inOneArena(be: Backend, xs: readonly Tensor[], gap = 0): Tensor[] {
  const at = (n: number) => Math.ceil(n / SLICE_ALIGN) * SLICE_ALIGN;
  const offsets: number[] = [];
  let end = at(gap);
  for (const x of xs) {
    offsets.push(end);
    end = at(end + x.size + gap);
  }
  const flat = be.zeros([end]);
  return xs.map((x, k) => {
    const w = be.slice(flat, offsets[k], x.shape);
    be.copyInto(w, x);
    return w;
  });
}

/**
 * quantizeBlocksPairs / quantizeRowsPairs: three weights copied into slices of one flat tensor
 * (as the parameter arena holds them: one dispatch on the GPU), each → its quantization and its
 * transpose's (B×B blocks, or 1×B rows with the transpose read in place); bit-exact.
 */
function makePairsCheck(name: 'quantizeBlocksPairs' | 'quantizeRowsPairs'): OpCheck {
  const what = name === 'quantizeBlocksPairs' ? 'Q_blocks(w) and Q_blocks(wᵀ)' : 'Q_rows(w) and Q_rows(wᵀ)';
  return {
    name,
    about: `three weights in one arena → ${what} of each from one dispatch; formats × rules × B; bit-exact`,
    tolForward: 0,
    tolBackward: 0,
    makeCase(rng: Rng, index: number): CheckCase {
      const shapes = [0, 1, 2].map((k) => dims(rng, (index + k) % 3));
      const spec: QuantSpec = {
        format: rng.pick<LowFormat>(LOW_FORMATS),
        scale: rng.pick<ScaleRule>(SCALE_RULES),
        block: rng.pick(BLOCKS),
      };
      return {
        desc: `${shapes.map(([r, c]) => `${r}×${c}`).join(', ')} ${spec.format} ${spec.scale} B=${spec.block}`,
        inputs: shapes.map(([r, c], k) => ({
          name: `w${k}`,
          shape: [r, c],
          dtype: 'f32' as const,
          data: quantInput(rng, r, c),
          grad: false,
        })),
        nDiff: 0,
        forward(be: Backend, xs: Tensor[]): Tensor[] {
          const ws = inOneArena(be, xs);
          const pairs =
            name === 'quantizeBlocksPairs' ? be.quantizeBlocksPairs(ws, spec) : be.quantizeRowsPairs(ws, spec);
          return pairs.flatMap((pair) => pair.flatMap((q) => [q.codes, q.scales, be.dequantize(q)]));
        },
      };
    },
  };
}

export const fp8Checks: OpCheck[] = [
  makeQuantCheck('quantizeRows'),
  makeQuantCheck('quantizeBlocks'),
  makeTransposedCheck('quantizeRowsT'),
  makeTransposedCheck('quantizeBlocksPair'),
  makePairsCheck('quantizeBlocksPairs'),
  makePairsCheck('quantizeRowsPairs'),
];
