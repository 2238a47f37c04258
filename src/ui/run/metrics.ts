// Metrics from the worker into the page: batches arrive as the lab trains and are folded into the
// current run's record and chart columns at most once per animation frame (a timeout covers
// hidden tabs), with the progress readout (latest loss, val loss, tokens/s, ETA; for RL pipeline
// runs the stage, the GRPO reward and the held-out accuracy). Step ticks (StepTick) come after
// every step whatever `log_every` is: the step count, tokens/s and ETA follow them, and the run's
// first step in this worker (which compiles the shaders) is timed on its own and kept out of the
// rate.

import type { RunInfo, StepMetrics, StepTick } from '../../lab/api';
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

/** What the step ticks tell of a run's speed (StepTimer keeps it). */
export interface StepTiming {
  /** The latest tick's step. */
  step: number;
  /** Milliseconds per step after the run's first; null until two steps are timed. */
  stepMs: number | null;
  tokensPerS: number | null;
  /** The run's first step in this worker, shader compilation included. */
  firstStepMs: number | null;
  /** performance.now() when the first step began, while it is still running; else null. */
  firstStepSince: number | null;
  /** performance.now() when the step now running began (the latest tick, or the train() call's start). */
  stepSince: number | null;
}

export const NO_TIMING: StepTiming = {
  step: 0,
  stepMs: null,
  tokensPerS: null,
  firstStepMs: null,
  firstStepSince: null,
  stepSince: null,
};

/** Times a run's steps from its ticks: the first step alone, then the rate over each train() call. */
export class StepTimer {
  private compiled = false;
  private anchor: { step: number; elapsedMs: number; tokens: number } | null = null;
  timing: StepTiming = NO_TIMING;

  /** A new run (or one restored into a fresh model): its first step compiles again. */
  reset(): void {
    this.compiled = false;
    this.anchor = null;
    this.timing = NO_TIMING;
  }

  /** A train() call begins at `now`. */
  begin(now: number): void {
    this.anchor = null;
    this.timing = { ...this.timing, firstStepSince: this.compiled ? null : now, stepSince: now };
  }

  /** A step ended (`now`: when its tick reached the page; the next step began about then). */
  tick(t: StepTick, now: number): void {
    this.timing = { ...this.timing, stepSince: now };
    const firstOfCall = this.anchor === null;
    if (firstOfCall && !this.compiled) {
      // The run's first step: shader compilation and the step itself, kept out of the rate.
      this.compiled = true;
      this.anchor = { step: t.step, elapsedMs: t.elapsedMs, tokens: t.tokens };
      const perS = t.elapsedMs > 0 ? ((t.tokens - t.startTokens) * 1000) / t.elapsedMs : null;
      this.timing = { ...this.timing, step: t.step, firstStepMs: t.elapsedMs, firstStepSince: null, tokensPerS: perS };
      return;
    }
    if (firstOfCall) this.anchor = { step: t.startStep, elapsedMs: 0, tokens: t.startTokens };
    const a = this.anchor!;
    const dt = t.elapsedMs - a.elapsedMs;
    if (t.step <= a.step || dt <= 0) {
      this.timing = { ...this.timing, step: t.step };
      return;
    }
    this.timing = {
      ...this.timing,
      step: t.step,
      stepMs: dt / (t.step - a.step),
      tokensPerS: ((t.tokens - a.tokens) * 1000) / dt,
    };
  }
}

/**
 * The progress readout of a run at `now` (ms): step, tokens/s and ETA from the step ticks' timing
 * when there is one (the first step alone gives a rough ETA), else from the anchor's rate, else
 * from the last logged tokens/s.
 */
export function computeProgress(
  run: RunRecord,
  info: RunInfo | null,
  anchor: RateAnchor | null,
  now: number,
  timing: StepTiming = NO_TIMING,
): Progress {
  const last = run.metrics.length ? run.metrics[run.metrics.length - 1] : null;
  const step = Math.max(last?.step ?? info?.step ?? 0, timing.step);
  const total = info?.totalSteps ?? totalSteps(run.config);
  let valLoss: number | null = null;
  for (let i = run.metrics.length - 1; i >= 0; i--) {
    if (run.metrics[i].val_loss !== null) {
      valLoss = run.metrics[i].val_loss;
      break;
    }
  }
  let etaS: number | null = null;
  const perStep = timing.stepMs ?? timing.firstStepMs;
  if (perStep !== null) {
    etaS = ((total - step) * perStep) / 1000;
  } else if (anchor && step > anchor.step && now > anchor.time) {
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
    tokensPerS: timing.tokensPerS ?? last?.tokens_per_s ?? null,
    etaS,
    etaRough: timing.stepMs === null && timing.firstStepMs !== null && step < total,
    stepMs: timing.stepMs,
    firstStepMs: timing.firstStepMs,
    firstStepSince: timing.firstStepSince,
    stepSince: timing.stepSince,
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
  private ticked = false;
  readonly timer = new StepTimer();

  constructor(private readonly ctx: LabContext) {}

  /** Drop metrics not yet folded in and the step timing (a new, restored or reset run). */
  clear(): void {
    this.pending = [];
    this.timer.reset();
  }

  /** A train() call begins: the readout says the first step is running (compiling shaders) if it is. */
  beginCall(): void {
    this.anchor = null;
    this.timer.begin(performance.now());
    this.ticked = true;
    this.schedule();
  }

  /** A step tick from the worker: step count, tokens/s and ETA follow it at the next frame. */
  tick(t: StepTick): void {
    this.timer.tick(t, performance.now());
    this.ticked = true;
    this.schedule();
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
    return computeProgress(run, info, this.anchor, performance.now(), this.timer.timing);
  }

  /** Fold pending metrics into the current run, its columns and the progress readout. */
  flush(): void {
    this.flushScheduled = false;
    const { set, get, history } = this.ctx;
    const { run, columns, info } = get();
    const ticked = this.ticked;
    this.ticked = false;
    if (!this.pending.length || !run || !columns) {
      this.pending = [];
      if (ticked && run) set({ progress: this.progress(run, info) });
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
