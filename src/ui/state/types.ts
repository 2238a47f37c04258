// The page store's shape, by slice. The store (../store.ts) is one zustand store composed of
// these slices; components read fields and call actions of any slice through useLab.

import type { RunConfig } from '../../config';
import type { Checkpoint, DecodeStats, DistillPoint, DistillRequest, DistillResult, RunInfo } from '../../lab/api';
import type { RunRecord } from '../../lab/runfile';
import type { HideablePanel, LiveChangeEntry } from '../../lab/share';
import type { QuantLayerStats } from '../../lowp/stats';
import type { StageName } from '../../run/schedule';
import type { MetricColumns } from '../columns';
import type { Draft, DraftEval } from '../draft';
import type { Phase } from '../run/machine';
import type { ResumeOffer } from '../run/resume';

export interface Banner {
  id: number;
  kind: 'error' | 'info' | 'lost';
  title: string;
  lines: string[];
}

export interface ConfirmRequest {
  testId: 'confirm-reset' | 'confirm-delete' | 'confirm-link';
  title: string;
  body: string;
  confirmLabel: string;
}

export interface Progress {
  step: number;
  total: number | null;
  /** The latest LM loss (pretraining or SFT step); null at GRPO steps, whose `loss` is a surrogate. */
  loss: number | null;
  valLoss: number | null;
  tokensPerS: number | null;
  etaS: number | null;
  /** The ETA comes from the first step alone (shader compilation included): an upper figure. */
  etaRough: boolean;
  /** Milliseconds per step after the run's first (null until two steps are timed). */
  stepMs: number | null;
  /** The run's first step in this worker, compiling shaders included (ms; null until it ends). */
  firstStepMs: number | null;
  /** performance.now() when the run's first step began, while it runs (compiling shaders); else null. */
  firstStepSince: number | null;
  /** performance.now() when the step now running began (null before a train() call). */
  stepSince: number | null;
  /** RL pipeline runs: the stage of the latest step (null for a run of one stage). */
  stage: StageName | null;
  /** GRPO steps: the latest mean reward. */
  reward: number | null;
  /** RL pipeline runs: the latest held-out greedy accuracy. */
  heldout: number | null;
}

export const NO_PROGRESS: Progress = {
  step: 0,
  total: null,
  loss: null,
  valLoss: null,
  tokensPerS: null,
  etaS: null,
  etaRough: false,
  stepMs: null,
  firstStepMs: null,
  firstStepSince: null,
  stepSince: null,
  stage: null,
  reward: null,
  heldout: null,
};

/** One head's attention pattern on a text, from the current run's model at `step`. */
export interface AttentionView {
  runId: string;
  step: number;
  layer: number;
  head: number;
  tokens: string[];
  /** Row-major [T, T], row = query. */
  probs: Float32Array;
}

/** Per-layer quantization statistics of the current run's block weights at `step`. */
export interface QuantView {
  runId: string;
  step: number;
  precision: RunConfig['precision'];
  stats: QuantLayerStats[];
}

export type Inspection = 'attention' | 'precision';

/** One of a run's samples (the run record keeps step, temperature and text). */
export type RunSample = RunRecord['samples'][number];

