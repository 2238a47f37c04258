// Token streams → training batches. The corpus is split once: the first (1 − val_fraction)
// of the tokens train, the rest validate. A batch is `batch` windows of seq+1 tokens at
// seeded random offsets: inputs are the first seq tokens, targets the next seq.

import { Rng } from '../../engine/rng';

export interface Batch {
  inputs: Int32Array; // [batch * seq]
  targets: Int32Array; // [batch * seq]
  batch: number;
  seq: number;
}

export class BatchSampler {
  private readonly rng: Rng;

  constructor(
    private readonly tokens: Int32Array,
    private readonly batch: number,
    private readonly seq: number,
    seed: number,
  ) {
    if (tokens.length < seq + 1)
      throw new Error(`data: ${tokens.length} tokens cannot fill one sequence of ${seq + 1}`);
    this.rng = new Rng(seed);
  }

  get state(): number[] {
    return this.rng.getState();
  }

  set state(st: number[]) {
    this.rng.setState(st);
  }

  next(): Batch {
    const { batch, seq, tokens } = this;
    const inputs = new Int32Array(batch * seq);
    const targets = new Int32Array(batch * seq);
    for (let b = 0; b < batch; b++) {
      const off = this.rng.int(0, tokens.length - seq - 1);
      inputs.set(tokens.subarray(off, off + seq), b * seq);
      targets.set(tokens.subarray(off + 1, off + seq + 1), b * seq);
    }
    return { inputs, targets, batch, seq };
  }
}

export function splitTokens(tokens: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  const cut = Math.floor(tokens.length * (1 - valFraction));
  return { train: tokens.subarray(0, cut), val: tokens.subarray(cut) };
}
