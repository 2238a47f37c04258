// Page state (zustand) and the actions that drive the lab worker. Components read slices of this
// store and call its actions; they never talk to the worker themselves.
//
// Run lifecycle:
//   idle ──Start──▶ starting ──▶ training ──(last step)──▶ done
//                      │          │   ▲  ╲
//                    Stop       Pause Start ╲ device lost ──▶ lost ──Continue──▶ training
//                      ▼          ▼   │      ╲ other error ──▶ failed
//                   stopped ◀─Stop─ paused ──Step──▶ paused
// Training runs in chunks that end on eval steps (train(…, {maxSteps})); between chunks the
// page asks for a text sample. Metrics arrive in batches from the worker and are folded into the
// run's record and chart columns at most once per animation frame. Every run is kept in IndexedDB.
// Inspections that need the lab to themselves (an attention pattern, quantization statistics) run
// at once when no training is going, or else between two chunks: the page pauses the lab, runs
// them, and carries on training.

import * as Comlink from 'comlink';
import { create } from 'zustand';
import type {
  Checkpoint,
  DecodeStats,
  DistillPoint,
  DistillRequest,
  DistillResult,
  LiveChange,
  RunInfo,
  RunSummary,
  StepMetrics,
} from '../lab/api';
import type { QuantLayerStats } from '../lowp/stats';
import { FIELDS, findField, type RunConfig } from '../config';
import { totalSteps } from '../run/schedule';
import { PRESETS, findPreset } from '../config';
import { exportRunJson, importRunJson, type RunRecord } from '../lab/runfile';
import { DEFAULT_PRESET, configDiff, decodeLink, encodeLink, type DecodedLink, type Panel } from '../lab/share';
import { MetricColumns } from './columns';
import {
  draftDiff,
  draftFromConfig,
  draftWith,
  evaluateDraft,
  getPath,
  parseSeed,
  type Draft,
  type DraftEval,
} from './draft';
import { download } from './download';
import { startLabWorker, WorkerCrashedError, type LabClient } from './lab-client';
import { describeError, errName, isDeviceLost } from './errors';
import { RunPersistence, type RunStoreLike } from './persist';
import { fileSafe, newRunId, nextRunName, sortRuns } from './runs';

export type Phase =
  | 'connecting' // asking the worker for a GPU
  | 'unavailable' // no WebGPU here (the CPU reference can be chosen)
  | 'idle' // ready, no run in the worker
  | 'starting' // building model, data and optimizer
  | 'training'
  | 'pausing'
  | 'paused'
  | 'stepping' // one single step
  | 'stopping'
  | 'done'
  | 'stopped'
  | 'failed'
  | 'lost'; // the GPU device was lost: paused, data kept, can continue from a checkpoint

/** Phases with a run in the worker that live settings apply to (others edit the next run). */
export const RUN_ACTIVE: ReadonlySet<Phase> = new Set([
  'starting',
  'training',
  'pausing',
  'paused',
  'stepping',
  'stopping',
  'lost',
]);
/** Phases in which Start creates a new run. */
export const CAN_START: ReadonlySet<Phase> = new Set(['idle', 'done', 'stopped', 'failed']);
/** Phases in which the current run can be inspected (attention, quantization); while training, between chunks. */
export const CAN_INSPECT: ReadonlySet<Phase> = new Set(['training', 'paused', 'done', 'stopped']);
/** Phases in which Stop ends the run. */
export const CAN_STOP: ReadonlySet<Phase> = new Set(['starting', 'training', 'pausing', 'paused', 'lost']);

export const NO_WEBGPU_MESSAGE =
  'This browser did not provide WebGPU, which v3lab uses to train on your GPU. WebGPU is available in ' +
  'Chrome and Edge 113+, Safari 26+, and Firefox 141+ on Windows. On Linux, Chrome needs the ' +
  '--enable-unsafe-webgpu flag (or chrome://flags → "Unsafe WebGPU Support").';

/** Presets the slow CPU reference can run. */
export const isMicroPreset = (name: string) => name.startsWith('micro');

export const SAMPLE_LENGTH = 120;
export const SAMPLES_SHOWN = 4;

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
  loss: number | null;
  valLoss: number | null;
  tokensPerS: number | null;
  etaS: number | null;
}

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

const NO_PROGRESS: Progress = { step: 0, total: null, loss: null, valLoss: null, tokensPerS: null, etaS: null };

export interface LabState {
  phase: Phase;
  adapter: string | null;
  backend: 'webgpu' | 'cpu' | null;
  features: string[];

  // The config being edited (the next run, or the live settings of the current one).
  presetName: string;
  seedText: string;
  draft: Draft;
  evaluated: DraftEval;
  seedError: string | null;
  presetError: string | null;
  hide: Panel[];

  // The current run (also in `runs`); its metrics arrays are appended in place and `version` bumps.
  run: RunRecord | null;
  info: RunInfo | null;
  columns: MetricColumns | null;
  version: number;
  progress: Progress;
  sampling: boolean;

  // Inspections of the current run's model (cleared when a new run starts).
  attention: AttentionView | null;
  attentionError: string | null;
  quant: QuantView | null;
  quantError: string | null;
  inspecting: Inspection | null;

  // History.
  runs: RunRecord[];
  runsVersion: number;
  baselineId: string | null;
  overlayIds: string[];

