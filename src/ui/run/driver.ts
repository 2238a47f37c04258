// The run lifecycle: drives the run state machine (machine.ts) and the lab worker together. The
// user's actions and the worker's answers become machine events; a rejected event means the
// action does not apply now and nothing happens. Training runs in chunks that end on eval steps
// (train(…, {maxSteps})); between chunks the page takes a sample and runs the inspections that
// were asked for meanwhile (queue.ts). Every run is kept in the history (IndexedDB).
//
// Results from an older run are ignored: each run has a token, and a reset or a new run bumps it.

import * as Comlink from 'comlink';
import type { FieldValue } from '../../config';
import type { RunInfo, RunSummary, StepMetrics, StepTick } from '../../lab/api';
import type { RunRecord } from '../../lab/runfile';
import { configDiff, type LiveChangeEntry } from '../../lab/share';
import { totalSteps } from '../../run/schedule';
import { MetricColumns } from '../columns';
import { draftFromConfig, parseSeed } from '../draft';
import { describeError, errName, isDeviceLost } from '../errors';
import { WorkerCrashedError } from '../lab-client';
import { newRunRecord } from '../runs';
import { checkPresetForBackend, presetConfig, setDraft } from '../state/config-slice';
import type { LabContext } from '../state/context';
import { NO_PROGRESS } from '../state/types';
import { CAN_START, INITIAL_RUN_STATE, type Phase, type RunEvent, type RunState, transition } from './machine';
import { MetricsFeed } from './metrics';
import { LabQueue } from './queue';
import { applyReplay, CHECKPOINT_EVERY_S, CheckpointKeeper, replayPlan, splitChanges } from './resume';
import { takeSample } from './sampler';

export class RunDriver {
  private state: RunState = INITIAL_RUN_STATE;
  /** Identifies the current run; results and metrics from older runs are ignored. */
  private token = 0;
  /** Resolves when the current training loop (or single step) has ended. */
  private loopDone: Promise<void> = Promise.resolve();
  /** The lowp run whose f32 twin the next createRun builds, and the twin once it is built. */
  private pendingTwin: string | null = null;
  private twin: { token: number; sourceId: string } | null = null;
  /** The shaders' warm-up in the worker (warmUp); a new run waits for it. */
  private warming: Promise<void> = Promise.resolve();
  /** The current run's live changes still to be replayed (a share link's), in step order. */
  private script: LiveChangeEntry[] = [];
  /** A resumed run's live changes made after its checkpoint, still to replay (resume.ts), in step order. */
  private replay: LiveChangeEntry[] = [];
  /** The seed of a sample asked for mid-chunk (taken with the next sample of the loop). */
  private requestedSeed: number | null = null;
  readonly metrics: MetricsFeed;
  readonly queue = new LabQueue();
  private readonly keeper: CheckpointKeeper;

  constructor(private readonly ctx: LabContext) {
    this.metrics = new MetricsFeed(ctx);
    this.keeper = new CheckpointKeeper(ctx);
  }

  get phase(): Phase {
    return this.state.phase;
  }

  /** Whether the machine is in `phase` now (a call, so the compiler does not carry a check across awaits). */
  private at(phase: Phase): boolean {
    return this.state.phase === phase;
  }

  /** The current run's token (for work that must be dropped if the run changes meanwhile). */
  get runToken(): number {
    return this.token;
  }

  isCurrent(token: number): boolean {
    return token === this.token;
  }

  /** Apply a machine event; false (and no change) when it does not apply in this state. */
  dispatch(event: RunEvent): boolean {
    const next = transition(this.state, event);
    if (!next) return false;
    const changed = next.phase !== this.state.phase;
    this.state = next;
    if (changed) this.ctx.set({ phase: next.phase });
    return true;
  }

  /** While training: ask for a sample with `seed` after the chunk (false when not training). */
  requestSample(seed: number): boolean {
    if (!this.dispatch('sample')) return false;
    this.requestedSeed = seed;
    return true;
  }

  /** Ask the lab to halt its chunk (for a sample or an inspection); training then carries on. */
  pauseLab(): Promise<void> {
    return (this.ctx.worker.current?.call((lab) => lab.pause()) ?? Promise.resolve()).catch(() => {});
  }

  // ---- connection ----

