// The GRPO stage (spec §5) of an RL pipeline run (rl.mode "pipeline"); the run's Schedule
// (run/schedule.ts) places it after pretraining and the optional cold-start SFT (sft.ts):
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

import type { RlSection } from '../config';
import * as op from '../engine/ops';
import { Scope, scoped, unscoped } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { forward, type Params } from '../model/model';
import { newTrace } from '../model/moe';
import type { GrpoInfo, Stage, StepHandles } from '../train/stage';
import type { Completion, RlContext } from './context';
import type { Verdict } from './tasks';
import { promptOf } from './template';

export type { GrpoInfo, RolloutView } from '../train/stage';

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

/** A scored rollout batch: completions, rewards, advantages, which groups train, and host figures. */
interface ScoredRollout {
  outs: Completion[];
  adv: number[];
  keep: boolean[];
  info: GrpoInfo;
}

/** The training batch: kept completions after their prompts, right-padded to T. */
interface TrainingBatch {
  R: number;
  T: number;
  ids: Int32Array;
  targets: Int32Array;
  /** π_old per position (the rollout's log-probs; 0 where masked). */
  old: Float64Array;
  adv: Float64Array;
  /** Per-token weights that encode the loss normalization. */
  w: Float64Array;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export class GrpoStage implements Stage {
  readonly name = 'grpo' as const;
  private ref: Params | null = null;
  private grpoStep = 0;

  constructor(private readonly ctx: RlContext) {}

  dispose(): void {
    if (this.ref) for (const t of this.ref.values()) t.dispose();
    this.ref = null;
  }

  /** The frozen reference policy: a device copy of the weights at GRPO's start (and at each reset). */
  private async resetReference(): Promise<void> {
    this.dispose();
    const ref: Params = new Map();
    for (const [name, t] of this.ctx.s.params) {
      const data = await t.read();
      ref.set(
        name,
        unscoped(() => this.ctx.s.be.fromArray(data, t.shape)),
      );
    }
    this.ref = ref;
  }

  /** One GRPO step (rollouts, rewards, advantages, μ updates) at the constant rate rl.lr. */
  async step(): Promise<StepHandles> {
    const { be, cfg } = this.ctx.s;
    const rl = cfg.rl;
    const lr = rl.lr;
    if (!this.ref || (rl.ref_reset_every > 0 && this.grpoStep > 0 && this.grpoStep % rl.ref_reset_every === 0))
      await this.resetReference();
    this.grpoStep++;
    const scored = await this.scoredRollout();
    const batch = this.trainingBatch(scored);
    if (!batch) {
      // Nothing informative this step (e.g. every group all wrong under dynamic sampling): no update.
      const z = { loss: be.zeros([1]), normSq: be.zeros([1]), grpoStats: be.zeros([3]) };
      return { ...z, aux: null, mtp: null, offsets: [], lr, grpo: scored.info };
    }
    const out = await this.updates(batch, lr);
    return { ...out, aux: null, mtp: null, lr, grpo: scored.info };
  }

  /** P prompts × G completions at rl.temperature, scored by the verifier, with group advantages. */
  private async scoredRollout(): Promise<ScoredRollout> {
    const ctx = this.ctx;
    const rl = ctx.s.cfg.rl;
    const P = rl.prompts_per_step;
    const G = rl.group_size;
    const items = Array.from({ length: P }, () => ctx.task.generate(ctx.promptRng, rl.difficulty));
    const outs = await ctx.rollout(items, G, rl.temperature, Math.floor(ctx.promptRng.next() * 2 ** 32));
    const verdicts = outs.map((o) => ctx.task.verify(o.item, o.text));
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
      rollout_tokens_per_s: ctx.lastRolloutSpeed,
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
    return { outs, adv, keep, info };
  }

  /** The kept, non-empty completions after their prompts (null when none is left). */
  private trainingBatch({ outs, adv, keep }: ScoredRollout): TrainingBatch | null {
    const rl = this.ctx.s.cfg.rl;
    const rows = outs.map((o, i) => ({ o, i })).filter(({ i }) => keep[i] && outs[i].tokens.length > 0);
    if (rows.length === 0) return null;
    const seqs = rows.map(({ o }) => ({ prompt: this.ctx.encode(promptOf(o.item.problem)), completion: o.tokens }));
    const R = rows.length;
    const T = Math.max(...seqs.map((s) => s.prompt.length + s.completion.length)) - 1;
    const b: TrainingBatch = {
      R,
      T,
      ids: new Int32Array(R * T),
      targets: new Int32Array(R * T).fill(-1),
      old: new Float64Array(R * T),
      adv: new Float64Array(R * T),
      w: new Float64Array(R * T),
    };
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
        b.ids[r * T + t] = full[t];
        const j = t + 1 - s.prompt.length; // completion token index this position predicts
        if (j >= 0) {
          b.targets[r * T + t] = full[t + 1];
          b.old[r * T + t] = o.logprobs[j];
          b.adv[r * T + t] = adv[i];
          b.w[r * T + t] = weight;
        }
      }
    });
    return b;
  }

  /** μ policy updates on one batch against a fixed π_old; returns the last update's handles. */
  private async updates(
    b: TrainingBatch,
    lr: number,
  ): Promise<{ loss: Tensor; normSq: Tensor; offsets: Tensor[]; grpoStats: Tensor }> {
    const s = this.ctx.s;
    const { be } = s;
    const rl = s.cfg.rl;
    const { R, T } = b;
    this.ctx.tokens += R * T * rl.mu;
    const idsT = be.fromArray(b.ids, [R, T], 'i32');
    const tgtT = be.fromArray(b.targets, [R, T], 'i32');
    const invT = 1 / rl.temperature;
    // log π(token) per position under some weights: −CE of logits / T (0 at masked positions).
    const logprobs = (params: Params, trace: ReturnType<typeof newTrace> | null) =>
      op.scale(op.crossEntropyRows(op.scale(forward(params, s.model, idsT, trace), invT), tgtT), -1);
    const forwardLp = (params: Params) => scoped(() => logprobs(params, null));
    // π_old: the rollout's log-probs, except with low-precision linears, where training quantizes
    // MLA's kv_b_proj but the engine's absorbed form does not: then one forward of these weights.
    const lowp = s.model.precision.linear === 'lowp';
    const oldLp = lowp ? forwardLp(s.params) : null;
    // The reference forward only matters with β > 0 (its KL figure is then reported too).
    const refLp = rl.beta > 0 ? forwardLp(this.ref!) : null;
    this.ctx.tokens += R * T * ((lowp ? 1 : 0) + (rl.beta > 0 ? 1 : 0));
    const oldT = oldLp ? op.view(oldLp, [R * T]) : be.fromArray(b.old, [R * T]);
    const advTT = be.fromArray(b.adv, [R * T]);
    const wT = be.fromArray(b.w, [R * T]);
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
        const out = tape.run(() => op.grpoLoss(op.view(logprobs(s.params, trace), [R * T]), oldT, ref, advTT, wT, hp));
        const n = s.update(tape, out.loss, lr);
        s.biasUpdate(trace);
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
    return { loss: loss!, normSq: normSq!, offsets, grpoStats: stats! };
  }
}
