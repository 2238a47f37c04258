// The trainer: corpus → tokenizer → batches; model params; AdamW; one step = forward, backward,
// grad-norm, update, all recorded into one command encoder (one flush). Metrics are read back
// only when asked (every log_every steps), never inside a step.

import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import type { RunConfig } from '../lab/config';
import { countParams, type ModelConfig } from '../model/config';
import { initParams, lossOf, type Params } from '../model/model';
import { BatchSampler, splitTokens, type Batch } from './data/batches';
import { generateCorpus, validateUserText } from './data/corpora';
import { CharTokenizer } from './data/tokenizer';
import { AdamW } from './optim';
import { learningRate } from './schedule';

export interface StepHandles {
  /** Device scalars of this step; dispose after reading. */
  loss: Tensor;
  normSq: Tensor;
  lr: number;
}

export class Trainer {
  readonly tokenizer: CharTokenizer;
  readonly model: ModelConfig;
  readonly params: Params;
  readonly optim: AdamW;
  readonly paramCount: number;
  private readonly sampler: BatchSampler;
  private readonly valBatches: Batch[];
  step = 0;

  constructor(readonly be: Backend, readonly cfg: RunConfig, readonly seed: number) {
    const d = cfg.data;
    let text: string;
    if (d.corpus === 'text') {
      validateUserText(d.text, d.seq_len, d.val_fraction);
      text = d.text;
    } else {
      text = generateCorpus(d.corpus, d.corpus_chars, seed);
    }
    this.tokenizer = CharTokenizer.fromText(text);
    const tokens = this.tokenizer.encode(text);
    const { train, val } = splitTokens(tokens, d.val_fraction);
    if (val.length < d.seq_len + 1) throw new Error(`data: the validation split (${val.length} tokens) is shorter than one sequence; raise data.val_fraction or the corpus size`);
    this.model = { ...cfg.model, vocab_size: this.tokenizer.vocabSize };
    this.paramCount = countParams(this.model);
    // Independent streams for init, training batches and validation batches.
    const root = new Rng(seed);
    this.params = initParams(be, this.model, root.fork());
    this.sampler = new BatchSampler(train, d.batch_size, d.seq_len, Math.floor(root.next() * 2 ** 32));
    const valSampler = new BatchSampler(val, d.batch_size, d.seq_len, Math.floor(root.next() * 2 ** 32));
    this.valBatches = Array.from({ length: cfg.train.eval_batches }, () => valSampler.next());
    this.optim = new AdamW(be, this.params);
  }

  get tokensPerStep(): number {
    return this.cfg.data.batch_size * this.cfg.data.seq_len;
  }

  private upload(b: Batch): { ids: Tensor; targets: Tensor } {
    return {
      ids: this.be.fromArray(b.inputs, [b.batch, b.seq], 'i32'),
      targets: this.be.fromArray(b.targets, [b.batch, b.seq], 'i32'),
    };
  }

  /** Record one optimizer step and submit it. Returns device handles for the loss and grad norm². */
  async trainStep(): Promise<StepHandles> {
    const t = this.step + 1;
    const lr = learningRate(this.cfg.optim, t, this.cfg.train.steps);
    const scope = new Scope();
    let out: StepHandles;
    try {
      const { ids, targets } = this.upload(this.sampler.next());
      const tape = new Tape();
      const loss = tape.run(() => lossOf(this.params, this.model, ids, targets));
      const all = tape.backward(loss);
      const grads = new Map<string, Tensor>();
      for (const [name, p] of this.params) {
        const g = all.get(p.id);
        if (g) grads.set(name, g);
      }
      const normSq = this.optim.update(this.params, grads, this.cfg.optim, lr);
      scope.keep(loss, normSq);
      out = { loss, normSq, lr };
    } finally {
      scope.end();
    }
    await this.be.flush();
    this.step = t;
    return out;
  }

  /** Mean loss over the fixed validation batches (no tape, nothing kept). */
  async valLoss(): Promise<number> {
    let total = 0;
    for (const b of this.valBatches) {
      const scope = new Scope();
      try {
        const { ids, targets } = this.upload(b);
        const loss = lossOf(this.params, this.model, ids, targets);
        total += (await loss.read())[0];
      } finally {
        scope.end();
      }
    }
    return total / this.valBatches.length;
  }

  dispose(): void {
    for (const p of this.params.values()) p.dispose();
    this.optim.dispose();
  }
}
