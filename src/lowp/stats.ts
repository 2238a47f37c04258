// What block-scaled quantization does to a model's weights, layer by layer (the lab's precision
// panel): DeepGEMM's calc_diff between each weight and its dequantized copy, the share of codes
// at the format's largest magnitude (saturated), the weight's amax, and a histogram of
// log2(scale) over its tiles. Computed for the linear layers inside the blocks — the ones that
// run in low precision — with the run's precision settings.

import type { Backend, QuantSpec } from '../engine/backend';
import { Scope } from '../engine/scope';
import type { Tensor } from '../engine/tensor';
import { lowpDecode, lowpFmax } from './codec';

export interface QuantLayerStats {
  name: string;
  /** 1 − 2Σxy / Σ(x² + y²) between the weight and its dequantized copy (DeepGEMM's metric). */
  calcDiff: number;
  /** Share of the weight's elements whose code sits at ±fmax. */
  saturated: number;
  amax: number;
  /** floor(log2 scale) → number of tiles. */
  scaleLog2: Record<number, number>;
}

export function calcDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let xy = 0;
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i] * y[i];
    sq += x[i] * x[i] + y[i] * y[i];
  }
  return sq === 0 ? 0 : 1 - (2 * xy) / sq;
}

export async function quantStats(
  be: Backend,
  weights: Array<[string, Tensor]>,
  spec: QuantSpec,
  tiling: 'blocks' | 'rows',
): Promise<QuantLayerStats[]> {
  const fmax = lowpFmax(spec.format);
  const out: QuantLayerStats[] = [];
  for (const [name, w] of weights) {
    const scope = new Scope();
    try {
      const [rows, cols] = w.shape;
      const q = tiling === 'blocks' ? be.quantizeBlocks(w, spec) : be.quantizeRows(w, spec);
      const deq = await be.dequantize(q).read();
      const orig = await w.read();
      const codes = (await q.codes.read()) as Int32Array;
      const scales = await q.scales.read();
      const wordsPerRow = codes.length / rows;
      let sat = 0;
      let amax = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const code = (codes[r * wordsPerRow + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
          if (Math.abs(lowpDecode(code, spec.format)) === fmax) sat++;
          amax = Math.max(amax, Math.abs(orig[r * cols + c]));
        }
      }
      const hist: Record<number, number> = {};
      for (const s of scales) {
        const k = Math.floor(Math.log2(s));
        hist[k] = (hist[k] ?? 0) + 1;
      }
      out.push({ name, calcDiff: calcDiff(orig, deq), saturated: sat / (rows * cols), amax, scaleLog2: hist });
    } finally {
      scope.end();
    }
  }
  return out;
}
