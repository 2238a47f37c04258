// The cold-start SFT stage: batches of worked solutions (or a teacher's verified completions),
// cross-entropy on the completion tokens only, at the constant rate rl.sft_lr.

import * as op from '../engine/ops';
import { Tape } from '../engine/tape';
import { forward } from '../model/model';
import { newTrace } from '../model/moe';
import type { Stage, StepHandles } from '../train/stage';
import type { RlContext } from './context';

export class SftStage implements Stage {
  readonly name = 'sft' as const;

  constructor(private readonly ctx: RlContext) {}

  async step(): Promise<StepHandles> {
    const { s } = this.ctx;
    const { be, cfg } = s;
    const lr = cfg.rl.sft_lr;
    const B = cfg.data.batch_size;
    const rows: Array<{ prompt: number[]; completion: number[] }> = [];
    for (let i = 0; i < B; i++) {
      const ex = this.ctx.sft[Math.floor(this.ctx.sftRng.next() * this.ctx.sft.length)];
      rows.push({ prompt: this.ctx.encode(ex.prompt), completion: this.ctx.encode(ex.completion) });
    }
    const T = Math.max(...rows.map((r) => r.prompt.length + r.completion.length)) - 1;
    this.ctx.tokens += B * T;
    const ids = new Int32Array(B * T);
    const targets = new Int32Array(B * T).fill(-1);
    let count = 0;
    rows.forEach((r, b) => {
      const seq = [...r.prompt, ...r.completion];
      for (let i = 0; i + 1 < seq.length; i++) {
        ids[b * T + i] = seq[i];
        if (i + 1 >= r.prompt.length) {
          targets[b * T + i] = seq[i + 1];
          count++;
        }
      }
    });
    const trace = newTrace();
    const tape = new Tape();
    const loss = tape.run(() =>
      op.crossEntropyMean(
        forward(s.params, s.model, be.fromArray(ids, [B, T], 'i32'), trace),
        be.fromArray(targets, [B, T], 'i32'),
        count,
      ),
    );
    const normSq = s.update(tape, loss, lr);
    s.biasUpdate(trace);
    return { loss, aux: null, mtp: null, normSq, offsets: trace.offsets, lr, grpoStats: null, grpo: null };
  }

  dispose(): void {}
}
