// Page state (zustand) and the actions that drive the lab worker. Components read slices of
// this store and call its actions; they never talk to the worker themselves.
//
// Run lifecycle:  idle ──Train──▶ starting ──▶ training ──(last step)──▶ done
//                                   │            │  ▲
//                                 Stop         Pause Resume            Stop ──▶ stopped
//                                   ▼            ▼  │
//                                 stopped      paused
// Any worker error ends the run as 'failed' (metrics already shown stay) and the worker is
// replaced on the next Train, so a lost GPU device or a broken shader never wedges the page.

import * as Comlink from 'comlink';
import { create } from 'zustand';
import type { PresetInfo, RunInfo, RunSummary, StepMetrics } from '../lab/api';
import { DEFAULT_FORM, parseRunForm, type FormError, type FormField, type RunForm } from './form';
import { startLabWorker, type LabClient } from './lab-client';

export type Phase =
  | 'connecting' // asking the worker for a GPU
  | 'unavailable' // no WebGPU here: nothing can run
  | 'idle' // ready, no run yet
  | 'starting' // building model, data and optimizer
  | 'training'
  | 'pausing'
  | 'paused'
  | 'stopping'
  | 'done'
  | 'stopped'
  | 'failed';

/** Phases in which Train starts a new run. */
export const CAN_START: ReadonlySet<Phase> = new Set(['idle', 'done', 'stopped', 'failed']);
/** Phases with a run that Stop can end. */
export const CAN_STOP: ReadonlySet<Phase> = new Set(['starting', 'training', 'pausing', 'paused']);

export const NO_WEBGPU_MESSAGE =
  'v3lab needs WebGPU to train on your GPU, and this browser did not provide it. ' +
  'WebGPU is available in Chrome and Edge 113+, Safari 26+, and Firefox 141+ on Windows.';

export interface LabState {
  phase: Phase;
  /** The GPU adapter the worker acquired, e.g. "google / swiftshader". */
  adapter: string | null;
  backend: 'webgpu' | 'cpu' | null;
  /** Why nothing can run (no WebGPU); shown instead of the adapter. */
  unavailableReason: string | null;
  presets: PresetInfo[];
  form: RunForm;
  formError: FormError | null;
  run: RunInfo | null;
  /** Every step's metrics of the current (or last) run, in step order. */
  metrics: StepMetrics[];
  summary: RunSummary | null;
  /** The last error from the worker, shown in a banner until dismissed or a new run starts. */
  error: string | null;
  /** Steps per second over the current training segment (since the last Train/Resume). */
  stepsPerSec: number | null;

  connect(): Promise<void>;
  setField(field: FormField, value: string): void;
  /** Start a new run from the form, or resume a paused one. */
  train(): Promise<void>;
  pause(): Promise<void>;
  stop(): Promise<void>;
  reportError(err: unknown): void;
  dismissError(): void;
}

/** Text for an error thrown in the worker (comlink keeps name and message) or the page. */
export function describeError(err: unknown): string {
  if (err instanceof Error || (typeof err === 'object' && err !== null && 'message' in err)) {
    const e = err as { name?: string; message?: string };
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
    return `${name}${e.message || 'unknown error'}`;
  }
  return String(err);
}

function isGpuUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'GpuUnavailableError';
}

// The worker client lives outside the state: it is not data to render.
let client: LabClient | null = null;
let clientReady: Promise<LabClient> | null = null;
let makeClient: () => LabClient = startLabWorker;
/** Identifies the current run; results and metrics from older runs are ignored. */
let runToken = 0;
/** Stop pressed while createRun was still in flight. */
let stopRequested = false;
/** Anchor for the steps/s estimate: the first step seen in this training segment. */
let rateAnchor: { step: number; time: number } | null = null;

/** For tests: build the store's worker client some other way. */
export function setLabClientFactory(factory: () => LabClient): void {
  makeClient = factory;
}

function dropClient(): void {
  client?.dispose();
  client = null;
  clientReady = null;
}