  async connect(backend: 'webgpu' | 'cpu'): Promise<void> {
    const { ctx } = this;
    if (!this.dispatch('connect')) return;
    const c = ctx.worker.ensure();
    try {
      const r = await c.call((lab) => lab.init({ backend }));
      this.dispatch('connected');
      ctx.set({ adapter: r.adapter, backend: r.backend, features: r.features });
      checkPresetForBackend(ctx);
    } catch (err) {
      if (err instanceof WorkerCrashedError) ctx.worker.drop();
      this.dispatch('connect-failed');
      ctx.set({ adapter: null, backend: null });
      const noWebGpu =
        backend === 'webgpu' &&
        (errName(err) === 'GpuUnavailableError' || typeof navigator === 'undefined' || !('gpu' in navigator));
      // No WebGPU at all is explained by its own panel; anything else gets a banner.
      if (!noWebGpu)
        ctx.banner(
          'error',
          `Could not start the ${backend === 'cpu' ? 'CPU reference' : 'GPU'}: ${describeError(err)}`,
        );
    }
  }

  /** After the worker crashed (and was dropped), start a fresh one on the same backend. */
  private async reconnectIfNeeded(): Promise<void> {
    const { backend } = this.ctx.get();
    if (this.ctx.worker.current || !backend || !CAN_START.has(this.phase)) return;
    await this.connect(backend);
  }

  /** Compile `preset`'s shaders while the page is idle (a throwaway step in the worker); Start waits for it. */
  warmUp(preset: string): void {
    const { ctx } = this;
    const c = ctx.worker.current;
    if (!c || !CAN_START.has(this.phase) || ctx.get().run) return;
    const since = performance.now();
    ctx.set({ warmup: { preset, since, ms: null } });
    this.warming = c
      .call((lab) => lab.warmup({ preset, seed: 0 }))
      .then(
        (r) => ctx.set({ warmup: { preset, since, ms: r.ms } }),
        () => ctx.set({ warmup: null }),
      );
  }

  // ---- user actions ----

  async start(): Promise<void> {
    if (this.phase === 'paused') {
      await this.runLoop(this.token);
      return;
    }
    await this.reconnectIfNeeded();
    const token = await this.createRun();
    if (token !== null) await this.runLoop(token);
  }

  /** Start the f32 twin of run `sourceId` from the config already in the editor. */
  async startTwin(sourceId: string): Promise<void> {
    this.pendingTwin = sourceId;
    await this.start();
    this.pendingTwin = null;
  }

  async pause(): Promise<void> {
    const c = this.ctx.worker.current;
    if (!c || !this.dispatch('pause')) return;
    try {
      await c.call((lab) => lab.pause());
    } catch (err) {
      this.ctx.reportError(err, 'Could not pause');
    }
  }

  async singleStep(): Promise<void> {
    const { ctx } = this;
    let token = this.token;
    if (CAN_START.has(this.phase)) {
      await this.reconnectIfNeeded();
      const t = await this.createRun();
      if (t === null) return;
      token = t;
      await this.enterPaused(token);
    }
    const c = ctx.worker.current;
    const run = ctx.get().run;
    if (!c || !run || !this.dispatch('step')) return;
    const work = (async () => {
      await this.queue.idle;
      let m: StepMetrics;
      try {
        m = await c.call((lab) => lab.step());
      } catch (err) {
        return this.onTrainError(token, err);
      }
      if (!this.isCurrent(token)) return;
      this.metrics.takeStep(m);
      this.recordScripted(run, m.step);
      const total = ctx.get().info?.totalSteps ?? totalSteps(run.config);
      if (m.step >= total) return this.end(token, 'finished');
      this.dispatch('paused');
    })();
    this.loopDone = work;
    await work;
  }

  async stop(): Promise<void> {
    const { phase } = this;
    // Nothing is training: the run ends at once.
    if (phase === 'paused' || phase === 'lost') return this.end(this.token, 'stop');
    // While starting, the run ends as soon as it is built (createRun).
    if (!this.dispatch('stop') || !this.at('stopping')) return;
    try {
      await this.ctx.worker.current?.call((lab) => lab.stop());
    } catch (err) {
      this.ctx.reportError(err, 'Could not stop');
    }
  }

  /** Stop the run, wait until it has halted, and clear it from the lab and the page (it stays in the history). */
  async resetRun(): Promise<void> {
    const { ctx } = this;
    await this.haltRun();
    await ctx.history.finished;
    await this.queue.idle;
    this.token++;
    try {
      await ctx.worker.current?.call((lab) => lab.reset());
    } catch (err) {
      ctx.reportError(err, 'Could not reset the run');
    }
    this.metrics.clear();
    ctx.set((s) => ({
      run: null,
      info: null,
      columns: null,
      attention: null,
      attentionError: null,
      quant: null,
      quantError: null,
      version: s.version + 1,
      progress: NO_PROGRESS,
    }));
    // Without a worker (it crashed) the phase says what happened; no WebGPU stays unavailable.
    if (ctx.worker.current) this.dispatch('reset');
  }

