// What the SFT and GRPO stages of one RL pipeline run share: the task, the cold-start set, the
// prompt streams, the fixed held-out prompts, the rollout (generation engine + verifier) and the
// student-token budget both stages add to.

import { Rng } from '../engine/rng';
import { Generator } from '../model/generate';
import type { TrainState } from '../train/state';
import { type SftExample, sftSet } from './corpus';
import { findTask, type Task, type TaskItem } from './tasks';
import { promptOf, STOP_TAG } from './template';

export interface Completion {
  item: TaskItem;
  tokens: number[];
  logprobs: number[];
  text: string;
  truncated: boolean;
}

export interface HeldoutFigures {
  greedy: number;
  passK: number;
  format: number;
  length: number;
}

export class RlContext {
  readonly task: Task;
  sft: SftExample[];
  /**
   * Student budget: tokens through this model's forward passes in the SFT and GRPO stages —
   * rollout prefill + decode, training forwards (× μ) and reference forwards; a backward is not
   * counted separately, held-out evaluation not at all.
   */
  tokens = 0;
  readonly sftRng: Rng;
  readonly promptRng: Rng;
  private readonly evalItems: TaskItem[];
  readonly stopId: number;
  /** Tokens/s of the latest rollout. */
  lastRolloutSpeed = 0;

  constructor(readonly s: TrainState) {
    const rl = s.cfg.rl;
    const task = findTask(rl.task);
    if (!task) throw new Error(`rl.task: unknown task "${rl.task}"`);
    this.task = task;
    const root = new Rng((s.seed ^ 0x91a7) >>> 0);
    this.sft = sftSet(task, rl.difficulty, rl.sft_examples, s.seed);
    this.sftRng = root.fork();
    this.promptRng = root.fork();
    // Held-out prompts from their own stream (the training prompts are drawn fresh each step).
    const evalRng = root.fork();
    this.evalItems = Array.from({ length: rl.eval_prompts }, () => task.generate(evalRng, rl.difficulty));
    this.stopId = s.tokenizer.encode(STOP_TAG)[0];
  }

  /** Replace the cold-start set (distillation: a teacher's verified completions). */
  useSftSet(examples: SftExample[]): void {
    if (!examples.length) throw new Error('SFT: the set is empty');
    this.sft = examples;
  }

  encode(text: string): number[] {
    return Array.from(this.s.tokenizer.encode(text));
  }

  /** Generate `perItem` completions per item; token lists (stop token included) and per-token log-probs. */
  async rollout(
    items: TaskItem[],
    perItem: number,
    temperature: number,
    seed: number,
    count = true,
  ): Promise<Completion[]> {
    const { be, params, model, cfg } = this.s;
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
        text: this.s.tokenizer.decode(s.tokens),
        truncated: s.finish !== 'stop',
      }));
    } finally {
      gen.dispose();
    }
  }

  /**
   * Held-out figures on the fixed held-out prompts: greedy accuracy, its format rate and mean
   * length, and pass@k at rl.temperature (any of k samples correct).
   */
  async evaluate(): Promise<HeldoutFigures> {
    const rl = this.s.cfg.rl;
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