export const useLab = create<LabState>()((set, get) => {
  /** The worker client, started and initialized (adapter acquired) on first use. */
  function ready(): Promise<LabClient> {
    if (clientReady) return clientReady;
    const c = makeClient();
    client = c;
    clientReady = (async () => {
      const info = await c.call((lab) => lab.init());
      const presets = await c.call((lab) => lab.presets());
      // Keep the chosen preset if this lab has it; otherwise fall back to the lab's first one.
      const form = get().form;
      const preset = presets.some((p) => p.name === form.preset) || presets.length === 0 ? form.preset : presets[0].name;
      set({ adapter: info.adapter, backend: info.backend, unavailableReason: null, presets, form: { ...form, preset } });
      return c;
    })();
    clientReady.catch(() => {
      if (client === c) dropClient();
    });
    return clientReady;
  }

  /** The run ended in an error: keep its metrics, show the error, and use a fresh worker next time. */
  function fail(token: number, err: unknown): void {
    if (token !== runToken) return;
    dropClient();
    set({ phase: 'failed', error: describeError(err) });
  }

  function onMetrics(token: number, batch: StepMetrics[]): void {
    if (token !== runToken || batch.length === 0) return;
    const last = batch[batch.length - 1];
    const now = performance.now();
    let stepsPerSec = get().stepsPerSec;
    if (!rateAnchor) rateAnchor = { step: last.step, time: now };
    else if (now > rateAnchor.time && last.step > rateAnchor.step) {
      stepsPerSec = ((last.step - rateAnchor.step) * 1000) / (now - rateAnchor.time);
    }
    set((s) => ({ metrics: s.metrics.concat(batch), stepsPerSec }));
  }

  /** Train the current run until it finishes, pauses or stops. */
  async function trainSegment(c: LabClient, token: number): Promise<void> {
    rateAnchor = null;
    set({ phase: 'training', stepsPerSec: null });
    const callback = Comlink.proxy((batch: StepMetrics[]) => onMetrics(token, batch));
    let summary: RunSummary;
    try {
      summary = await c.call((lab) => lab.train(callback));
    } catch (err) {
      fail(token, err);
      return;
    }
    if (token !== runToken) return;
    const { phase, run } = get();
    const total = run?.totalSteps ?? summary.steps;
    let next: Phase;
    if (summary.stopped || phase === 'stopping') next = 'stopped';
    else if (summary.steps >= total) next = 'done';
    else next = 'paused';
    set({ phase: next, summary });
  }

  return {
    phase: 'connecting',
    adapter: null,
    backend: null,
    unavailableReason: null,
    presets: [],
    form: { ...DEFAULT_FORM },
    formError: null,
    run: null,
    metrics: [],
    summary: null,
    error: null,
    stepsPerSec: null,

    async connect() {
      if (get().phase !== 'connecting' || clientReady) return;
      try {
        await ready();
        set({ phase: 'idle' });
      } catch (err) {
        if (isGpuUnavailable(err) || typeof navigator === 'undefined' || !('gpu' in navigator)) {
          set({ phase: 'unavailable', unavailableReason: `${NO_WEBGPU_MESSAGE} (${describeError(err)})` });
        } else {
          // Something else went wrong (worker failed to load, adapter request threw…): show it and
          // let Train try again with a fresh worker.
          set({ phase: 'idle', error: describeError(err) });
        }
      }
    },

    setField(field, value) {
      set((s) => ({ form: { ...s.form, [field]: value }, formError: s.formError?.field === field ? null : s.formError }));
    },

    async train() {
      const { phase } = get();
      if (phase === 'paused') {
        if (client) await trainSegment(client, runToken);
        return;
      }
      if (!CAN_START.has(phase)) return;

      const parsed = parseRunForm(get().form, get().presets.map((p) => p.name));
      if (!parsed.ok) {
        set({ formError: parsed.error });
        return;
      }
      const token = ++runToken;
      stopRequested = false;
      set({ phase: 'starting', formError: null, error: null, run: null, summary: null, metrics: [], stepsPerSec: null });
      let c: LabClient;
      let run: RunInfo;
      try {
        c = await ready();
        run = await c.call((lab) => lab.createRun(parsed.options));
      } catch (err) {
        if (isGpuUnavailable(err)) set({ phase: 'unavailable', unavailableReason: `${NO_WEBGPU_MESSAGE} (${describeError(err)})` });
        else fail(token, err);
        return;
      }
      if (token !== runToken) return;
      set({ run, adapter: run.adapter || get().adapter });
      if (stopRequested) {
        set({ phase: 'stopped' });
        return;
      }
      await trainSegment(c, token);
    },

    async pause() {
      if (get().phase !== 'training' || !client) return;
      set({ phase: 'pausing' });
      try {
        await client.call((lab) => lab.pause());
      } catch (err) {
        fail(runToken, err);
      }
    },

    async stop() {
      const { phase } = get();
      if (!CAN_STOP.has(phase)) return;
      if (phase === 'starting') {
        stopRequested = true;
        return;
      }
      set({ phase: 'stopping' });
      const token = runToken;
      try {
        await client?.call((lab) => lab.stop());
      } catch (err) {
        fail(token, err);
        return;
      }
      // A paused run has no train() in flight to report the stop: end it here.
      if (phase === 'paused' && token === runToken) set({ phase: 'stopped' });
    },

    reportError(err) {
      set({ error: describeError(err) });
    },

    dismissError() {
      set({ error: null });
    },
  };
});

/** Debug/test handle: `window.__v3lab.metrics()` etc. Read-only views of the store. */
export interface V3LabDebug {
  metrics(): StepMetrics[];
  phase(): Phase;
  run(): RunInfo | null;
  summary(): RunSummary | null;
  adapter(): string | null;
  error(): string | null;
}

declare global {
  interface Window {
    __v3lab?: V3LabDebug;
  }
}

export function exposeDebugHandle(target: Window): void {
  const s = () => useLab.getState();
  target.__v3lab = {
    metrics: () => s().metrics,
    phase: () => s().phase,
    run: () => s().run,
    summary: () => s().summary,
    adapter: () => s().adapter,
    error: () => s().error,
  };
}
