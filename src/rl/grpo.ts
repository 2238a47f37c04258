// GRPO and its variants (spec §5), and the cold-start SFT stage, as steps the Trainer runs after
// pretraining when rl.mode is "pipeline":
//
//   steps 1 .. train.steps                      pretrain on the task corpus (corpus.ts)
//   next rl.sft_steps                           SFT on worked solutions (0 = the R1-Zero path)
//   next rl.grpo_steps                          GRPO
//
// One GRPO step: P prompts × G completions from the generation engine at rl.temperature; the
// task's verifier scores each; rewards → group advantages; optionally drop groups that are all
// right or all wrong (DAPO dynamic sampling, without refilling the batch); then μ policy updates
// on the same batch, each a taped forward of prompt + completion giving log π_θ per completion
// token (logits / T, like the sampler), and the fused GRPO token loss (clipped ratio against
// π_old = the rollout's log-probs, k3 KL against the reference policy with β) with per-token
// weights that encode the loss normalization. Token log-probs of π_old come from the engine; the
// engine's logits equal a full forward's to ~1e-7 (generate.test.ts).

import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Scope, scoped, unscoped } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import type { RlSection, RunConfig } from '../config';
import type { ModelConfig } from '../model/config';
import { Generator } from '../model/generate';
import { forward, type Params } from '../model/model';
import { newTrace } from '../model/moe';
import type { CharTokenizer } from '../train/data/tokenizer';
import type { AdamW } from '../train/optim';
import { sftSet, type SftExample } from './corpus';
import { findTask, type Task, type TaskItem, type Verdict } from './tasks';
import { STOP_TAG, promptOf } from './template';

/** The reward of one completion under the configured scheme (spec §5–§6). */
export function rewardOf(
  v: Verdict,
  rl: Pick<
    RlSection,
    'reward' | 'accuracy_weight' | 'format_weight' | 'overlong_penalty' | 'overlong_cache' | 'max_new_tokens'
  >,
  length: number,
  truncated: boolean,
): number {
  let r: number;
  if (rl.reward === 'strict')
    r = !truncated && v.accuracy === 1 && v.format === 1 ? 1 : 0; // Dr. GRPO: truncated outputs get 0
  else if (rl.reward === 'partial')
    r = v.accuracy === 1 ? 1 : v.partial ? 0.1 : 0; // TinyZero
  else r = rl.accuracy_weight * v.accuracy + rl.format_weight * v.format; // R1: accuracy + format
  if (rl.overlong_penalty) {
    // DAPO eq. 13 with L_max = the budget: 0 up to L_max − L_cache, linear to −1 at L_max, −1 past it (truncated).
    const Lmax = rl.max_new_tokens;
    const Lc = Math.min(rl.overlong_cache, Lmax);
    if (truncated) r += -1;
    else if (length > Lmax - Lc) r += (Lmax - Lc - length) / Lc;
  }
  return r;
}

/**
 * Group-relative advantages. std: (r − mean)/(std + 1e-6) with the unbiased std (verl, TRL);
 * a group of one gets mean 0 and std 1 (verl). mean: r − mean (Dr. GRPO).
 */
export function advantages(rewards: number[], mode: 'std' | 'mean'): number[] {
  const n = rewards.length;
  if (n === 0) return [];
  const mean = n > 1 ? rewards.reduce((a, b) => a + b, 0) / n : 0;
  if (mode === 'mean') return rewards.map((r) => r - mean);
  const std = n > 1 ? Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1)) : 1;
  return rewards.map((r) => (r - mean) / (std + 1e-6));
}

export interface RolloutView {
  prompt: string;
  completions: Array<{
    text: string;
    reward: number;
    advantage: number;
    accuracy: number;
    format: number;
    why: string;
  }>;
}

/** Host-side figures of one GRPO step (the device ones — loss, KL, clip share — come as tensors). */
export interface GrpoInfo {
  reward: number;
  accuracy: number;
  format_rate: number;
  response_len: number;
  entropy: number;
  adv_std: number;
  groups_kept: number;
  /** Generated tokens per second of this step's rollout (all sequences, prefill included). */
  rollout_tokens_per_s: number;
  rollout: RolloutView;
}

export interface RlStepOut {
  loss: Tensor;
  normSq: Tensor;
  offsets: Tensor[];
  /** GRPO: [clipped, Σk3, valid tokens] summed over the μ updates. */
  stats: Tensor | null;
  grpo: GrpoInfo | null;
}