/** How a sample was made, beside its text: so a sample can be read, trusted and repeated. */
export interface SampleInfo {
  prompt: string;
  mode: 'plain' | 'speculative';
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/** The worker connection and the run's phase (the run state machine's, mirrored here). */
export interface SessionSlice {
  phase: Phase;
  adapter: string | null;
  backend: 'webgpu' | 'cpu' | null;
  features: string[];
  /** Opened without a link: which preset the adapter got, and why (null once dismissed). */
  openingNote: string | null;
  /** The opening preset's shaders compiled while the page is idle: since when, and how long it took (null: still going). */
  warmup: { preset: string; since: number; ms: number | null } | null;
  boot(): Promise<void>;
  dismissOpeningNote(): void;
  useCpu(): Promise<void>;
}

/** The config being edited (the next run, or the live settings of the current one). */
export interface ConfigSlice {
  presetName: string;
  seedText: string;
  draft: Draft;
  evaluated: DraftEval;
  seedError: string | null;
  presetError: string | null;
  hide: HideablePanel[];
  /** Live changes a share link brought in: replayed at their steps by the next run started (cleared by a new preset). */
  liveScript: LiveChangeEntry[];
  setPreset(name: string): void;
  setSeed(text: string): void;
  setField(path: string, text: string): void;
  commitField(path: string): Promise<void>;
  loadTextFile(file: File): Promise<void>;
}

/** The current run (also in `runs`); its metrics arrays are appended in place and `version` bumps. */
export interface RunSlice {
  run: RunRecord | null;
  info: RunInfo | null;
  columns: MetricColumns | null;
  version: number;
  progress: Progress;
  sampling: boolean;
  start(): Promise<void>;
  pause(): Promise<void>;
  singleStep(): Promise<void>;
  stop(): Promise<void>;
  reset(): Promise<void>;
  continueFromCheckpoint(): Promise<void>;
  /** Start the run's config and seed again with precision.linear = f32, overlaid on the run. */
  runF32Twin(id: string): Promise<void>;
  /** After a reload: the interrupted run that can be resumed from its kept checkpoint. */
  resumeOffer: ResumeOffer | null;
  resumeSaved(id: string): Promise<void>;
  dismissResume(): void;
  /** The long-run notice's switch: stop and reset the run, open `preset` and start it. */
  switchPreset(preset: string): Promise<void>;
}

export interface DistillState {
  status: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  /** What was asked for (the held-out prompts of each arm follow from its preset). */
  request: DistillRequest | null;
  points: DistillPoint[];
  result: DistillResult | null;
  progress: string;
  error: string | null;
}

/** Lab work beside training: inspections of the current run's model, samples on demand, distillation. */
export interface JobsSlice {
  // Inspections of the current run's model (cleared when a new run starts).
  attention: AttentionView | null;
  attentionError: string | null;
  quant: QuantView | null;
  quantError: string | null;
  inspecting: Inspection | null;
  /**
   * How each sample of this page session was made (prompt, mode, filters, seed). Kept beside the
   * run record, whose file format has only step, temperature and text per sample.
   */
  sampleInfo: WeakMap<RunSample, SampleInfo>;
  /** The decoding readout: the latest plain and speculative samples' speed (and acceptance). */
  decoding: { plain: DecodeStats | null; speculative: DecodeStats | null };
  comparing: boolean;
  /** The distillation-vs-RL experiment (its own view): points as they are measured, then the result. */
  distill: DistillState;
  sampleNow(): Promise<void>;
  /** Attention probabilities of one layer/head on `text` (≤ seq_len characters of the vocabulary). */
  inspectAttention(text: string, layer: number, head: number): Promise<void>;
  /** Quantization statistics of the block weights under the run's precision settings. */
  inspectPrecision(): Promise<void>;
  /** Sample the same prompt plainly and speculatively, filling both rows of the decoding readout. */
  compareDecoding(): Promise<void>;
  runDistill(req: DistillRequest): Promise<void>;
  /** Stop the distillation now: the worker is ended (the only way to halt it mid-stage) and a fresh one started. */
  cancelDistill(): Promise<void>;
}

/** The run history (IndexedDB) and how the charts compare runs. */
export interface HistorySlice {
  runs: RunRecord[];
  runsVersion: number;
  baselineId: string | null;
  overlayIds: string[];
  /** Seed groups (seed-groups.ts, by group id) drawn on the charts as mean with min/max across seeds. */
  bandGroupIds: string[];
  setBaseline(id: string): void;
  toggleOverlay(id: string): void;
  toggleBand(groupId: string): void;
  deleteRun(id: string): void;
  /** Give a run a name of its own (trimmed, ≤ 80 characters; empty keeps the old one). */
  renameRun(id: string, name: string): void;
}

/** Runs and weights in and out of the page as files. */
export interface FilesSlice {
  exportRun(id: string): void;
  exportWeights(id: string): Promise<void>;
  importFile(file: File): Promise<void>;
  /** The current run's weights (for the Hugging Face export panel). */
  checkpointForExport(): Promise<Checkpoint>;
}

/** Share links: the editor's state as a URL hash, and links opened in the address bar. */
export interface ShareSlice {
  shareUrl: string | null;
  shareCopied: boolean;
  copyShareLink(): Promise<void>;
  /** A share link typed into the address bar (hashchange). */
  openLink(hash: string): void;
}

/** View settings, notices and the confirm dialog. */
export interface UiSlice {
  logY: boolean;
  smoothing: number;
  temperature: number;
  /** Sampling filters of the sample panel: top-k (0 = off) and top-p (1 = off). */
  topK: number;
  topP: number;
  /** Sample with MTP speculative decoding (models with an MTP module). */
  speculative: boolean;
  prompt: string;
  /** The seed field of the sample panel: empty draws a fresh seed for each sample asked for. */
  sampleSeed: string;
  banners: Banner[];
  confirm: ConfirmRequest | null;
  setTemperature(t: number): void;
  setSampling(p: { topK?: number; topP?: number; speculative?: boolean }): void;
  setPrompt(p: string): void;
  setSampleSeed(text: string): void;
  setLogY(on: boolean): void;
  setSmoothing(s: number): void;
  answerConfirm(yes: boolean): void;
  reportError(err: unknown, title?: string): void;
  dismissBanner(id: number): void;
}

export type LabState = SessionSlice &
  ConfigSlice &
  RunSlice &
  JobsSlice &
  HistorySlice &
  FilesSlice &
  ShareSlice &
  UiSlice;
