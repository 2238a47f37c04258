// A stage of a run: pretraining (train/trainer.ts), cold-start SFT and GRPO (rl/). Each records
// one optimizer step at a time on the shared TrainState; the run pipeline (run/pipeline.ts)
// picks the stage of each step from the run's Schedule, so no stage knows where it ends.

import type { Tensor } from '../engine/tensor';

export type StageName = 'pretrain' | 'sft' | 'grpo';

/** GRPO steps: host figures of the rollout (see rl/grpo.ts). */
export interface GrpoInfo {
  reward: number;
  accuracy: number;
  format_rate: number;
  response_len: number;
  entropy: number;
  adv_std: number;
  groups_kept: number;
  rollout_tokens_per_s: number;
  rollout: RolloutView;
}

/** One group of completions with their scores, for the rollout viewer. */
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

export interface StepHandles {
  /** Device tensors of this step (the stage's loss, the balance loss if any, grad norm², and each
   * MoE layer's dispatch offsets); release them with disposeHandles after reading. */
  loss: Tensor;
  aux: Tensor | null;
  /** Mean MTP loss over depths (MTP runs only). */
  mtp: Tensor | null;
  normSq: Tensor;
  offsets: Tensor[];
  lr: number;
  /** RL pipeline runs: the stage of this step; GRPO steps add device stats and host figures. */
  stage?: StageName;
  /** GRPO: [clipped, Σk3, valid tokens] summed over the μ updates. */
  grpoStats?: Tensor | null;
  grpo?: GrpoInfo | null;
}

export interface Stage {
  readonly name: StageName;
  /** Record optimizer step `t` (1-based, of the whole run) and submit it; the caller flushes. */
  step(t: number): Promise<StepHandles>;
  dispose(): void;
}

/** Every device tensor a step's handles hold. */
export function handleTensors(h: StepHandles): Tensor[] {
  return [h.loss, h.aux, h.mtp, h.normSq, h.grpoStats, ...h.offsets].filter((t): t is Tensor => !!t);
}

export function disposeHandles(h: StepHandles): void {
  for (const t of handleTensors(h)) t.dispose();
}