  /** After a device loss: restore the lab's last checkpoint and train on from there. */
  async continueFromCheckpoint(): Promise<void> {
    const { ctx } = this;
    const c = ctx.worker.current;
    const run = ctx.get().run;
    if (this.phase !== 'lost' || !c || !run) return;
    ctx.set((s) => ({ banners: s.banners.filter((b) => b.kind !== 'lost') }));
    const token = this.token;
    try {
      const ckpt = await c.call((lab) => lab.lastCheckpoint());
      if (!ckpt) {
        ctx.banner(
          'error',
          'There is no checkpoint to continue from yet (one is taken every train.checkpoint_every steps). Start the run again.',
        );
        await this.end(token, 'stop');
        return;
      }
      const info = await c.call((lab) => lab.restore(ckpt));
      if (!this.isCurrent(token)) return;
      this.metrics.timer.reset();
      // Metrics after the checkpoint will be produced again: drop them.
      const keep = run.metrics.filter((m) => m.step <= info.step);
      run.metrics.length = 0;
      run.metrics.push(...keep);
      ctx.set((s) => ({
        info,
        columns: MetricColumns.from(run.metrics),
        version: s.version + 1,
        progress: this.metrics.progress(run, info),
      }));
    } catch (err) {
      if (isDeviceLost(err)) {
        this.dispatch('device-lost');
        ctx.banner('lost', 'The GPU device is still lost.', [describeError(err)]);
      } else {
        this.dispatch('failed');
        ctx.banner('error', `Could not continue from the checkpoint: ${describeError(err)}`);
        await this.saveStatus(run, 'failed');
      }
      return;
    }
    await this.runLoop(token);
  }

  // ---- the run in the worker ----

  /** Build a new run in the worker from the validated config; returns its token or null. */
  private async createRun(): Promise<number | null> {
    const { ctx } = this;
    const s = ctx.get();
    const config = s.evaluated.config;
    const seed = parseSeed(s.seedText);
    const c = ctx.worker.current;
    if (!config || 'error' in seed || s.presetError || !CAN_START.has(this.phase) || !c) return null;
    const token = ++this.token;
    this.requestedSeed = null;
    const twinOf = this.pendingTwin;
    this.pendingTwin = null;
    this.metrics.clear();
    this.dispatch('create');
    ctx.set({ attention: null, attentionError: null, quant: null, quantError: null });
    await ctx.history.finished;
    await this.queue.idle;
    await this.warming;
    const setVals: Record<string, FieldValue> = configDiff(presetConfig(s.presetName), config);
    if (config.data.corpus === 'text') setVals['data.text'] = config.data.text;
    let info: RunInfo;
    try {
      const live = s.liveScript;
      info = await c.call((lab) => lab.createRun({ preset: s.presetName, seed: seed.seed, set: setVals, live }));
    } catch (err) {
      if (!this.isCurrent(token)) return null;
      if (err instanceof WorkerCrashedError) ctx.worker.drop();
      this.dispatch('create-failed');
      ctx.banner('error', `Could not start the run: ${describeError(err)}`);
      return null;
    }
    if (!this.isCurrent(token)) return null;
    this.script = [...s.liveScript];
    this.replay = [];
    await this.adoptRun(token, newRunRecord(info, config, ctx.get().runs), info, twinOf, false);
    if (this.state.stopRequested) {
      await this.end(token, 'stopped');
      return null;
    }
    return token;
  }

  /** Make a run just built in the worker (or resumed: already in the table) the page's current run, and save it. */
  private async adoptRun(
    token: number,
    run: RunRecord,
    info: RunInfo,
    twinOf: string | null,
    resumed: boolean,
  ): Promise<void> {
    const { ctx } = this;
    const runs = ctx.get().runs;
    // Errors from earlier attempts to start are now beside the point.
    ctx.set((st) => ({
      banners: st.banners.filter((b) => !b.title.startsWith('Could not start')),
      run,
      info,
      columns: MetricColumns.from(run.metrics),
      version: st.version + 1,
      runs: resumed ? runs : [...runs, run],
      adapter: info.adapter || st.adapter,
      progress: resumed ? this.metrics.progress(run, info) : { ...NO_PROGRESS, total: info.totalSteps },
    }));
    if (twinOf && runs.some((r) => r.id === twinOf)) {
      // Compared against its lowp source from the start: baseline for the diff, overlaid on the charts.
      this.twin = { token, sourceId: twinOf };
      ctx.set((st) => ({
        baselineId: twinOf,
        overlayIds: st.overlayIds.includes(twinOf) ? st.overlayIds : [...st.overlayIds, twinOf],
      }));
    }
    ctx.bumpRuns();
    await ctx.history.store.saveNow(run);
  }

