// What a logged step reports: the stage's loss, validation loss at eval steps, learning rate, grad
// norm, throughput, and the MoE / MTP / GRPO figures of runs that have them. Read back from a
// step's device handles only at the schedule's log steps.

import type { RolloutView, StageName, StepHandles } from '../train/stage';
import { disposeHandles } from '../train/stage';
import type { RunPipeline } from './pipeline';

export interface StepMetrics {
  step: number;
  loss: number;
  /** Validation loss, measured every `eval_every` steps and at the end; null on other steps. */
  val_loss: number | null;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
  /** MTP runs only: the mean next-next-token loss over the MTP depths (reported beside `loss`, the main loss). */
  mtp_loss?: number;
  /** MoE runs only: the sequence-wise balance loss (Σ over layers, before α) when α > 0. */
  aux_loss?: number;
  /** MoE runs only: MaxVio_batch = (max load − mean load)/mean load, mean over MoE layers. */
  max_vio?: number;
  /** MoE runs only: MaxVio_batch per MoE layer. */
  max_vio_layers?: number[];
  /** MoE runs only: tokens routed to each expert in this step's batch, per MoE layer. */
  expert_load?: number[][];
  /** MoE runs only: the routing bias per MoE layer, after this step's update. */
  router_bias?: number[][];
  /** RL pipeline runs: the stage this step belongs to (its `loss` is the LM, SFT or GRPO loss). */
  stage?: StageName;
  /** GRPO steps: mean reward, and its accuracy and format parts (shares of completions). */
  reward?: number;
  accuracy?: number;
  format_rate?: number;
  /** GRPO steps: mean completion length in tokens. */
  response_len?: number;
  /** GRPO steps: mean k3 KL to the reference policy and share of clipped tokens (over the μ updates). */
  kl?: number;
  clip_frac?: number;
  /** GRPO steps: per-token entropy estimate, −mean log-prob of the sampled tokens. */
  entropy?: number;
  /** GRPO steps: spread (std) of the advantages, and groups kept by dynamic sampling. */
  adv_std?: number;
  groups_kept?: number;
  /** GRPO steps: generation engine throughput of the rollout (tokens/s over all sequences). */
  rollout_tokens_per_s?: number;
  /** RL pipeline runs, at eval steps: held-out accuracy, greedy and pass@k. */
  heldout_greedy?: number;
  heldout_pass_k?: number;
  /** GRPO steps: the first group of completions, for the rollout viewer. */
  rollout?: RolloutView;
}

/** MaxVio_batch of one layer's loads: (max − mean)/mean (spec §2, LFB eq. 4). */
export function maxVio(loads: number[]): number {
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  return mean > 0 ? (Math.max(...loads) - mean) / mean : 0;
}

/** Where throughput is measured from: the time, step and tokens of the previous readback. */
export interface Mark {
  time: number;
  step: number;
  tokens: number;
}

export function markOf(p: RunPipeline): Mark {
  return { time: performance.now(), step: p.step, tokens: p.tokensProcessed };
}

/** Read a logged step's metrics (the only readbacks during training) and release its handles. */
export async function readMetrics(p: RunPipeline, h: StepHandles, since: Mark): Promise<StepMetrics> {
  const loss = (await h.loss.read())[0];
  const normSq = (await h.normSq.read())[0];
  const aux = h.aux ? (await h.aux.read())[0] : null;
  const mtpLoss = h.mtp ? (await h.mtp.read())[0] : null;
  const loads: number[][] = [];
  for (const o of h.offsets) {
    const off = await o.read();
    loads.push(Array.from({ length: off.length - 1 }, (_, e) => off[e + 1] - off[e]));
  }
  const grpoStats = h.grpoStats ? await h.grpoStats.read() : null;
  disposeHandles(h);
  // Measured after the readback, i.e. once the GPU has finished these steps (submits are async).
  const tokensPerS = (p.tokensProcessed - since.tokens) / Math.max(1e-9, (performance.now() - since.time) / 1000);
  const s = p.step;
  const schedule = p.schedule;
  const val = schedule.isEval(s) ? await p.pretrain.valLoss() : null;
  const m: StepMetrics = {
    step: s,
    loss,
    val_loss: val,
    lr: h.lr,
    grad_norm: Math.sqrt(normSq),
    tokens_per_s: tokensPerS,
  };
  if (h.stage) m.stage = h.stage;
  if (grpoStats) {
    const [clipped, klSum, tokens] = grpoStats;
    const g = h.grpo!;
    Object.assign(m, {
      reward: g.reward,
      accuracy: g.accuracy,
      format_rate: g.format_rate,
      response_len: g.response_len,
      kl: tokens > 0 ? klSum / tokens : 0,
      clip_frac: tokens > 0 ? clipped / tokens : 0,
      entropy: g.entropy,
      adv_std: g.adv_std,
      groups_kept: g.groups_kept,
      rollout_tokens_per_s: g.rollout_tokens_per_s,
      rollout: g.rollout,
    });
  }
  if (p.rl && schedule.isHeldoutEval(s)) {
    // Held-out accuracy at every eval step and at each stage's end (the handoff points).
    const e = await p.rl.evaluate();
    m.heldout_greedy = e.greedy;
    m.heldout_pass_k = e.passK;
  }
  if (mtpLoss !== null) m.mtp_loss = mtpLoss;
  if (loads.length) {
    const vio = loads.map(maxVio);
    m.max_vio = vio.reduce((a, b) => a + b, 0) / vio.length;
    m.max_vio_layers = vio;
    m.expert_load = loads;
    m.router_bias = await p.state.routerBias();
    if (aux !== null) m.aux_loss = aux;
  }
  return m;
}
