// The lab API: what the worker exposes to the page (through comlink) and what the CLI calls
// directly in node. Anything the page can do, the CLI can do.

export interface StepMetrics {
  step: number;
  loss: number;
  /** Validation loss, measured every `evalEvery` steps; null on other steps. */
  val_loss: number | null;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
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
}

export interface RunInfo {
  preset: string;
  seed: number;
  totalSteps: number;
  vocabSize: number;
  params: number;
  backend: 'webgpu' | 'cpu';
  adapter: string;
}

export interface RunSummary {
  done: true;
  steps: number;
  final_loss: number;
  final_val_loss: number | null;
  adapter: string;
  stopped: boolean;
}

export interface LabApi {
  /** Acquire the GPU (or report why not). */
  init(): Promise<{ adapter: string; backend: 'webgpu' | 'cpu'; features: string[] }>;
  presets(): Promise<PresetInfo[]>;
  /** Build model, data and optimizer for a run; replaces any previous run. */
  createRun(opts: RunOptions): Promise<RunInfo>;
  /**
   * Train until the run's total steps or stop()/pause(). Metrics are delivered in batches via
   * onMetrics (a comlink proxy in the page). Resolves when training halts.
   */
  train(onMetrics: (batch: StepMetrics[]) => void | Promise<void>): Promise<RunSummary>;
  pause(): Promise<void>;
  stop(): Promise<void>;
}
