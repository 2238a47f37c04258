// The pretraining stage: tokens → batches; one step = forward (with the MTP and balance losses
// when configured), backward, grad-norm, AdamW update and the routing-bias update, all recorded
// into one command encoder (one flush, by the pipeline). Metrics are read back only when asked
// (every log_every steps), never inside a step.

import type { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { lossOf } from '../model/model';
import { newTrace } from '../model/moe';
import { type Batch, BatchSampler, splitTokens } from './data/batches';
import { learningRate } from './schedule';
import type { Stage, StepHandles } from './stage';
import type { TrainState } from './state';

export class Trainer implements Stage {
  readonly name = 'pretrain' as const;
  private readonly sampler: BatchSampler;
  private readonly valBatches: Batch[];

  /** `tokens`: the encoded corpus; `root`: the run's random stream after the weights' fork. */
  constructor(
    private readonly s: TrainState,
    tokens: Int32Array,
    root: Rng,
  ) {
    const d = s.cfg.data;
    const { train, val } = splitTokens(tokens, d.val_fraction);
    if (val.length < d.seq_len + 1)
      throw new Error(
        `data: the validation split (${val.length} tokens) is shorter than one sequence; raise data.val_fraction or the corpus size`,
      );
    // Independent streams for training and validation batches.
    this.sampler = new BatchSampler(train, d.batch_size, d.seq_len, Math.floor(root.next() * 2 ** 32));
    const valSampler = new BatchSampler(val, d.batch_size, d.seq_len, Math.floor(root.next() * 2 ** 32));
    this.valBatches = Array.from({ length: s.cfg.train.eval_batches }, () => valSampler.next());
  }

  /** Where the training batches continue from (kept in checkpoints). */
  get samplerState(): number[] {
    return this.sampler.state;
  }

  set samplerState(st: number[]) {
    this.sampler.state = st;
  }

  get tokensPerStep(): number {
    return this.s.cfg.data.batch_size * this.s.cfg.data.seq_len;
  }

  /** ids[:, k:] and targets[:, k:] for each MTP depth k (module k predicts token i+k+1). */
  private mtpInputs(b: Batch): { ids: Tensor[]; targets: Tensor[] } {
    const ids: Tensor[] = [];
    const targets: Tensor[] = [];
    for (let k = 1; k <= this.s.model.num_nextn_predict_layers; k++) {
      const n = b.seq - k;
      const ik = new Int32Array(b.batch * n);
      const tk = new Int32Array(b.batch * n);
      for (let r = 0; r < b.batch; r++) {
        ik.set(b.inputs.subarray(r * b.seq + k, (r + 1) * b.seq), r * n);
        tk.set(b.targets.subarray(r * b.seq + k, (r + 1) * b.seq), r * n);
      }
      ids.push(this.s.be.fromArray(ik, [b.batch, n], 'i32'));
      targets.push(this.s.be.fromArray(tk, [b.batch, n], 'i32'));
    }
    return { ids, targets };
  }

  private upload(b: Batch): { ids: Tensor; targets: Tensor } {
    return {
      ids: this.s.be.fromArray(b.inputs, [b.batch, b.seq], 'i32'),
      targets: this.s.be.fromArray(b.targets, [b.batch, b.seq], 'i32'),
    };
  }

  /** Record pretraining step `t` (warmup + cosine / WSD learning rate over train.steps). */
  async step(t: number): Promise<StepHandles> {
    const s = this.s;
    const lr = learningRate(s.cfg.optim, t, s.cfg.train.steps);
    const batch = this.sampler.next();
    const { ids, targets } = this.upload(batch);
    const mtp =
      s.model.num_nextn_predict_layers > 0 ? { inputs: this.mtpInputs(batch), lambda: s.cfg.train.mtp_lambda } : null;
    const tape = new Tape();
    const trace = newTrace();
    const loss = tape.run(() => lossOf(s.params, s.model, ids, targets, trace, mtp));
    const normSq = s.update(tape, loss.total, lr);
    s.biasUpdate(trace);
    return { loss: loss.lm, aux: loss.aux, mtp: loss.mtp, normSq, offsets: trace.offsets, lr };
  }

  /** Mean LM loss over the fixed validation batches (no tape, nothing kept). */
  async valLoss(): Promise<number> {
    this.s.syncLiveModelFields();
    let total = 0;
    for (const b of this.valBatches) {
      const scope = new Scope();
      try {
        const { ids, targets } = this.upload(b);
        const loss = lossOf(this.s.params, this.s.model, ids, targets);
        total += (await loss.lm.read())[0];
      } finally {
        scope.end();
      }
    }
    return total / this.valBatches.length;
  }

  dispose(): void {}
}
