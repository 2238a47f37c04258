// The run's schedule: which stage a step belongs to, and whether a step is a log, eval,
// checkpoint, handoff or end step. The only place that knows where a stage ends. Steps are
// 1-based: step s is the s-th optimizer step of the whole run.
//
//   steps 1 .. train.steps                  pretrain
//   next rl.sft_steps                       cold-start SFT   (RL pipeline runs only)
//   next rl.grpo_steps                      GRPO             (RL pipeline runs only)

import type { RunConfig } from '../config';

export type StageName = 'pretrain' | 'sft' | 'grpo';

export interface StageSpan {
  name: StageName;
  /** First and last step of the stage (1-based, inclusive); empty stages are left out. */
  first: number;
  last: number;
}

/** Optimizer steps of a whole run: train.steps, plus the SFT and GRPO stages of an RL pipeline. */
export function totalSteps(c: RunConfig): number {
  return new Schedule(c).total;
}

export class Schedule {
  /** The stages in order. Always starts with pretrain. */
  readonly stages: readonly StageSpan[];
  readonly total: number;
  readonly pipeline: boolean;

  /** Read live settings (log_every, eval_every, checkpoint_every) through `cfg` at each call. */
  constructor(private readonly cfg: RunConfig) {
    this.pipeline = cfg.rl.mode === 'pipeline';
    const lengths: Array<[StageName, number]> = [['pretrain', cfg.train.steps]];
    if (this.pipeline) lengths.push(['sft', cfg.rl.sft_steps], ['grpo', cfg.rl.grpo_steps]);
    const stages: StageSpan[] = [];
    let end = 0;
    for (const [name, n] of lengths) {
      if (n > 0 || name === 'pretrain') stages.push({ name, first: end + 1, last: end + n });
      end += n;
    }
    this.stages = stages;
    this.total = end;
  }

  /** The stage step `s` belongs to (the last stage for steps past the end). */
  stageOf(s: number): StageSpan {
    return this.stages.find((st) => s <= st.last) ?? this.stages[this.stages.length - 1];
  }

  /** The end of a stage that another stage follows: RL pipelines evaluate and checkpoint there. */
  isHandoff(s: number): boolean {
    if (!this.pipeline) return false;
    const c = this.cfg;
    return s === c.train.steps || s === c.train.steps + c.rl.sft_steps;
  }

  isEnd(s: number): boolean {
    return s === this.total;
  }

  /** Validation loss: every eval_every steps and at the end. */
  isEval(s: number): boolean {
    return s % this.cfg.train.eval_every === 0 || this.isEnd(s);
  }

  /** Held-out accuracy of an RL pipeline: at eval steps and at each handoff. */
  isHeldoutEval(s: number): boolean {
    return this.pipeline && (this.isEval(s) || this.isHandoff(s));
  }

  /** Metrics are read back: every log_every steps, at eval steps, handoffs and the end. */
  isLog(s: number): boolean {
    return s % this.cfg.train.log_every === 0 || this.isEval(s) || this.isHandoff(s);
  }

  /** A host checkpoint is taken: every checkpoint_every steps, at handoffs and at the end. */
  isCheckpoint(s: number): boolean {
    return s % this.cfg.train.checkpoint_every === 0 || this.isEnd(s) || this.isHandoff(s);
  }
}
