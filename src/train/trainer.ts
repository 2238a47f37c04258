// The trainer: corpus → tokenizer → batches; model params; AdamW; one step = forward, backward,
// grad-norm, update, all recorded into one command encoder (one flush). Metrics are read back
// only when asked (every log_every steps), never inside a step.

import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import type { RunConfig } from '../config';
import { countParams, modelConfigOf, type ModelConfig } from '../model/config';
import { Generator, type GenerateStats } from '../model/generate';
import { RlStages, type GrpoInfo } from '../rl/grpo';
import { attentionPattern, forward, initParams, lossOf, type Params } from '../model/model';
import { isBuffer, newTrace } from '../model/moe';
import type { Checkpoint, SampleOptions } from '../config';
import { BatchSampler, splitTokens, type Batch } from './data/batches';
import { runCorpus } from './data/run-corpus';
import { CharTokenizer } from './data/tokenizer';
import { AdamW } from './optim';
import { learningRate } from './schedule';

export interface StepHandles {
  /** Device tensors of this step (the LM loss, the balance loss if any, grad norm², and each
   * MoE layer's dispatch offsets); release them with disposeHandles after reading. */
  loss: Tensor;
  aux: Tensor | null;
  /** Mean MTP loss over depths (MTP runs only). */
  mtp: Tensor | null;
  normSq: Tensor;
  offsets: Tensor[];
  lr: number;
  /** RL pipeline runs: the stage of this step; GRPO steps add device stats and host figures. */
  stage?: 'pretrain' | 'sft' | 'grpo';
  grpoStats?: Tensor | null;
  grpo?: GrpoInfo | null;
}

/** The lab's sample options, plus how many samples to decode together as one batch (default 1). */
export type TrainerSampleOptions = SampleOptions & { count?: number };