  // View settings.
  logY: boolean;
  smoothing: number;
  temperature: number;
  /** Sampling filters of the sample panel: top-k (0 = off) and top-p (1 = off). */
  topK: number;
  topP: number;
  /** Sample with MTP speculative decoding (models with an MTP module). */
  speculative: boolean;
  prompt: string;
  /** The decoding readout: the latest plain and speculative samples' speed (and acceptance). */
  decoding: { plain: DecodeStats | null; speculative: DecodeStats | null };
  comparing: boolean;

  banners: Banner[];
  confirm: ConfirmRequest | null;
  shareUrl: string | null;
  shareCopied: boolean;

  boot(): Promise<void>;
  useCpu(): Promise<void>;
  setPreset(name: string): void;
  setSeed(text: string): void;
  setField(path: string, text: string): void;
  commitField(path: string): Promise<void>;
  loadTextFile(file: File): Promise<void>;
  start(): Promise<void>;
  pause(): Promise<void>;
  singleStep(): Promise<void>;
  stop(): Promise<void>;
  reset(): Promise<void>;
  continueFromCheckpoint(): Promise<void>;
  sampleNow(): Promise<void>;
  /** Attention probabilities of one layer/head on `text` (≤ seq_len characters of the vocabulary). */
  inspectAttention(text: string, layer: number, head: number): Promise<void>;
  /** Quantization statistics of the block weights under the run's precision settings. */
  inspectPrecision(): Promise<void>;
  /** Start the run's config and seed again with precision.linear = f32, overlaid on the run. */
  runF32Twin(id: string): Promise<void>;
  setTemperature(t: number): void;
  setSampling(p: { topK?: number; topP?: number; speculative?: boolean }): void;
  /** Sample the same prompt plainly and speculatively, filling both rows of the decoding readout. */
  compareDecoding(): Promise<void>;
  /** The distillation-vs-RL experiment (its own view): points as they are measured, then the result. */
  distill: {
    status: 'idle' | 'running' | 'done' | 'failed';
    points: DistillPoint[];
    result: DistillResult | null;
    progress: string;
    error: string | null;
  };
  runDistill(req: DistillRequest): Promise<void>;
  /** The current run's weights (for the Hugging Face export panel). */
  checkpointForExport(): Promise<Checkpoint>;
  setPrompt(p: string): void;
  setLogY(on: boolean): void;
  setSmoothing(s: number): void;
  setBaseline(id: string): void;
  toggleOverlay(id: string): void;
  deleteRun(id: string): void;
  exportRun(id: string): void;
  exportWeights(id: string): Promise<void>;
  importFile(file: File): Promise<void>;
  copyShareLink(): Promise<void>;
  answerConfirm(yes: boolean): void;
  /** A share link typed into the address bar (hashchange). */
  openLink(hash: string): void;
  reportError(err: unknown, title?: string): void;
  dismissBanner(id: number): void;
}

function presetConfig(name: string): RunConfig {
  return (findPreset(name) ?? findPreset(DEFAULT_PRESET) ?? PRESETS[0]).config;
}

// ---------------------------------------------------------------------------------------------
// Worker and run bookkeeping that is not rendered lives outside the state.

let client: LabClient | null = null;
let makeClient: () => LabClient = startLabWorker;
/** Identifies the current run; results and metrics from older runs are ignored. */
let runToken = 0;
let pauseRequested = false;
let stopRequested = false;
let sampleRequested = false;
/** Resolves when the current training loop has ended (paused, stopped, done or failed). */
let loopDone: Promise<void> = Promise.resolve();
/** Metrics received but not yet folded into the state (flushed once per frame). */
let pending: StepMetrics[] = [];
let flushScheduled = false;
/** Wall-clock anchor of this training segment, for the ETA. */
let rateAnchor: { step: number; time: number } | null = null;
let lastRunsBump = 0;
/** What to do when the confirm dialog is answered yes. */
let confirmAction: (() => void | Promise<void>) | null = null;
let bannerSeq = 0;
let persistence: RunPersistence | null = null;
/** The end-of-run saves (status, checkpoint) in flight; a new run waits for them. */
let finishing: Promise<void> = Promise.resolve();

let openRunStore: (() => Promise<RunStoreLike>) | undefined;
/** Inspections waiting for the current training chunk to end. */
let jobs: Array<() => Promise<void>> = [];
/** Lab work started while no training loop runs (inspections, samples on demand); training waits for it. */
let exclusive: Promise<void> = Promise.resolve();
/** The lowp run whose f32 twin the next createRun builds, and the twin once it is built. */
let pendingTwin: string | null = null;
let twin: { token: number; sourceId: string } | null = null;

/** For tests: build the store's worker client some other way. */
export function setLabClientFactory(factory: () => LabClient): void {
  makeClient = factory;
}

/** For tests: keep the run history somewhere other than IndexedDB. */
export function setRunStoreOpener(open: () => Promise<RunStoreLike>): void {
  openRunStore = open;
  persistence = null;
}

function ensureClient(): LabClient {
  client ??= makeClient();
  return client;
}

function dropClient(): void {
  client?.dispose();
  client = null;
}

const initialDraft = draftFromConfig(presetConfig(DEFAULT_PRESET));

