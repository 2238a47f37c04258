// What every stage of a run trains: the model's weights, the optimizer, the tokenizer and the
// run's config (live settings may be replaced between steps). Stages share one TrainState; the
// host checkpoint of weights and optimizer moments is taken and loaded here.

import type { Checkpoint, RunConfig, SampleOptions } from '../config';
import type { Backend } from '../engine/backend';
import type { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import type { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { countParams, isBuffer, type ModelConfig, modelConfigOf } from '../model/config';
import { type GenerateStats, Generator } from '../model/generate';
import { attentionPattern, initParams, type Params } from '../model/model';
import type { MoeTrace } from '../model/moe';
import type { CharTokenizer } from './data/tokenizer';
import { AdamW } from './optim';

/** How many entries of `data` are NaN or ±Inf. */
export function nonFinite(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) n++;
  return n;
}

/** The lab's sample options, plus how many samples to decode together as one batch (default 1). */
export type TrainerSampleOptions = SampleOptions & { count?: number };

export class TrainState {
  readonly model: ModelConfig;
  readonly params: Params;
  /** The parameters the optimizer updates (everything but state such as the MoE routing bias). */
  readonly trainable: Params;
  readonly optim: AdamW;
  readonly paramCount: number;
  /** Optimizer steps taken so far (all stages). */
  step = 0;
  /** The run's config; live settings may be replaced between steps (lab.setLive). */
  cfg: RunConfig;

  /** `initRng` seeds the weights (the pipeline forks it from the run's root stream). */
  constructor(
    readonly be: Backend,
    cfg: RunConfig,
    readonly seed: number,
    readonly tokenizer: CharTokenizer,
    initRng: Rng,
  ) {
    this.cfg = cfg;
    this.model = modelConfigOf(cfg, tokenizer.vocabSize);
    this.paramCount = countParams(this.model);
    this.params = initParams(be, this.model, initRng);
    this.trainable = new Map([...this.params].filter(([name]) => !isBuffer(name)));
    this.optim = new AdamW(be, this.trainable);
    this.adoptParams();
  }

  /** The trainable weights become the optimizer's arena slots (see train/optim_arena.ts). */
  private adoptParams(): void {
    for (const [name, slot] of this.optim.adopt(this.trainable)) {
      const old = this.trainable.get(name)!;
      if (old === slot) continue;
      this.trainable.set(name, slot);
      this.params.set(name, slot);
      old.dispose();
    }
  }

  /** Model fields that are live settings (α) follow the run config between steps. */
  syncLiveModelFields(): void {
    this.model.aux_loss_alpha = this.cfg.model.aux_loss_alpha;
  }

  /** Backward of `loss` on `tape` and one AdamW update of the trainable weights; returns grad norm². */
  update(tape: Tape, loss: Tensor, lr: number): Tensor {
    const all = tape.backward(loss);
    const grads = new Map<string, Tensor>();
    for (const [name, p] of this.trainable) {
      const g = all.get(p.id);
      if (g) grads.set(name, g);
    }
    return this.optim.update(this.trainable, grads, this.cfg.optim, lr);
  }

  /** Loss-free balancing: nudge each MoE layer's routing bias toward balance using this batch's
   * loads, after the update (it affects the next batch's routing only). */
  biasUpdate(trace: MoeTrace): void {
    const gamma = this.cfg.train.bias_update_speed;
    if (gamma > 0 && trace.bias.length) this.be.moeBiasUpdates(trace.bias, trace.offsets, gamma);
  }

  /** The routing bias of each MoE layer, in layer order (host copies). */
  async routerBias(): Promise<number[][]> {
    const out: number[][] = [];
    for (const [name, t] of this.params) if (isBuffer(name)) out.push(Array.from(await t.read()));
    return out;
  }

  /** A host copy of the weights, and unless weightsOnly the optimizer moments. */
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
    if (!weightsOnly) ckpt.optimizer = await this.optim.readState();
    return ckpt;
  }

  /** Load a checkpoint's weights, its optimizer moments when present, and its step. */
  load(ckpt: Checkpoint): void {
    // Check every tensor before replacing any, so a refused file leaves the run as it was.
    for (const [name] of this.params) {
      const src = ckpt.params[name];
      const bad = src ? nonFinite(src.data) : 0;
      if (bad)
        throw new Error(
          `checkpoint: parameter ${name} has ${bad} non-finite value${bad > 1 ? 's' : ''} (NaN or ±Inf): the file comes from a diverged run or is corrupt`,
        );
    }
    for (const [name, t] of this.params) {
      const src = ckpt.params[name];
      if (!src) throw new Error(`checkpoint: missing parameter ${name}`);
      if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`checkpoint: parameter ${name} has shape [${src.shape}], the model needs [${t.shape}]`);
      }
      const fresh = this.be.fromArray(src.data, t.shape);
      fresh.name = name;
      fresh.requiresGrad = t.requiresGrad;
      if (this.trainable.has(name)) {
        // In the optimizer's arena the values are copied into the parameter's slot, which stays.
        if (this.optim.adopt(new Map([[name, fresh]])).get(name) !== fresh) {
          fresh.dispose();
          continue;
        }
        this.trainable.set(name, fresh);
      }
      this.params.set(name, fresh);
      t.dispose();
    }
    if (ckpt.optimizer) this.optim.loadState(ckpt.optimizer);
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
    for (const p of this.params.values()) p.dispose();
    this.optim.dispose();
  }
}