export function disposeHandles(h: StepHandles): void {
  for (const t of [h.loss, h.aux, h.mtp, h.normSq, h.grpoStats, ...h.offsets]) t?.dispose();
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

  /** The run's config; live settings may be replaced between steps (lab.setLive). */
  cfg: RunConfig;

  constructor(
    readonly be: Backend,
    cfg: RunConfig,
    readonly seed: number,
  ) {
    this.cfg = cfg;
    const d = cfg.data;
    const corpus = runCorpus(cfg, seed);
    const text = corpus.text;
    this.tokenizer = corpus.tokenizer;
    const tokens = this.tokenizer.encode(text);
    const { train, val } = splitTokens(tokens, d.val_fraction);
    if (val.length < d.seq_len + 1)
      throw new Error(
        `data: the validation split (${val.length} tokens) is shorter than one sequence; raise data.val_fraction or the corpus size`,
      );
    this.model = modelConfigOf(cfg, this.tokenizer.vocabSize);
    this.paramCount = countParams(this.model);
    // Independent streams for init, training batches and validation batches.
    const root = new Rng(seed);
    this.params = initParams(be, this.model, root.fork());
    this.sampler = new BatchSampler(train, d.batch_size, d.seq_len, Math.floor(root.next() * 2 ** 32));
    const valSampler = new BatchSampler(val, d.batch_size, d.seq_len, Math.floor(root.next() * 2 ** 32));
    this.valBatches = Array.from({ length: cfg.train.eval_batches }, () => valSampler.next());
    this.trainable = new Map([...this.params].filter(([name]) => !isBuffer(name)));
    this.optim = new AdamW(be, this.trainable);
    this.rl = cfg.rl.mode === 'pipeline' ? new RlStages(this) : null;
  }

  /** The SFT and GRPO stages of an RL pipeline run (null otherwise). */
  readonly rl: RlStages | null;

  /** Which stage step `s` (1-based) belongs to. */
  stageOf(s: number): 'pretrain' | 'sft' | 'grpo' {
    if (!this.rl || s <= this.cfg.train.steps) return 'pretrain';
    return s <= this.cfg.train.steps + this.cfg.rl.sft_steps ? 'sft' : 'grpo';
  }

  /** One SFT or GRPO step of the pipeline (constant lr: rl.sft_lr, rl.lr). */
  private async rlStep(): Promise<StepHandles> {
    const t = this.step + 1;
    const stage = this.stageOf(t);
    const lr = stage === 'sft' ? this.cfg.rl.sft_lr : this.cfg.rl.lr;
    const scope = new Scope();
    let out: StepHandles;
    try {
      const r = stage === 'sft' ? this.rl!.sftStep(lr) : await this.rl!.grpoStepRun(lr);
      scope.keep(r.loss, r.normSq, ...r.offsets, ...(r.stats ? [r.stats] : []));
      out = {
        loss: r.loss,
        aux: null,
        mtp: null,
        normSq: r.normSq,
        offsets: r.offsets,
        lr,
        stage,
        grpoStats: r.stats,
        grpo: r.grpo,
      };
    } finally {
      scope.end();
    }
    this.step = t;
    await this.be.flush();
    return out;
  }

  /** The parameters the optimizer updates (everything but state such as the MoE routing bias). */
  readonly trainable: Params;

  /** Model fields that are live settings (α) follow the run config between steps. */
  private syncLiveModelFields(): void {
    this.model.aux_loss_alpha = this.cfg.model.aux_loss_alpha;
  }

  get tokensPerStep(): number {
    return this.cfg.data.batch_size * this.cfg.data.seq_len;
  }

  /** Tokens through the model so far: pretraining batches, plus the SFT / GRPO stages' own count. */
  get tokensProcessed(): number {
    return Math.min(this.step, this.cfg.train.steps) * this.tokensPerStep + (this.rl?.tokens ?? 0);
  }

  /** ids[:, k:] and targets[:, k:] for each MTP depth k (module k predicts token i+k+1). */
  private mtpInputs(b: Batch): { ids: Tensor[]; targets: Tensor[] } {
    const ids: Tensor[] = [];
    const targets: Tensor[] = [];
    for (let k = 1; k <= this.model.num_nextn_predict_layers; k++) {
      const n = b.seq - k;
      const ik = new Int32Array(b.batch * n);
      const tk = new Int32Array(b.batch * n);
      for (let r = 0; r < b.batch; r++) {
        ik.set(b.inputs.subarray(r * b.seq + k, (r + 1) * b.seq), r * n);
        tk.set(b.targets.subarray(r * b.seq + k, (r + 1) * b.seq), r * n);
      }
      ids.push(this.be.fromArray(ik, [b.batch, n], 'i32'));
      targets.push(this.be.fromArray(tk, [b.batch, n], 'i32'));
    }
    return { ids, targets };
  }

  private upload(b: Batch): { ids: Tensor; targets: Tensor } {
    return {
      ids: this.be.fromArray(b.inputs, [b.batch, b.seq], 'i32'),
      targets: this.be.fromArray(b.targets, [b.batch, b.seq], 'i32'),
    };
  }

  /** Record one optimizer step and submit it. Returns device handles for the loss and grad norm². */
  async trainStep(): Promise<StepHandles> {
    this.syncLiveModelFields();
    if (this.rl && this.step >= this.cfg.train.steps) return this.rlStep();
    const t = this.step + 1;
    const lr = learningRate(this.cfg.optim, t, this.cfg.train.steps);
    const scope = new Scope();
    let out: StepHandles;
    try {
      const batch = this.sampler.next();
      const { ids, targets } = this.upload(batch);
      const mtp =
        this.model.num_nextn_predict_layers > 0
          ? { inputs: this.mtpInputs(batch), lambda: this.cfg.train.mtp_lambda }
          : null;
      const tape = new Tape();
      const trace = newTrace();
      const loss = tape.run(() => lossOf(this.params, this.model, ids, targets, trace, mtp));
      const all = tape.backward(loss.total);
      const grads = new Map<string, Tensor>();
      for (const [name, p] of this.trainable) {
        const g = all.get(p.id);
        if (g) grads.set(name, g);
      }
      const normSq = this.optim.update(this.trainable, grads, this.cfg.optim, lr);
      // Loss-free balancing: after the update, nudge each MoE layer's routing bias toward
      // balance using this batch's loads (it affects the next batch's routing only).
      const gamma = this.cfg.train.bias_update_speed;
      if (gamma > 0)
        trace.bias.forEach((b, i) => {
          this.be.moeBiasUpdate(b, trace.offsets[i], gamma);
        });
      scope.keep(loss.lm, normSq, ...trace.offsets, ...(loss.aux ? [loss.aux] : []), ...(loss.mtp ? [loss.mtp] : []));
      out = {
        loss: loss.lm,
        aux: loss.aux,
        mtp: loss.mtp,
        normSq,
        offsets: trace.offsets,
        lr,
        ...(this.rl ? { stage: 'pretrain' as const } : {}),
      };
    } finally {
      scope.end();
    }
    // The step is recorded: count it now, so a live change made while it runs applies to the next.
    this.step = t;
    await this.be.flush();
    return out;
  }

  /** The routing bias of each MoE layer, in layer order (host copies). */
  async routerBias(): Promise<number[][]> {
    const out: number[][] = [];
    for (const [name, t] of this.params) if (isBuffer(name)) out.push(Array.from(await t.read()));
    return out;
  }

  /** Mean LM loss over the fixed validation batches (no tape, nothing kept). */
  async valLoss(): Promise<number> {
    this.syncLiveModelFields();
    let total = 0;
    for (const b of this.valBatches) {
      const scope = new Scope();
      try {
        const { ids, targets } = this.upload(b);
        const loss = lossOf(this.params, this.model, ids, targets);
        total += (await loss.lm.read())[0];
      } finally {
        scope.end();
      }
    }
    return total / this.valBatches.length;
  }

  /** A host copy of the run: weights, and unless weightsOnly the optimizer and sampler state. */
  async checkpoint(preset: string, weightsOnly = false): Promise<Checkpoint> {
    const params: Checkpoint['params'] = {};
    for (const [name, t] of this.params)
      params[name] = { shape: [...t.shape], data: Float32Array.from(await t.read()) };
    const ckpt: Checkpoint = {
      format: 'v3lab-checkpoint',
      version: 1,
      preset,
      seed: this.seed,
      step: this.step,
      config: structuredClone(this.cfg),
      params,
    };
    if (!weightsOnly) {
      ckpt.optimizer = await this.optim.readState();
      ckpt.samplerState = this.sampler.state;
    }
    return ckpt;
  }

  /** Load a checkpoint's weights (and optimizer/sampler state when present) into this run. */
  load(ckpt: Checkpoint): void {
    for (const [name, t] of this.params) {
      const src = ckpt.params[name];
      if (!src) throw new Error(`checkpoint: missing parameter ${name}`);
      if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`checkpoint: parameter ${name} has shape [${src.shape}], the model needs [${t.shape}]`);
      }
      const fresh = this.be.fromArray(src.data, t.shape);
      fresh.name = name;
      fresh.requiresGrad = t.requiresGrad;
      this.params.set(name, fresh);
      if (this.trainable.has(name)) this.trainable.set(name, fresh);
      t.dispose();
    }
    if (ckpt.optimizer) this.optim.loadState(ckpt.optimizer);
    if (ckpt.samplerState) this.sampler.state = ckpt.samplerState;
    this.step = ckpt.step;
  }

  /**
   * Continue `prompt` by `length` characters, `count` samples at once, with the generation engine
   * (KV cache, device-side sampling; speculative with the MTP drafter when asked). The model
   * only ever saw seq_len-token contexts, so generation runs in windows: when a context is full,
   * the next window starts from its last seq_len/2 tokens (prefilled again).
   */
  async sample(opts: TrainerSampleOptions): Promise<{ texts: string[]; stats: GenerateStats }> {
    const tok = this.tokenizer;
    const bad = tok.unknown(opts.prompt);
    if (bad.length)
      throw new Error(
        `sample: prompt has characters outside the vocabulary: ${bad.map((c) => JSON.stringify(c)).join(' ')}`,
      );
    const count = opts.count ?? 1;
    const start = Array.from(
      opts.prompt.length ? tok.encode(opts.prompt) : [tok.chars.includes('\n') ? tok.chars.indexOf('\n') : 0],
    );
    const T = this.cfg.data.seq_len;
    const seqs = Array.from({ length: count }, () => start.slice(-Math.max(1, T - 1)));
    const made: number[][] = seqs.map(() => []);
    const total: GenerateStats = {
      mode: opts.speculative ? 'speculative' : 'plain',
      tokens: 0,
      forwards: 0,
      ms: 0,
      tokensPerSecond: 0,
      drafted: 0,
      accepted: 0,
      acceptanceRate: null,
    };
    const gen = Generator.create(this.be, this.params, this.model);
    try {
      let window = 0;
      while (made[0].length < opts.length) {
        const room = Math.max(1, T - seqs[0].length);
        const want = Math.min(room, opts.length - made[0].length);
        const res = await gen.generate({
          prompts: seqs,
          maxNewTokens: want,
          sampling: { temperature: opts.temperature, topK: opts.topK ?? 0, topP: opts.topP ?? 1 },
          seed: (opts.seed + 7919 * window++) >>> 0,
          speculative: opts.speculative,
        });
        for (const [b, s] of res.sequences.entries()) {
          made[b].push(...s.tokens);
          const all = [...seqs[b], ...s.tokens];
          seqs[b] = all.length >= T ? all.slice(-Math.max(1, Math.floor(T / 2))) : all;
        }
        for (const k of ['tokens', 'forwards', 'ms', 'drafted', 'accepted'] as const) total[k] += res.stats[k];
      }
    } finally {
      gen.dispose();
    }
    total.tokensPerSecond = total.ms > 0 ? (total.tokens * 1000) / total.ms : 0;
    total.acceptanceRate = opts.speculative && total.drafted > 0 ? total.accepted / total.drafted : null;
    return { texts: made.map((m) => tok.decode(m)), stats: total };
  }

  /** Attention probabilities [T, T] of one layer and head on `text`. */
  async attentionPattern(
    text: string,
    layer: number,
    head: number,
  ): Promise<{ tokens: string[]; probs: Float32Array }> {
    const tok = this.tokenizer;
    const bad = tok.unknown(text);
    if (bad.length)
      throw new Error(
        `attention pattern: text has characters outside the vocabulary: ${bad.map((ch) => JSON.stringify(ch)).join(' ')}`,
      );
    const enc = tok.encode(text);
    if (enc.length < 1 || enc.length > this.cfg.data.seq_len)
      throw new Error(
        `attention pattern: text must be 1..${this.cfg.data.seq_len} characters (data.seq_len), got ${enc.length}`,
      );
    const scope = new Scope();
    try {
      const ids = this.be.fromArray(enc, [1, enc.length], 'i32');
      const probs = Float32Array.from(await attentionPattern(this.params, this.model, ids, layer, head).read());
      // One label per token (a tag is one token).
      return { tokens: Array.from(enc, (id) => tok.decode([id])), probs };
    } finally {
      scope.end();
    }
  }

  dispose(): void {
    this.rl?.dispose();
    for (const p of this.params.values()) p.dispose();
    this.optim.dispose();
  }
}