/** Everything the SFT and GRPO stages need from the trainer. */
export interface RlHost {
  be: Backend;
  params: Params;
  trainable: Params;
  optim: AdamW;
  model: ModelConfig;
  tokenizer: CharTokenizer;
  cfg: RunConfig;
  seed: number;
}

export class RlStages {
  readonly task: Task;
  private sft: SftExample[];
  /**
   * Student budget: tokens through this model's forward passes in the SFT and GRPO stages —
   * rollout prefill + decode, training forwards (× μ) and reference forwards; a backward is not
   * counted separately, held-out evaluation not at all.
   */
  tokens = 0;
  private readonly sftRng: Rng;
  private readonly promptRng: Rng;
  private readonly evalItems: TaskItem[];
  private ref: Params | null = null;
  private grpoStep = 0;
  readonly stopId: number;

  constructor(private readonly h: RlHost) {
    const task = findTask(h.cfg.rl.task);
    if (!task) throw new Error(`rl.task: unknown task "${h.cfg.rl.task}"`);
    this.task = task;
    const rl = h.cfg.rl;
    const root = new Rng((h.seed ^ 0x91a7) >>> 0);
    this.sft = sftSet(task, rl.difficulty, rl.sft_examples, h.seed);
    this.sftRng = root.fork();
    this.promptRng = root.fork();
    // Held-out prompts from their own stream (the training prompts are drawn fresh each step).
    const evalRng = root.fork();
    this.evalItems = Array.from({ length: rl.eval_prompts }, () => task.generate(evalRng, rl.difficulty));
    this.stopId = h.tokenizer.encode(STOP_TAG)[0];
  }

  /** Replace the cold-start set (distillation: a teacher's verified completions). */
  useSftSet(examples: SftExample[]): void {
    if (!examples.length) throw new Error('SFT: the set is empty');
    this.sft = examples;
  }

  dispose(): void {
    if (this.ref) for (const t of this.ref.values()) t.dispose();
    this.ref = null;
  }

  private encode(text: string): number[] {
    return Array.from(this.h.tokenizer.encode(text));
  }