  /** After a reload: rebuild run `id` from the checkpoint this browser kept and train on from there. */
  async resumeSaved(id: string): Promise<void> {
    const { ctx } = this;
    await this.reconnectIfNeeded();
    const run = ctx.get().runs.find((r) => r.id === id);
    const c = ctx.worker.current;
    if (!run || !c || !CAN_START.has(this.phase)) return;
    const bytes = await ctx.history.store.getCheckpoint(id);
    if (!bytes) {
      ctx.banner('error', `${run.name} has no checkpoint kept in this browser to resume from.`);
      return;
    }
    const token = ++this.token;
    this.metrics.clear();
    this.dispatch('create');
    ctx.set({ resumeOffer: null });
    await this.warming;
    let info: RunInfo;
    try {
      info = await c.call((lab) => lab.restoreSafetensors(bytes));
    } catch (err) {
      if (!this.isCurrent(token)) return;
      if (err instanceof WorkerCrashedError) ctx.worker.drop();
      this.dispatch('create-failed');
      ctx.banner('error', `Could not resume ${run.name}: ${describeError(err)}`);
      return;
    }
    if (!this.isCurrent(token)) return;
    // The steps after the checkpoint are trained again: what they left in the record goes.
    const k = info.step;
    run.metrics = run.metrics.filter((m) => m.step <= k);
    ({ kept: run.changes, replay: this.replay } = splitChanges(run.changes, k));
    run.samples = run.samples.filter((x) => x.step <= k);
    run.checkpointStep = k;
    this.script = [];
    // The editor shows the run's config, so its live fields can be changed again.
    ctx.set({ presetName: run.preset, seedText: String(run.seed), seedError: null, presetError: null });
    setDraft(ctx, draftFromConfig(info.config));
    await this.adoptRun(token, run, info, null, true);
    if (this.state.stopRequested) return this.end(token, 'stopped');
    await this.runLoop(token);
  }

  private runLoop(token: number): Promise<void> {
    this.loopDone = this.trainLoop(token)
      .catch((err) => this.ctx.reportError(err))
      .finally(() => this.queue.releaseWaiting());
    return this.loopDone;
  }

  /** Train the current run in chunks ending on eval steps, sampling between chunks. */
  private async trainLoop(token: number): Promise<void> {
    const { ctx } = this;
    const c = ctx.worker.current;
    const run = ctx.get().run;
    if (!c || !run || !this.dispatch('train')) return;
    this.metrics.restartRate();
    await this.saveStatus(run, 'running');
    for (;;) {
      if (!this.isCurrent(token)) return;
      if (this.at('stopping')) return this.end(token, 'stopped');
      await this.queue.idle; // an inspection started while paused ends first
      await this.queue.runWaiting(); // inspections asked for while no chunk was running
      if (this.at('pausing')) return this.enterPaused(token);
      const step = ctx.get().progress.step;
      const every = ctx.get().info?.config?.train.eval_every ?? run.config.train.eval_every;
      const plan = replayPlan(this.replay, step, every - (step % every));
      this.replay = plan.rest;
      if (plan.due.length) await applyReplay(ctx, run, plan.due);
      const { maxSteps } = plan;
      let summary: RunSummary;
      this.metrics.beginCall();
      try {
        const opts = { maxSteps, checkpointEveryS: CHECKPOINT_EVERY_S };
        summary = await c.call((lab) => lab.train(this.metricsCallback(token), opts, this.tickCallback(token)));
      } catch (err) {
        return this.onTrainError(token, err);
      }
      if (!this.isCurrent(token)) return;
      this.metrics.flush();
      const inspected = this.queue.waiting; // the chunk may have been paused for these
      await this.queue.runWaiting();
      if (summary.reason === 'finished') {
        await this.sample(token);
        return this.end(token, 'finished');
      }
      // A non-finite loss or grad norm: the lab stopped the run there; it fails with the lab's advice.
      if (summary.reason === 'diverged')
        return this.onTrainError(token, new Error(summary.error ?? 'the run diverged'));
      if (summary.reason === 'stopped' || this.at('stopping')) return this.end(token, 'stopped');
      if (summary.reason === 'max-steps' && plan.cut && !this.state.sampleRequested) continue; // a replay is due
      if (summary.reason === 'max-steps' || this.state.sampleRequested) {
        this.dispatch('sampled');
        await this.sample(token);
        this.metrics.restartRate(); // sampling time is not training time
        continue;
      }
      if (inspected && !this.at('pausing')) {
        this.metrics.restartRate();
        continue;
      }
      return this.enterPaused(token);
    }
  }

