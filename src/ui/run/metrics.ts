// Metrics from the worker into the page: batches arrive as the lab trains and are folded into the
// current run's record and chart columns at most once per animation frame (a timeout covers
// hidden tabs), with the progress readout (latest loss, val loss, tokens/s, ETA; for RL pipeline
// runs the stage, the GRPO reward and the held-out accuracy).

import type { RunInfo, StepMetrics } from '../../lab/api';
import type { RunRecord } from '../../lab/runfile';
import { totalSteps } from '../../run/schedule';
import { lastHeldout } from '../stages';
import type { LabContext } from '../state/context';
import type { Progress } from '../state/types';

/** Wall-clock anchor of a training segment: the step and time its first metrics arrived. */
export interface RateAnchor {
  step: number;
  time: number;
}

/** The progress readout of a run at `now` (ms): from the anchor's rate if any, else from tokens/s. */
export function computeProgress(
  run: RunRecord,
  info: RunInfo | null,
  anchor: RateAnchor | null,
  now: number,
): Progress {
  const last = run.metrics.length ? run.metrics[run.metrics.length - 1] : null;
  const step = last?.step ?? info?.step ?? 0;
  const total = info?.totalSteps ?? totalSteps(run.config);
  let valLoss: number | null = null;
  for (let i = run.metrics.length - 1; i >= 0; i--) {
    if (run.metrics[i].val_loss !== null) {
      valLoss = run.metrics[i].val_loss;
      break;
    }
  }
  let etaS: number | null = null;
  if (anchor && step > anchor.step && now > anchor.time) {
    etaS = ((total - step) * (now - anchor.time)) / 1000 / (step - anchor.step);
  } else if (last && last.tokens_per_s > 0) {
    const tokensPerStep = run.config.data.batch_size * run.config.data.seq_len;
    etaS = ((total - step) * tokensPerStep) / last.tokens_per_s;
  }
  if (step >= total) etaS = 0;
  const staged = run.config.rl.mode === 'pipeline';
  const grpo = last?.stage === 'grpo';
  return {
    step,
    total,
    loss: last && !grpo ? last.loss : null,
    valLoss,
    tokensPerS: last?.tokens_per_s ?? null,
    etaS,
    stage: staged ? (last?.stage ?? null) : null,
    reward: grpo ? (last.reward ?? null) : null,
    heldout: staged ? (lastHeldout(run.metrics)?.value ?? null) : null,
  };
}

export class MetricsFeed {
  /** Metrics received but not yet folded into the state. */
  private pending: StepMetrics[] = [];
  private flushScheduled = false;
  private anchor: RateAnchor | null = null;

  constructor(private readonly ctx: LabContext) {}

  /** Drop metrics not yet folded in (a new or reset run). */
  clear(): void {
    this.pending = [];
  }

  /** A batch from the worker: folded in at the next frame. */
  receive(batch: StepMetrics[]): void {
    this.pending.push(...batch);
    this.schedule();
  }

  /** One single step's metrics: folded in now (a single step is not training time for the ETA). */
  takeStep(m: StepMetrics): void {
    this.pending.push(m);
    this.anchor = null;
    this.flush();
  }

  /** Start measuring the rate afresh (a new training segment; sampling time is not training time). */
  restartRate(): void {
    this.anchor = null;
  }

  progress(run: RunRecord, info: RunInfo | null): Progress {
    return computeProgress(run, info, this.anchor, performance.now());
  }

  /** Fold pending metrics into the current run, its columns and the progress readout. */
  flush(): void {
    this.flushScheduled = false;
    const { set, get, history } = this.ctx;
    const { run, columns, info } = get();
    if (!this.pending.length || !run || !columns) {
      this.pending = [];
      return;
    }
    for (const m of this.pending) {
      run.metrics.push(m);
      columns.push(m);
    }
    const last = this.pending[this.pending.length - 1];
    this.pending = [];
    this.anchor ??= { step: last.step, time: performance.now() };
    set((s) => ({ version: s.version + 1, progress: this.progress(run, info) }));
    history.store.saveLater(run);
    if (performance.now() - this.ctx.runsBumpedAt > 1000) this.ctx.bumpRuns();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Once per frame; the timeout covers hidden tabs, where animation frames stop.
    const id = setTimeout(() => this.flush(), 250);
    requestAnimationFrame(() => {
      clearTimeout(id);
      if (this.flushScheduled) this.flush();
    });
  }
}