  /** One SFT step: a batch of worked solutions, loss on the completion tokens only. */
  sftStep(lr: number): RlStepOut {
    const { be, cfg } = this.h;
    const B = cfg.data.batch_size;
    const rows: Array<{ prompt: number[]; completion: number[] }> = [];
    for (let i = 0; i < B; i++) {
      const ex = this.sft[Math.floor(this.sftRng.next() * this.sft.length)];
      rows.push({
        prompt: Array.from(this.h.tokenizer.encode(ex.prompt)),
        completion: Array.from(this.h.tokenizer.encode(ex.completion)),
      });
    }
    const T = Math.max(...rows.map((r) => r.prompt.length + r.completion.length)) - 1;
    this.tokens += B * T;
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
        forward(this.h.params, this.h.model, be.fromArray(ids, [B, T], 'i32'), trace),
        be.fromArray(targets, [B, T], 'i32'),
        count,
      ),
    );
    const normSq = this.update(tape, loss, lr);
    this.biasUpdate(trace);
    return { loss, normSq, offsets: trace.offsets, stats: null, grpo: null };
  }

  private update(tape: Tape, loss: Tensor, lr: number): Tensor {
    const all = tape.backward(loss);
    const grads = new Map<string, Tensor>();
    for (const [name, p] of this.h.trainable) {
      const g = all.get(p.id);
      if (g) grads.set(name, g);
    }
    return this.h.optim.update(this.h.trainable, grads, this.h.cfg.optim, lr);
  }

  private biasUpdate(trace: ReturnType<typeof newTrace>): void {
    const gamma = this.h.cfg.train.bias_update_speed;
    if (gamma > 0)
      trace.bias.forEach((b, i) => {
        this.h.be.moeBiasUpdate(b, trace.offsets[i], gamma);
      });
  }

  /** The frozen reference policy: a device copy of the weights at GRPO's start (and at each reset). */
  private async resetReference(): Promise<void> {
    this.dispose();
    const ref: Params = new Map();
    for (const [name, t] of this.h.params) {
      const data = await t.read();
      ref.set(
        name,
        unscoped(() => this.h.be.fromArray(data, t.shape)),
      );
    }
    this.ref = ref;
  }

  /** Generate completions; returns token lists (stop token included) and per-token log-probs. */
  /** Tokens/s of the latest rollout. */
  lastRolloutSpeed = 0;

  async rollout(
    items: TaskItem[],
    perItem: number,
    temperature: number,
    seed: number,
    count = true,
  ): Promise<Array<{ item: TaskItem; tokens: number[]; logprobs: number[]; text: string; truncated: boolean }>> {
    const { be, params, model, cfg } = this.h;
    const prompts: number[][] = [];
    for (const it of items) for (let g = 0; g < perItem; g++) prompts.push(this.encode(promptOf(it.problem)));
    const gen = Generator.create(be, params, model);
    try {
      const res = await gen.generate({
        prompts,
        maxNewTokens: cfg.rl.max_new_tokens,
        stopTokens: [this.stopId],
        sampling: { temperature, topK: 0, topP: 1 },
        seed,
      });
      this.lastRolloutSpeed = res.stats.tokensPerSecond;
      if (count) this.tokens += prompts.reduce((a, p) => a + p.length, 0) + res.stats.tokens;
      return res.sequences.map((s, i) => ({
        item: items[Math.floor(i / perItem)],
        tokens: s.tokens,
        logprobs: s.logprobs,
        text: this.h.tokenizer.decode(s.tokens),
        truncated: s.finish !== 'stop',
      }));
    } finally {
      gen.dispose();
    }
  }

  /** One GRPO step (rollouts, rewards, advantages, μ updates). */
  async grpoStepRun(lr: number): Promise<RlStepOut> {
    const { be, cfg } = this.h;
    const rl = cfg.rl;
    if (!this.ref || (rl.ref_reset_every > 0 && this.grpoStep > 0 && this.grpoStep % rl.ref_reset_every === 0))
      await this.resetReference();
    this.grpoStep++;
    const P = rl.prompts_per_step;
    const G = rl.group_size;
    const items = Array.from({ length: P }, () => this.task.generate(this.promptRng, rl.difficulty));
    const outs = await this.rollout(items, G, rl.temperature, Math.floor(this.promptRng.next() * 2 ** 32));
    const verdicts = outs.map((o) => this.task.verify(o.item, o.text));
    const rewards = outs.map((o, i) => rewardOf(verdicts[i], rl, o.tokens.length, o.truncated));
    const adv: number[] = [];
    const keep: boolean[] = [];
    for (let p = 0; p < P; p++) {
      const grp = rewards.slice(p * G, (p + 1) * G);
      adv.push(...advantages(grp, rl.advantage));
      const correct = verdicts.slice(p * G, (p + 1) * G).filter((v) => v.accuracy === 1).length;
      const informative = !rl.dynamic_sampling || (correct > 0 && correct < G);
      for (let g = 0; g < G; g++) keep.push(informative);
    }
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    const allLp = outs.flatMap((o) => o.logprobs);
    const advMean = mean(adv);
    const info: GrpoInfo = {
      reward: mean(rewards),
      accuracy: mean(verdicts.map((v) => v.accuracy)),
      format_rate: mean(verdicts.map((v) => v.format)),
      response_len: mean(outs.map((o) => o.tokens.length)),
      entropy: -mean(allLp),
      adv_std: Math.sqrt(mean(adv.map((a) => (a - advMean) ** 2))),
      groups_kept: keep.filter(Boolean).length / G,
      rollout_tokens_per_s: this.lastRolloutSpeed,
      rollout: {
        prompt: promptOf(items[0].problem),
        completions: outs.slice(0, G).map((o, g) => ({
          text: o.text,
          reward: rewards[g],
          advantage: adv[g],
          accuracy: verdicts[g].accuracy,
          format: verdicts[g].format,
          why: verdicts[g].why,
        })),
      },
    };

    // The training batch: kept completions after their prompts, right-padded.
    const rows = outs.map((o, i) => ({ o, i })).filter(({ i }) => keep[i] && outs[i].tokens.length > 0);
    if (rows.length === 0) {
      // Nothing informative this step (e.g. every group all wrong under dynamic sampling): no update.
      return { loss: be.zeros([1]), normSq: be.zeros([1]), offsets: [], stats: be.zeros([3]), grpo: info };
    }
    const seqs = rows.map(({ o }) => ({ prompt: this.encode(promptOf(o.item.problem)), completion: o.tokens }));
    const R = rows.length;
    const T = Math.max(...seqs.map((s) => s.prompt.length + s.completion.length)) - 1;
    const ids = new Int32Array(R * T);
    const targets = new Int32Array(R * T).fill(-1);
    const old = new Float64Array(R * T);
    const advT = new Float64Array(R * T);
    const w = new Float64Array(R * T);
    const totalTokens = seqs.reduce((a, s) => a + s.completion.length, 0);
    rows.forEach(({ o, i }, r) => {
      const s = seqs[r];
      const full = [...s.prompt, ...s.completion];
      const Lc = s.completion.length;
      const weight =
        rl.loss_norm === 'sequence'
          ? 1 / (Lc * R)
          : rl.loss_norm === 'token'
            ? 1 / totalTokens
            : 1 / (R * rl.max_new_tokens);
      for (let t = 0; t + 1 < full.length; t++) {
        ids[r * T + t] = full[t];
        const j = t + 1 - s.prompt.length; // completion token index this position predicts
        if (j >= 0) {
          targets[r * T + t] = full[t + 1];
          old[r * T + t] = o.logprobs[j];
          advT[r * T + t] = adv[i];
          w[r * T + t] = weight;
        }
      }
    });
    this.tokens += R * T * rl.mu;
    const idsT = be.fromArray(ids, [R, T], 'i32');
    const tgtT = be.fromArray(targets, [R, T], 'i32');
    const invT = 1 / rl.temperature;
    // log π(token) per position under some weights: −CE of logits / T (0 at masked positions).
    const logprobs = (params: Params, trace: ReturnType<typeof newTrace> | null) =>
      op.scale(op.crossEntropyRows(op.scale(forward(params, this.h.model, idsT, trace), invT), tgtT), -1);
    const forwardLp = (params: Params) => scoped(() => logprobs(params, null));
    // π_old: the rollout's log-probs, except with low-precision linears, where training quantizes
    // MLA's kv_b_proj but the engine's absorbed form does not: then one forward of these weights.
    const lowp = this.h.model.precision.linear === 'lowp';
    const oldLp = lowp ? forwardLp(this.h.params) : null;
    // The reference forward only matters with β > 0 (its KL figure is then reported too).
    const refLp = rl.beta > 0 ? forwardLp(this.ref!) : null;
    this.tokens += R * T * ((lowp ? 1 : 0) + (rl.beta > 0 ? 1 : 0));
    const oldT = oldLp ? op.view(oldLp, [R * T]) : be.fromArray(old, [R * T]);
    const advTT = be.fromArray(advT, [R * T]);
    const wT = be.fromArray(w, [R * T]);
    const hp = { epsLow: rl.eps_low, epsHigh: rl.eps_high, beta: rl.beta };
    let loss: Tensor | null = null;
    let normSq: Tensor | null = null;
    let stats: Tensor | null = null;
    let offsets: Tensor[] = [];
    for (let u = 0; u < rl.mu; u++) {
      const last = u === rl.mu - 1;
      const scope = new Scope();
      try {
        const trace = newTrace();
        const tape = new Tape();
        // With β = 0 the reference is irrelevant to the loss; π_old stands in for it (KL then reads
        // as the distance to π_old).
        const ref = refLp ? op.view(refLp, [R * T]) : oldT;
        const out = tape.run(() =>
          op.grpoLoss(op.view(logprobs(this.h.params, trace), [R * T]), oldT, ref, advTT, wT, hp),
        );
        const n = this.update(tape, out.loss, lr);
        this.biasUpdate(trace);
        stats = stats ? op.add(stats, out.stats) : out.stats;
        if (last) {
          scope.keep(out.loss, n, stats, ...trace.offsets);
          loss = out.loss;
          normSq = n;
          offsets = trace.offsets;
        } else {
          scope.keep(stats);
          // Submit this update before recording the next one on the updated weights.
          await be.flush();
        }
      } finally {
        scope.end();
      }
    }
    refLp?.dispose();
    oldLp?.dispose();
    return { loss: loss!, normSq: normSq!, offsets, stats, grpo: info };
  }

  /**
   * Held-out figures on the fixed held-out prompts: greedy accuracy, its format rate and mean
   * length, and pass@k at rl.temperature (any of k samples correct).
   */
  async evaluate(): Promise<{ greedy: number; passK: number; format: number; length: number }> {
    const rl = this.h.cfg.rl;
    const items = this.evalItems;
    const greedy = await this.rollout(items, 1, 0, 1, false);
    const verdicts = greedy.map((o) => this.task.verify(o.item, o.text));
    const k = rl.pass_k;
    const samples = await this.rollout(items, k, rl.temperature, 2, false);
    let pass = 0;
    for (let i = 0; i < items.length; i++) {
      if (samples.slice(i * k, (i + 1) * k).some((o) => this.task.verify(o.item, o.text).accuracy === 1)) pass++;
    }
    const n = items.length;
    return {
      greedy: verdicts.reduce((a: number, v) => a + v.accuracy, 0) / n,
      passK: pass / n,
      format: verdicts.reduce((a: number, v) => a + v.format, 0) / n,
      length: greedy.reduce((a, o) => a + o.tokens.length, 0) / n,
    };
  }
}