export const useLab = create<LabState>()((set, get) => {
  const store = () => (persistence ??= new RunPersistence((err, what) => get().reportError(err, what), openRunStore));

  function banner(kind: Banner['kind'], title: string, lines: string[] = []): number {
    const id = ++bannerSeq;
    set((s) => ({
      banners: [...s.banners.filter((b) => !(b.title === title && b.kind === kind)), { id, kind, title, lines }],
    }));
    return id;
  }

  function bumpRuns(): void {
    lastRunsBump = performance.now();
    set((s) => ({ runsVersion: s.runsVersion + 1 }));
  }

  function setDraft(draft: Draft): void {
    set({ draft, evaluated: evaluateDraft(draft) });
  }

  function loadPresetDraft(name: string, keepText: string): Draft {
    return { ...draftFromConfig(presetConfig(name)), 'data.text': keepText };
  }

  // ---- metrics ----

  function computeProgress(run: RunRecord, info: RunInfo | null): Progress {
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
    const now = performance.now();
    if (rateAnchor && step > rateAnchor.step && now > rateAnchor.time) {
      etaS = ((total - step) * (now - rateAnchor.time)) / 1000 / (step - rateAnchor.step);
    } else if (last && last.tokens_per_s > 0) {
      const tokensPerStep = run.config.data.batch_size * run.config.data.seq_len;
      etaS = ((total - step) * tokensPerStep) / last.tokens_per_s;
    }
    if (step >= total) etaS = 0;
    return { step, total, loss: last?.loss ?? null, valLoss, tokensPerS: last?.tokens_per_s ?? null, etaS };
  }

  function flushMetrics(): void {
    flushScheduled = false;
    const { run, columns, info } = get();
    if (!pending.length || !run || !columns) {
      pending = [];
      return;
    }
    for (const m of pending) {
      run.metrics.push(m);
      columns.push(m);
    }
    const last = pending[pending.length - 1];
    pending = [];
    rateAnchor ??= { step: last.step, time: performance.now() };
    set((s) => ({ version: s.version + 1, progress: computeProgress(run, info) }));
    store().saveLater(run);
    if (performance.now() - lastRunsBump > 1000) bumpRuns();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    // Once per frame; the timeout covers hidden tabs, where animation frames stop.
    const id = setTimeout(flushMetrics, 250);
    requestAnimationFrame(() => {
      clearTimeout(id);
      if (flushScheduled) flushMetrics();
    });
  }

  function metricsCallback(token: number) {
    return Comlink.proxy((batch: StepMetrics[]) => {
      if (token !== runToken || batch.length === 0) return;
      pending.push(...batch);
      scheduleFlush();
    });
  }

  // ---- run lifecycle ----

  async function saveStatus(run: RunRecord, status: RunRecord['status']): Promise<void> {
    run.status = status;
    bumpRuns();
    await store().saveNow(run);
  }

  async function saveCheckpoint(run: RunRecord): Promise<void> {
    if (!client) return;
    try {
      const bytes = await client.call((lab) => lab.checkpointSafetensors());
      await store().putCheckpoint(run.id, bytes);
    } catch (err) {
      get().reportError(err, `Could not save the weights of ${run.name}`);
    }
  }

  async function endRun(token: number, status: 'done' | 'stopped'): Promise<void> {
    const run = get().run;
    if (!run || token !== runToken) return;
    flushMetrics();
    set({ phase: status, progress: computeProgress(run, get().info) });
    if (status === 'done' && twin?.token === token) {
      const ids = [twin.sourceId, run.id];
      set((s) => ({ overlayIds: [...s.overlayIds.filter((x) => !ids.includes(x)), ...ids] }));
      twin = null;
    }
    const work = (async () => {
      await saveStatus(run, status);
      await saveCheckpoint(run);
    })();
    finishing = work;
    await work;
  }

  async function enterPaused(token: number): Promise<void> {
    const run = get().run;
    if (!run || token !== runToken) return;
    flushMetrics();
    set({ phase: 'paused' });
    await saveStatus(run, 'paused');
  }

  async function onTrainError(token: number, err: unknown): Promise<void> {
    if (token !== runToken) return;
    flushMetrics();
    const run = get().run;
    if (isDeviceLost(err)) {
      set({ phase: 'lost' });
      banner('lost', 'The GPU device was lost. The run is paused and its data is kept.', [describeError(err)]);
      if (run) await saveStatus(run, 'paused');
      return;
    }
    if (err instanceof WorkerCrashedError) dropClient();
    set({ phase: 'failed' });
    banner('error', `The run failed: ${describeError(err)}`);
    if (run) await saveStatus(run, 'failed');
  }

  /** Sample once (speculatively when asked and the model has MTP); false when it failed. */
  async function takeSample(token: number, speculative = get().speculative): Promise<boolean> {
    const { run, hide, temperature, topK, topP, prompt, info } = get();
    if (!run || !client || hide.includes('samples')) return false;
    const step = get().progress.step;
    const spec = speculative && (info?.config.model.num_nextn_predict_layers ?? 0) > 0;
    set({ sampling: true });
    try {
      const res = await client.call((lab) =>
        lab.sample({
          prompt,
          length: SAMPLE_LENGTH,
          temperature,
          topK,
          topP,
          speculative: spec,
          seed: (run.seed + step) >>> 0,
        }),
      );
      if (token !== runToken) return false;
      run.samples.push({ step, temperature, text: res.text });
      set((s) => ({ version: s.version + 1, decoding: { ...s.decoding, [res.stats.mode]: res.stats } }));
      store().saveLater(run);
      return true;
    } catch (err) {
      if (token === runToken) get().reportError(err, 'Could not sample');
      return false;
    } finally {
      set({ sampling: false });
    }
  }

  /** Train the current run in chunks ending on eval steps, sampling between chunks. */
  async function trainLoop(token: number): Promise<void> {
    const c = client;
    const run = get().run;
    if (!c || !run) return;
    pauseRequested = false;
    sampleRequested = false;
    rateAnchor = null;
    set({ phase: 'training' });
    await saveStatus(run, 'running');
    for (;;) {
      if (token !== runToken) return;
      if (stopRequested) return endRun(token, 'stopped');
      await exclusive; // an inspection started while paused ends first
      await runJobs(); // inspections asked for while no chunk was running
      if (pauseRequested) return enterPaused(token);
      const info = get().info;
      const step = get().progress.step;
      const every = info?.config?.train.eval_every ?? run.config.train.eval_every;
      const maxSteps = every - (step % every);
      let summary: RunSummary;
      try {
        summary = await c.call((lab) => lab.train(metricsCallback(token), { maxSteps }));
      } catch (err) {
        return onTrainError(token, err);
      }
      if (token !== runToken) return;
      flushMetrics();
      const inspected = jobs.length > 0; // the chunk may have been paused for these
      await runJobs();
      if (summary.reason === 'finished') {
        await takeSample(token);
        return endRun(token, 'done');
      }
      if (summary.reason === 'stopped' || stopRequested) return endRun(token, 'stopped');
      if (summary.reason === 'max-steps' || sampleRequested) {
        sampleRequested = false;
        await takeSample(token);
        rateAnchor = null; // sampling time is not training time
        continue;
      }
      if (inspected && !pauseRequested) {
        rateAnchor = null;
        continue;
      }
      return enterPaused(token);
    }
  }

  function runLoop(token: number): Promise<void> {
    loopDone = trainLoop(token)
      .catch((err) => get().reportError(err))
      .finally(() => {
        // Inspections queued as the loop ended run now, in order.
        const left = jobs;
        jobs = [];
        for (const job of left) exclusively(job);
      });
    return loopDone;
  }

  async function runJobs(): Promise<void> {
    while (jobs.length) await jobs.shift()!();
  }

  /** Run lab work after any other such work, while no training loop is running. */
  function exclusively(job: () => Promise<void>): Promise<void> {
    const work = exclusive.then(job);
    exclusive = work.catch(() => {});
    return work;
  }

  /** Run an inspection now if no training is going, else between chunks (pausing the lab for it). */
  function whenLabFree(job: () => Promise<void>): Promise<void> {
    const phase = get().phase;
    if (phase !== 'training' && phase !== 'pausing') return exclusively(job);
    return new Promise<void>((resolve) => {
      jobs.push(() => job().finally(resolve));
      if (phase === 'training') void client?.call((lab) => lab.pause()).catch(() => {});
    });
  }

  /** Build a new run in the worker from the validated config; returns its token or null. */
  async function createRun(): Promise<number | null> {
    const s = get();
    const config = s.evaluated.config;
    const seed = parseSeed(s.seedText);
    if (!config || 'error' in seed || s.presetError || !CAN_START.has(s.phase)) return null;
    const c = client;
    if (!c) return null;
    const token = ++runToken;
    const twinOf = pendingTwin;
    pendingTwin = null;
    pauseRequested = stopRequested = sampleRequested = false;
    pending = [];
    set({ phase: 'starting', attention: null, attentionError: null, quant: null, quantError: null });
    await finishing;
    await exclusive;
    const setVals: Record<string, string | number | boolean> = configDiff(presetConfig(s.presetName), config);
    if (config.data.corpus === 'text') setVals['data.text'] = config.data.text;
    let info: RunInfo;
    try {
      info = await c.call((lab) => lab.createRun({ preset: s.presetName, seed: seed.seed, set: setVals }));
    } catch (err) {
      if (token !== runToken) return null;
      if (err instanceof WorkerCrashedError) dropClient();
      set({ phase: 'idle' });
      banner('error', `Could not start the run: ${describeError(err)}`);
      return null;
    }
    if (token !== runToken) return null;
    // Errors from earlier attempts to start are now beside the point.
    set((st) => ({ banners: st.banners.filter((b) => !b.title.startsWith('Could not start')) }));
    const runs = get().runs;
    const run: RunRecord = {
      id: newRunId(),
      name: nextRunName(runs),
      createdAt: Date.now(),
      preset: info.preset,
      seed: info.seed,
      config: info.config ?? config,
      metrics: [],
      changes: [],
      samples: [],
      status: 'running',
      adapter: info.adapter,
      backend: info.backend,
    };
    set({
      run,
      info,
      columns: new MetricColumns(),
      version: get().version + 1,
      runs: [...runs, run],
      adapter: info.adapter || get().adapter,
      progress: { ...NO_PROGRESS, total: info.totalSteps },
    });
    if (twinOf && runs.some((r) => r.id === twinOf)) {
      // Compared against its lowp source from the start: baseline for the diff, overlaid on the charts.
      twin = { token, sourceId: twinOf };
      set((s) => ({
        baselineId: twinOf,
        overlayIds: s.overlayIds.includes(twinOf) ? s.overlayIds : [...s.overlayIds, twinOf],
      }));
    }
    bumpRuns();
    await store().saveNow(run);
    if (stopRequested) {
      await endRun(token, 'stopped');
      return null;
    }
    return token;
  }

  /** Stop a training run and wait until it has halted (for Reset and non-live edits). */
  async function haltRun(): Promise<void> {
    const { phase } = get();
    if (phase === 'training' || phase === 'pausing' || phase === 'stopping') {
      stopRequested = true;
      set({ phase: 'stopping' });
      await client?.call((lab) => lab.stop()).catch(() => {});
      await loopDone;
    } else if (phase === 'paused' || phase === 'lost') {
      await endRun(runToken, 'stopped');
    } else if (phase === 'stepping') {
      await loopDone;
      await endRun(runToken, 'stopped');
    }
  }

  async function resetRun(): Promise<void> {
    await haltRun();
    await finishing;
    await exclusive;
    runToken++;
    try {
      await client?.call((lab) => lab.reset());
    } catch (err) {
      get().reportError(err, 'Could not reset the run');
    }
    pending = [];
    set({
      run: null,
      info: null,
      columns: null,
      attention: null,
      attentionError: null,
      quant: null,
      quantError: null,
      version: get().version + 1,
      progress: NO_PROGRESS,
      phase: get().phase === 'unavailable' ? 'unavailable' : client ? 'idle' : get().phase,
    });
  }

  function askConfirm(req: ConfirmRequest, action: () => void | Promise<void>): void {
    confirmAction = action;
    set({ confirm: req });
  }

  /** Apply a decoded share link to the editor (preset, seed, values, hidden panels). */
  function applyLink(link: DecodedLink): void {
    const { state, problems, migrated } = link;
    const draft = draftWith(loadPresetDraft(state.preset, get().draft['data.text'] ?? ''), state.set);
    set({
      presetName: state.preset,
      seedText: String(state.seed),
      seedError: null,
      hide: state.hide,
      presetError: null,
    });
    setDraft(draft);
    checkPresetForBackend();
    if (problems.length) banner('error', "This link has problems; the preset's values are used for these:", problems);
    if (migrated.length) banner('info', 'This link is from an older version of the lab and was updated:', migrated);
  }

  function checkPresetForBackend(): void {
    const { backend, presetName } = get();
    set({
      presetError: backend === 'cpu' && !isMicroPreset(presetName) ? 'the CPU reference runs micro presets only' : null,
    });
  }

  function linkHash(): string {
    const s = get();
    const seed = parseSeed(s.seedText);
    return encodeLink({
      preset: s.presetName,
      seed: 'seed' in seed ? seed.seed : 0,
      set: draftDiff(presetConfig(s.presetName), s.draft),
      hide: s.hide,
    });
  }

  async function connect(backend: 'webgpu' | 'cpu'): Promise<void> {
    set({ phase: 'connecting' });
    const c = ensureClient();
    try {
      const r = await c.call((lab) => lab.init({ backend }));
      set({ phase: 'idle', adapter: r.adapter, backend: r.backend, features: r.features });
      checkPresetForBackend();
    } catch (err) {
      if (err instanceof WorkerCrashedError) dropClient();
      if (
        backend === 'webgpu' &&
        (errName(err) === 'GpuUnavailableError' || typeof navigator === 'undefined' || !('gpu' in navigator))
      ) {
        set({ phase: 'unavailable', adapter: null, backend: null });
      } else {
        set({ phase: 'unavailable', adapter: null, backend: null });
        banner('error', `Could not start the ${backend === 'cpu' ? 'CPU reference' : 'GPU'}: ${describeError(err)}`);
      }
    }
  }

  /** After the worker crashed (and was dropped), start a fresh one on the same backend. */
  async function reconnectIfNeeded(): Promise<void> {
    const { phase, backend } = get();
    if (client || !backend || !CAN_START.has(phase)) return;
    await connect(backend);
  }

  return {
    phase: 'connecting',
    adapter: null,
    backend: null,
    features: [],
    presetName: DEFAULT_PRESET,
    seedText: '0',
    draft: initialDraft,
    evaluated: evaluateDraft(initialDraft),
    seedError: null,
    presetError: null,
    hide: [],
    run: null,
    info: null,
    columns: null,
    version: 0,
    progress: NO_PROGRESS,
    sampling: false,
    attention: null,
    attentionError: null,
    quant: null,
    quantError: null,
    inspecting: null,
    runs: [],
    runsVersion: 0,
    baselineId: null,
    overlayIds: [],
    logY: false,
    smoothing: 0,
    temperature: 0.8,
    topK: 0,
    topP: 1,
    speculative: false,
    prompt: '',
    decoding: { plain: null, speculative: null },
    comparing: false,
    distill: { status: 'idle', points: [], result: null, progress: '', error: null },
    banners: [],
    confirm: null,
    shareUrl: null,
    shareCopied: false,

    async boot() {
      // The link first (so the panels show it at once), then history, then the GPU.
      if (typeof location !== 'undefined' && location.hash.length > 1) applyLink(decodeLink(location.hash));
      const listed = store()
        .list()
        .then(async (runs) => {
          // Runs that were training when the page closed cannot continue: mark them stopped.
          for (const r of runs) {
            if (r.status === 'running' || r.status === 'paused') {
              r.status = 'stopped';
              await store().saveNow(r);
            }
          }
          set((s) => ({ runs: sortRuns([...runs.filter((r) => !s.runs.some((x) => x.id === r.id)), ...s.runs]) }));
          bumpRuns();
        });
      await Promise.all([listed, connect('webgpu')]);
    },

    async useCpu() {
      if (RUN_ACTIVE.has(get().phase)) return;
      await connect('cpu');
      // The CPU reference runs micro presets only: move a browser-sized pick to its CI-sized twin.
      const from = get().presetName;
      if (!isMicroPreset(from)) {
        get().setPreset('micro-v3');
        banner(
          'info',
          `The CPU reference runs micro presets only, so the lab switched from ${from} to micro-v3 (the same V3 parts at CI size).`,
        );
      }
    },

    setPreset(name) {
      const apply = () => {
        set({ presetName: name });
        setDraft(loadPresetDraft(name, get().draft['data.text'] ?? ''));
        checkPresetForBackend();
      };
      if (RUN_ACTIVE.has(get().phase)) {
        askConfirm(
          {
            testId: 'confirm-reset',
            title: `Load preset ${name}?`,
            body: 'A new preset needs a new model: the current run will be stopped (it stays in the runs table) and reset.',
            confirmLabel: 'Stop and reset',
          },
          async () => {
            await resetRun();
            apply();
          },
        );
        return;
      }
      apply();
    },

    setSeed(text) {
      const apply = () => {
        const r = parseSeed(text);
        set({ seedText: text, seedError: 'error' in r ? r.error : null });
      };
      if (RUN_ACTIVE.has(get().phase)) {
        askConfirm(
          {
            testId: 'confirm-reset',
            title: 'Change the seed?',
            body: 'A new seed needs a new model: the current run will be stopped (it stays in the runs table) and reset.',
            confirmLabel: 'Stop and reset',
          },
          async () => {
            await resetRun();
            apply();
          },
        );
        return;
      }
      apply();
    },

    setField(path, text) {
      const f = findField(path);
      if (!f) return;
      const apply = () => setDraft({ ...get().draft, [path]: text });
      if (!f.live && RUN_ACTIVE.has(get().phase)) {
        askConfirm(
          {
            testId: 'confirm-reset',
            title: `Change ${path}?`,
            body: `${path} cannot change during a run (it needs a new model or new data). The current run will be stopped (it stays in the runs table) and reset.`,
            confirmLabel: 'Stop and reset',
          },
          async () => {
            await resetRun();
            apply();
          },
        );
        return;
      }
      apply();
    },

    async commitField(path) {
      const f = findField(path);
      const { info, run, phase, evaluated, draft } = get();
      if (!f?.live || !info || !run || !RUN_ACTIVE.has(phase) || !client) return;
      if (evaluated.errors[path]) return;
      const raw = draft[path];
      const current = info.config ? getPath(info.config, path) : getPath(run.config, path);
      if (String(current) === raw) return;
      let change: LiveChange;
      try {
        change = await client.call((lab) => lab.setLive(path, raw));
      } catch (err) {
        get().reportError(err, `Could not change ${path}`);
        return;
      }
      if (get().run !== run) return;
      run.changes.push(change);
      const [sec, key] = path.split('.');
      const cfg = structuredClone(get().info?.config ?? run.config) as unknown as Record<
        string,
        Record<string, unknown>
      >;
      cfg[sec][key] = change.value;
      set((s) => ({
        info: s.info ? { ...s.info, config: cfg as unknown as RunConfig } : s.info,
        version: s.version + 1,
      }));
      store().saveLater(run);
    },

    async loadTextFile(file) {
      const MAX = FIELDS.find((f) => f.path === 'data.text');
      const max = MAX && MAX.kind === 'string' ? MAX.maxLength : Infinity;
      // A character is at least one byte of UTF-8: a file this big cannot fit; don't even read it.
      if (file.size > max * 4) {
        set({
          evaluated: {
            ...get().evaluated,
            config: null,
            errors: {
              ...get().evaluated.errors,
              'data.text': `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${max.toLocaleString('en-US')} characters`,
            },
          },
        });
        return;
      }
      const text = await file.text();
      get().setField('data.text', text);
    },

    async start() {
      const { phase } = get();
      if (phase === 'paused') {
        await runLoop(runToken);
        return;
      }
      await reconnectIfNeeded();
      const token = await createRun();
      if (token !== null) await runLoop(token);
    },

    async pause() {
      if (get().phase !== 'training' || !client) return;
      pauseRequested = true;
      set({ phase: 'pausing' });
      try {
        await client.call((lab) => lab.pause());
      } catch (err) {
        get().reportError(err, 'Could not pause');
      }
    },

    async singleStep() {
      const { phase } = get();
      let token = runToken;
      if (CAN_START.has(phase)) {
        await reconnectIfNeeded();
        const t = await createRun();
        if (t === null) return;
        token = t;
        await enterPaused(token);
      } else if (phase !== 'paused') return;
      const c = client;
      const run = get().run;
      if (!c || !run) return;
      set({ phase: 'stepping' });
      const work = (async () => {
        await exclusive;
        let m: StepMetrics;
        try {
          m = await c.call((lab) => lab.step());
        } catch (err) {
          return onTrainError(token, err);
        }
        if (token !== runToken) return;
        pending.push(m);
        rateAnchor = null;
        flushMetrics();
        const total = get().info?.totalSteps ?? totalSteps(run.config);
        if (m.step >= total) return endRun(token, 'done');
        set({ phase: 'paused' });
      })();
      loopDone = work;
      await work;
    },

    async stop() {
      const { phase } = get();
      if (!CAN_STOP.has(phase)) return;
      if (phase === 'starting') {
        stopRequested = true;
        return;
      }
      if (phase === 'paused' || phase === 'lost') {
        await endRun(runToken, 'stopped');
        return;
      }
      stopRequested = true;
      set({ phase: 'stopping' });
      try {
        await client?.call((lab) => lab.stop());
      } catch (err) {
        get().reportError(err, 'Could not stop');
      }
    },

    async reset() {
      await resetRun();
    },

    async continueFromCheckpoint() {
      const c = client;
      const run = get().run;
      if (get().phase !== 'lost' || !c || !run) return;
      set((s) => ({ banners: s.banners.filter((b) => b.kind !== 'lost') }));
      const token = runToken;
      try {
        const ckpt = await c.call((lab) => lab.lastCheckpoint());
        if (!ckpt) {
          banner(
            'error',
            'There is no checkpoint to continue from yet (one is taken every train.checkpoint_every steps). Start the run again.',
          );
          await endRun(token, 'stopped');
          return;
        }
        const info = await c.call((lab) => lab.restore(ckpt));
        if (token !== runToken) return;
        // Metrics after the checkpoint will be produced again: drop them.
        const keep = run.metrics.filter((m) => m.step <= info.step);
        run.metrics.length = 0;
        run.metrics.push(...keep);
        set((s) => ({
          info,
          columns: MetricColumns.from(run.metrics),
          version: s.version + 1,
          progress: computeProgress(run, info),
        }));
      } catch (err) {
        if (isDeviceLost(err)) {
          set({ phase: 'lost' });
          banner('lost', 'The GPU device is still lost.', [describeError(err)]);
        } else {
          set({ phase: 'failed' });
          banner('error', `Could not continue from the checkpoint: ${describeError(err)}`);
          await saveStatus(run, 'failed');
        }
        return;
      }
      await runLoop(token);
    },

    async sampleNow() {
      const { phase, info } = get();
      if (!info || get().sampling) return;
      if (phase === 'training') {
        sampleRequested = true;
        await client?.call((lab) => lab.pause()).catch(() => {});
        return;
      }
      if (phase === 'paused' || phase === 'done' || phase === 'stopped') {
        const token = runToken;
        await exclusively(async () => void (await takeSample(token)));
      }
    },

    async inspectAttention(text, layer, head) {
      const { run, phase, inspecting } = get();
      const c = client;
      if (!run || !c || inspecting || !CAN_INSPECT.has(phase)) return;
      set({ inspecting: 'attention', attentionError: null });
      await whenLabFree(async () => {
        try {
          const r = await c.call((lab) => lab.attentionPattern({ text, layer, head }));
          if (get().run === run)
            set({
              attention: { runId: run.id, step: get().progress.step, layer, head, tokens: r.tokens, probs: r.probs },
            });
        } catch (err) {
          if (get().run === run) set({ attentionError: describeError(err) });
        }
      });
      set({ inspecting: null });
    },

    async inspectPrecision() {
      const { run, phase, inspecting } = get();
      const c = client;
      if (!run || !c || inspecting || !CAN_INSPECT.has(phase)) return;
      set({ inspecting: 'precision', quantError: null });
      await whenLabFree(async () => {
        try {
          const stats = await c.call((lab) => lab.precisionStats());
          const precision = structuredClone((get().info?.config ?? run.config).precision);
          if (get().run === run) set({ quant: { runId: run.id, step: get().progress.step, precision, stats } });
        } catch (err) {
          if (get().run === run) set({ quantError: describeError(err) });
        }
      });
      set({ inspecting: null });
    },

    async runF32Twin(id) {
      const src = get().runs.find((r) => r.id === id);
      if (!src || src.config.precision.linear !== 'lowp' || !CAN_START.has(get().phase)) return;
      const cfg = structuredClone(src.config);
      cfg.precision.linear = 'f32';
      set({ presetName: src.preset, seedText: String(src.seed), seedError: null });
      setDraft(draftFromConfig(cfg));
      checkPresetForBackend();
      if (!get().evaluated.config || get().presetError) {
        banner(
          'error',
          `Could not set up the f32 twin of ${src.name}: ${get().presetError ?? Object.values(get().evaluated.errors).join('; ')}`,
        );
        return;
      }
      pendingTwin = id;
      await get().start();
      pendingTwin = null;
    },

    setTemperature(t) {
      set({ temperature: t });
    },
    setSampling(p) {
      set(p);
    },
    async runDistill(req) {
      const { phase, distill } = get();
      if (distill.status === 'running') return;
      if (RUN_ACTIVE.has(phase)) {
        banner('error', 'Distillation needs the GPU to itself: stop or finish the current run first.');
        return;
      }
      const c = client;
      if (!c) {
        banner('error', 'The lab is not connected to a GPU yet.');
        return;
      }
      set({ distill: { status: 'running', points: [], result: null, progress: 'starting…', error: null } });
      const onPoint = Comlink.proxy((p: DistillPoint) =>
        set((s) => ({ distill: { ...s.distill, points: [...s.distill.points, p] } })),
      );
      const onProgress = Comlink.proxy((what: string) => set((s) => ({ distill: { ...s.distill, progress: what } })));
      try {
        const result = await c.call((lab) => lab.distill(req, onPoint, onProgress));
        set((s) => ({ distill: { ...s.distill, status: 'done', result, progress: '' } }));
      } catch (err) {
        if (err instanceof WorkerCrashedError) dropClient();
        set((s) => ({ distill: { ...s.distill, status: 'failed', error: describeError(err), progress: '' } }));
      }
    },
    async checkpointForExport() {
      const c = client;
      if (!c || !get().info) throw new Error('There is no run to export.');
      return c.call((lab) => lab.checkpoint({ weightsOnly: true }));
    },
    async compareDecoding() {
      const { phase, info, sampling, comparing } = get();
      if (!info || sampling || comparing || !['paused', 'done', 'stopped'].includes(phase)) return;
      const token = runToken;
      set({ comparing: true });
      try {
        await exclusively(async () => {
          for (const speculative of [false, true]) {
            const ok = await takeSample(token, speculative);
            if (!ok) break;
          }
        });
      } finally {
        set({ comparing: false });
      }
    },
    setPrompt(p) {
      set({ prompt: p });
    },
    setLogY(on) {
      set({ logY: on });
    },
    setSmoothing(v) {
      set({ smoothing: v });
    },

    setBaseline(id) {
      set({ baselineId: id });
    },

    toggleOverlay(id) {
      set((s) => ({
        overlayIds: s.overlayIds.includes(id) ? s.overlayIds.filter((x) => x !== id) : [...s.overlayIds, id],
      }));
    },

    deleteRun(id) {
      const run = get().runs.find((r) => r.id === id);
      if (!run) return;
      if (get().run?.id === id && RUN_ACTIVE.has(get().phase)) {
        banner('info', `${run.name} is the current run: stop or reset it before deleting it.`);
        return;
      }
      askConfirm(
        {
          testId: 'confirm-delete',
          title: `Delete ${run.name}?`,
          body: 'Its config, metrics, samples and weights are removed from this browser. Export it first to keep a copy.',
          confirmLabel: 'Delete',
        },
        async () => {
          set((s) => ({
            runs: s.runs.filter((r) => r.id !== id),
            overlayIds: s.overlayIds.filter((x) => x !== id),
            baselineId: s.baselineId === id ? null : s.baselineId,
            ...(s.run?.id === id ? { run: null, info: null, columns: null, progress: NO_PROGRESS } : {}),
          }));
          bumpRuns();
          await store().delete(id);
        },
      );
    },

    exportRun(id) {
      const run = get().runs.find((r) => r.id === id);
      if (!run) return;
      try {
        download(`${fileSafe(run.name)}.v3lab.json`, exportRunJson(run), 'application/json');
      } catch (err) {
        get().reportError(err, `Could not export ${run.name}`);
      }
    },

    async exportWeights(id) {
      const run = get().runs.find((r) => r.id === id);
      if (!run) return;
      const bytes = await store().getCheckpoint(id);
      if (!bytes) {
        banner('info', `${run.name} has no saved weights (they are saved when a run finishes or is stopped).`);
        return;
      }
      download(`${fileSafe(run.name)}.safetensors`, bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
    },

    async importFile(file) {
      try {
        if (file.name.endsWith('.safetensors')) {
          const bytes = new Uint8Array(await file.arrayBuffer());
          const c = ensureClient();
          const head = await c.call((lab) => lab.inspectSafetensors(bytes));
          const run: RunRecord = {
            id: newRunId(),
            name: file.name.replace(/\.safetensors$/, ''),
            createdAt: Date.now(),
            preset: head.preset,
            seed: head.seed,
            config: head.config,
            metrics: [],
            changes: [],
            samples: [],
            status: 'stopped',
            adapter: 'imported weights',
            backend: 'webgpu',
          };
          set((s) => ({ runs: [...s.runs, run] }));
          bumpRuns();
          await store().saveNow(run);
          await store().putCheckpoint(run.id, bytes);
          banner('info', `Imported the weights in ${file.name} (step ${head.step}) as ${run.name}.`);
          return;
        }
        const run = importRunJson(await file.text());
        if (get().runs.some((r) => r.id === run.id)) {
          run.id = newRunId();
          run.name = `${run.name} (copy)`;
        }
        if (run.status === 'running' || run.status === 'paused') run.status = 'stopped';
        set((s) => ({ runs: sortRuns([...s.runs, run]) }));
        bumpRuns();
        await store().saveNow(run);
      } catch (err) {
        banner('error', `Could not import ${file.name}: ${describeError(err)}`);
      }
    },

    async copyShareLink() {
      const url = `${location.origin}${location.pathname}#${linkHash()}`;
      let copied = false;
      try {
        if (navigator.clipboard?.writeText) {
          await Promise.race([
            navigator.clipboard.writeText(url),
            new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000)),
          ]);
          copied = true;
        }
      } catch {
        copied = false;
      }
      set({ shareUrl: url, shareCopied: copied });
    },

    openLink(hash) {
      const link = decodeLink(hash);
      if (RUN_ACTIVE.has(get().phase)) {
        askConfirm(
          {
            testId: 'confirm-link',
            title: 'Open this link?',
            body: 'The link sets up a new run: the current run will be stopped (it stays in the runs table) and reset.',
            confirmLabel: 'Stop and open',
          },
          async () => {
            await resetRun();
            applyLink(link);
          },
        );
        return;
      }
      applyLink(link);
    },

    answerConfirm(yes) {
      const action = confirmAction;
      confirmAction = null;
      set({ confirm: null });
      if (yes && action) void Promise.resolve(action()).catch((err) => get().reportError(err));
    },

    reportError(err, title) {
      banner('error', title ? `${title}: ${describeError(err)}` : describeError(err));
    },

    dismissBanner(id) {
      set((s) => ({ banners: s.banners.filter((b) => b.id !== id) }));
    },
  };
});

/** Resolves once the end-of-run saves and every pending IndexedDB write have landed. */
export async function whenSaved(): Promise<void> {
  await finishing;
  await persistence?.flush();
}

/** The link (hash without '#') for the editor's current state. */
export function currentLinkHash(): string {
  const s = useLab.getState();
  const seed = parseSeed(s.seedText);
  return encodeLink({
    preset: s.presetName,
    seed: 'seed' in seed ? seed.seed : 0,
    set: draftDiff(presetConfig(s.presetName), s.draft),
    hide: s.hide,
  });
}
