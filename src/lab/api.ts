// The lab API: what the worker exposes to the page (through comlink) and what the CLI calls
// directly in node. Anything the page can do, the CLI can do.

import type { Checkpoint, SampleOptions } from '../config';
import type { GenerateStats } from '../model/generate';
import type { StepMetrics } from '../run/metrics';
import type { StageSpan } from '../run/schedule';
import type { DistillPoint, DistillResult } from '../run/distill';

export type { Checkpoint, DistillPoint, DistillResult, SampleOptions, StepMetrics };

export interface DistillRequest {
  teacher: string;
  student: string;
  seed: number;
  /** Overrides of the student preset / the teacher preset (path → value). */
  set?: Record<string, string | number | boolean>;
  setTeacher?: Record<string, string | number | boolean>;
}

export interface PresetInfo {
  name: string;
  description: string;
}

export interface RunOptions {
  preset: string;
  seed: number;
  /** Total optimizer steps; the preset's default when omitted. */
  steps?: number;
  /** Dotted config paths to values, e.g. { "model.hidden_size": 64, "optim.lr": 0.003 }. */
  set?: Record<string, string | number | boolean>;
  /**
   * Live changes to replay (a share link's): each is applied just before its step runs, as
   * setLive() would have been. Paths must be live fields (ConfigError names a bad one).
   */
  live?: LiveChange[];
}

export interface RunInfo {
  preset: string;
  seed: number;
  totalSteps: number;
  /** Steps already taken (non-zero after restoring a checkpoint). */
  step: number;
  vocabSize: number;
  params: number;
  backend: 'webgpu' | 'cpu';
  adapter: string;
  /** The matmul and attention kernels' tiles: precision.compute where the adapter can (f16 needs shader-f16). */
  matmulTiles: 'f32' | 'f16';
  /** The full validated config of the run (RunConfig from src/config). */
  config: import('../config').RunConfig;
  /** The run's stages and their step ranges (from its Schedule): pretrain, then SFT and GRPO. */
  stages: StageSpan[];
}

export interface RunSummary {
  done: boolean;
  steps: number;
  final_loss: number;
  final_val_loss: number | null;
  adapter: string;
  /** Why training halted: finished all steps, pause(), stop(), maxSteps reached, or diverged
   * (a logged loss or grad norm was NaN or ±Inf: the run stops there, see `error`). */
  reason: 'finished' | 'paused' | 'stopped' | 'max-steps' | 'diverged';
  /** With reason "diverged": what went non-finite at which step, and what to change. */
  error?: string;
}

/** A live hyperparameter change, applied from `step` on (marked on the charts). */
export interface LiveChange {
  step: number;
  path: string;
  value: string | number | boolean;
}

/**
 * How a sample was decoded, for the lab's decoding readout: characters, main-model forwards (a
 * speculative forward can emit two), time, speed, and for speculative decoding the MTP drafts
 * proposed and accepted.
 */
export type DecodeStats = GenerateStats;

export interface SampleResult {
  text: string;
  stats: DecodeStats;
}

/**
 * Where a training call stands, sent after every step (at most every STEP_TICK_MS, and always
 * after the call's first and last step), independent of `train.log_every`: the page's step
 * count, tokens/s and ETA come from these, and the first step's time (shader compilation
 * included) from the first one.
 */
export interface StepTick {
  step: number;
  /** Tokens the run has processed up to `step`. */
  tokens: number;
  /** Milliseconds since this train() call began. */
  elapsedMs: number;
  /** The step and tokens this train() call began from. */
  startStep: number;
  startTokens: number;
  /** Step of the lab's latest automatic checkpoint (0: none yet). */
  checkpointStep: number;
}

export interface TrainOptions {
  /** Halt after this many more steps. */
  maxSteps?: number;
  /**
   * Also take the automatic checkpoint when this many seconds have passed since the last one
   * (besides every `train.checkpoint_every` steps), so a slow run loses little to a reload.
   */
  checkpointEveryS?: number;
}

export interface InitOptions {
  /** 'webgpu' (default) or the slow float64 'cpu' reference (micro presets only). */
  backend?: 'webgpu' | 'cpu';
}

export interface LabApi {
  /** Acquire the device (or report why not). Calling again with another backend switches. */
  init(opts?: InitOptions): Promise<{ adapter: string; backend: 'webgpu' | 'cpu'; features: string[] }>;
  presets(): Promise<PresetInfo[]>;
  /**
   * Compile the shaders a run of `opts` needs by training one step of a throwaway copy of it (the
   * current run, if any, is untouched). On a software adapter compiling takes most of a first
   * step; done while the page is idle, Start then shows progress at once. Resolves with its time.
   */
  warmup(opts: RunOptions): Promise<{ ms: number }>;
  /** Build model, data and optimizer for a run; replaces any previous run. */
  createRun(opts: RunOptions): Promise<RunInfo>;
  /**
   * Train until the run's total steps, `maxSteps` more steps, pause() or stop(). Metrics are
   * delivered in batches via onMetrics (a comlink proxy in the page). Resolves when training
   * halts. A halted run resumes with another train() call. onStep hears of every step (StepTick).
   */
  train(
    onMetrics: (batch: StepMetrics[]) => void | Promise<void>,
    opts?: TrainOptions,
    onStep?: (tick: StepTick) => void,
  ): Promise<RunSummary>;
  /** Exactly one step, with its metrics read back (the single-step button). */
  step(): Promise<StepMetrics>;
  pause(): Promise<void>;
  stop(): Promise<void>;
  /** Drop the current run and free its memory. */
  reset(): Promise<void>;
  /**
   * Change a live setting (FieldSpec.live) of the current run; it applies at the next step.
   * A non-live path or bad value throws a ConfigError naming the field.
   */
  setLive(path: string, value: string | number | boolean): Promise<LiveChange>;
  /** Generate text from the current model with the generation engine (KV cache, sampling on the device). */
  sample(opts: SampleOptions): Promise<SampleResult>;
  /**
   * Attention probabilities of one layer/head on a text (≤ seq_len characters from the
   * vocabulary): probs is row-major [T, T], row = query position (for the heatmap).
   */
  attentionPattern(opts: {
    text: string;
    layer: number;
    head: number;
  }): Promise<{ tokens: string[]; probs: Float32Array }>;
  /**
   * Per-layer quantization statistics of the block linears' weights under the run's precision
   * settings (calc_diff, saturated share, amax, log2-scale histogram), for the precision panel.
   */
  precisionStats(): Promise<import('../lowp/stats').QuantLayerStats[]>;
  /** Host copy of the run (weights, optimizer, sampler): for export and device-loss recovery. */
  checkpoint(opts?: { weightsOnly?: boolean }): Promise<Checkpoint>;
  /** The most recent automatic checkpoint (every `train.checkpoint_every` steps or `checkpointEveryS`), if any. */
  lastCheckpoint(): Promise<Checkpoint | null>;
  /**
   * Distillation vs direct RL (rl/distill.ts): teacher preset through its pipeline, rejection
   * sampling, the student preset's base, then its SFT and GRPO arms at equal student tokens. Each
   * evaluation point goes to onPoint as it is measured. Refused while a run is training; the
   * current run is left as it is.
   */
  distill(
    opts: DistillRequest,
    onPoint: (p: DistillPoint) => void,
    onProgress?: (what: string) => void,
  ): Promise<DistillResult>;
  /** Rebuild a run from a checkpoint (re-acquiring the device if it was lost) and continue from its step. */
  restore(ckpt: Checkpoint): Promise<RunInfo>;
}