  private metricsCallback(token: number) {
    return Comlink.proxy((batch: StepMetrics[]) => {
      if (!this.isCurrent(token) || batch.length === 0) return;
      this.metrics.receive(batch);
    });
  }

  private tickCallback(token: number) {
    return Comlink.proxy((tick: StepTick) => {
      const run = this.ctx.get().run;
      if (!this.isCurrent(token) || !run) return;
      this.metrics.tick(tick);
      this.recordScripted(run, tick.step);
      this.keeper.onTick(run, tick, () => this.isCurrent(token));
    });
  }

  /** Replayed live changes the lab has applied by `step` join the run's changes (marked on the charts). */
  private recordScripted(run: RunRecord, step: number): void {
    if (!this.script.length || this.script[0].step > step) return;
    while (this.script.length && this.script[0].step <= step) run.changes.push(this.script.shift()!);
    this.ctx.set((s) => ({ version: s.version + 1 }));
  }

  /** The loop's sample: with the seed asked for, if one was; else the run's seed + step. */
  private sample(token: number): Promise<boolean> {
    const seed = this.requestedSeed ?? undefined;
    this.requestedSeed = null;
    return takeSample(this.ctx, () => this.isCurrent(token), undefined, seed);
  }

  /** The run came to rest (a chunk ended after Pause, or a run was built for a single step). */
  private async enterPaused(token: number): Promise<void> {
    const run = this.ctx.get().run;
    if (!run || !this.isCurrent(token)) return;
    this.metrics.flush();
    if (!this.dispatch('paused')) return;
    await this.saveStatus(run, 'paused');
  }

  /** The run ended: finished, stopped by the lab, or stopped while nothing was training. */
  private async end(token: number, event: 'finished' | 'stopped' | 'stop'): Promise<void> {
    const { ctx } = this;
    const run = ctx.get().run;
    if (!run || !this.isCurrent(token)) return;
    this.metrics.flush();
    if (!this.dispatch(event)) return;
    const status = this.at('done') ? 'done' : 'stopped';
    ctx.set({ progress: this.metrics.progress(run, ctx.get().info) });
    if (status === 'done' && this.twin?.token === token) {
      const ids = [this.twin.sourceId, run.id];
      ctx.set((s) => ({ overlayIds: [...s.overlayIds.filter((x) => !ids.includes(x)), ...ids] }));
      this.twin = null;
    }
    const work = (async () => {
      await this.saveStatus(run, status);
      await this.saveCheckpoint(run);
    })();
    ctx.history.track(work);
    await work;
  }

  private async onTrainError(token: number, err: unknown): Promise<void> {
    const { ctx } = this;
    if (!this.isCurrent(token)) return;
    this.metrics.flush();
    const run = ctx.get().run;
    if (isDeviceLost(err)) {
      this.dispatch('device-lost');
      ctx.banner('lost', 'The GPU device was lost. The run is paused and its data is kept.', [describeError(err)]);
      if (run) await this.saveStatus(run, 'paused');
      return;
    }
    if (err instanceof WorkerCrashedError) ctx.worker.drop();
    this.dispatch('failed');
    ctx.banner('error', `The run failed: ${describeError(err)}`);
    if (run) await this.saveStatus(run, 'failed');
  }

  /** Stop a run in the worker and wait until it has halted (for Reset and edits that need a new model). */
  private async haltRun(): Promise<void> {
    const { phase } = this;
    if (phase === 'training' || phase === 'pausing' || phase === 'stopping') {
      this.dispatch('stop'); // already stopping: no change
      await this.ctx.worker.current?.call((lab) => lab.stop()).catch(() => {});
      await this.loopDone;
    } else if (phase === 'paused' || phase === 'lost') {
      await this.end(this.token, 'stop');
    } else if (phase === 'stepping') {
      await this.loopDone;
      await this.end(this.token, 'stop');
    }
  }

  private async saveStatus(run: RunRecord, status: RunRecord['status']): Promise<void> {
    run.status = status;
    this.ctx.bumpRuns();
    await this.ctx.history.store.saveNow(run);
  }

  private async saveCheckpoint(run: RunRecord): Promise<void> {
    const c = this.ctx.worker.current;
    if (!c) return;
    try {
      const bytes = await c.call((lab) => lab.checkpointSafetensors());
      await this.ctx.history.store.putCheckpoint(run.id, bytes);
      run.checkpointStep = this.ctx.get().progress.step;
    } catch (err) {
      this.ctx.reportError(err, `Could not save the weights of ${run.name}`);
    }
  }
}
