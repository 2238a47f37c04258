// The lab: runs built from presets + seed + overrides, trained step by step through the run
// pipeline with metrics streamed out in batches. The worker exposes this object over comlink;
// the CLI calls it directly.

import {
  applyOverrides,
  type Checkpoint,
  ConfigError,
  findField,
  findPreset,
  PRESETS,
  parseFieldValue,
  type SampleOptions,
  validateConfig,
  withPath,
} from '../config';
import type { Backend } from '../engine/backend';
import { quantStats } from '../lowp/stats';
import { lowpSpec } from '../model/linear';
import { markOf, readMetrics } from '../run/metrics';
import { RunPipeline } from '../run/pipeline';
import { disposeHandles } from '../train/stage';
import type {
  DistillRequest,
  InitOptions,
  LabApi,
  LiveChange,
  PresetInfo,
  RunInfo,
  RunOptions,
  RunSummary,
  SampleResult,
  StepMetrics,
  StepTick,
  TrainOptions,
} from './api';

export type BackendKind = 'webgpu' | 'cpu';

export { maxVio } from '../run/metrics';

/** Step ticks (StepTick) are sent at most this often, besides a train() call's first and last step. */
export const STEP_TICK_MS = 200;

/** The CPU reference is float64 and plain loops: keep it to micro-sized models. */
export const CPU_MAX_PARAMS = 250_000;

export interface Lab extends LabApi {
  /** The current run (node callers and tests only; not exposed usefully over comlink). */
  pipeline(): RunPipeline | null;
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw new ConfigError(`seed: ${seed} is not an integer in [0, 2^32)`);
}

/** The sample options' own ranges (the run's checks, such as MTP for speculative, come after). */
function checkSampleOptions(opts: SampleOptions): { topK: number; topP: number } {
  if (!Number.isInteger(opts.length) || opts.length < 1 || opts.length > 2000)
    throw new ConfigError(`sample length: ${opts.length} is not an integer in [1, 2000]`);
  if (!Number.isFinite(opts.temperature) || opts.temperature < 0 || opts.temperature > 10)
    throw new ConfigError(`temperature: ${opts.temperature} is not in [0, 10]`);
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  if (!Number.isInteger(topK) || topK < 0) throw new ConfigError(`top-k: ${topK} is not an integer ≥ 0 (0 = off)`);
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new ConfigError(`top-p: ${topP} is not in (0, 1]`);
  return { topK, topP };
}

/** The problem with a logged step whose loss or grad norm is not finite, or null. */
export function divergence(m: StepMetrics): string | null {
  const bad = (['loss', 'grad_norm'] as const).filter((k) => !Number.isFinite(m[k]));
  if (!bad.length) return null;
  const what = bad.map((k) => `${k} ${m[k]}`).join(', ');
  return `diverged at step ${m.step}: ${what} — the run stopped; lower optim.lr, keep optim.clip_norm > 0, or raise optim.eps, and restart from the last checkpoint`;
}

class LabSession implements Lab {
  private kind: BackendKind = 'webgpu';
  private backend: Backend | null = null;
  private run: RunPipeline | null = null;
  private info: RunInfo | null = null;
  private halt: 'pause' | 'stop' | null = null;
  /** True while a step, sample, inspection or distillation holds the device. */
  private running = false;
  private lastCkpt: Checkpoint | null = null;
  /** When the last automatic checkpoint was taken (or the run installed), performance.now() ms. */
  private lastCkptAt = 0;
  private lastLoss = NaN;
  /** Live changes to replay (RunOptions.live), in step order; each is dropped once applied. */
  private script: LiveChange[] = [];
  private lastVal: number | null = null;

  constructor(private readonly acquire: (kind: BackendKind) => Promise<Backend>) {}

  pipeline(): RunPipeline | null {
    return this.run;
  }

  private async be(): Promise<Backend> {
    const lost = this.backend?.name === 'webgpu' && (this.backend as unknown as { rt: { isLost: boolean } }).rt.isLost;
    if (!this.backend || lost) this.backend = await this.acquire(this.kind);
    return this.backend;
  }

  private current(): RunPipeline {
    if (!this.run || !this.info) throw new Error('no run: create one first');
    return this.run;
  }

  private busy(message: string): void {
    if (this.running) throw new Error(message);
  }

  /** Run `fn` holding the device; refused with `busyMessage` while something else holds it. */
  private async exclusive<T>(busyMessage: string, fn: () => Promise<T>): Promise<T> {
    this.busy(busyMessage);
    this.running = true;
    try {
      return await fn();
    } finally {
      this.running = false;
    }
  }

  private runInfo(p: RunPipeline, preset: string, b: Backend): RunInfo {
    const schedule = p.schedule;
    return {
      preset,
      seed: p.seed,
      totalSteps: schedule.total,
      step: p.step,
      vocabSize: p.state.model.vocab_size,
      params: p.state.paramCount,
      backend: b.name,
      adapter: b.deviceLabel,
      matmulTiles: p.matmulTiles,
      config: structuredClone(p.cfg),
      stages: schedule.stages.map((s) => ({ ...s })),
    };
  }

  private install(next: RunPipeline, preset: string, b: Backend): RunInfo {
    if (b.name === 'cpu' && next.state.paramCount > CPU_MAX_PARAMS) {
      next.dispose();
      throw new ConfigError(
        `the CPU reference backend is for micro models (≤ ${CPU_MAX_PARAMS.toLocaleString('en-US')} params); this config has ${next.state.paramCount.toLocaleString('en-US')}`,
      );
    }
    this.run?.dispose();
    this.run = next;
    this.halt = null;
    this.lastCkpt = null;
    this.script = [];
    this.lastCkptAt = performance.now();
    this.lastLoss = NaN;
    this.lastVal = null;
    this.info = this.runInfo(next, preset, b);
    return this.info;
  }

  /** Read a logged step's metrics, remembering the last loss and validation loss. */
  private async metrics(
    p: RunPipeline,
    h: Awaited<ReturnType<RunPipeline['runStep']>>,
    since: ReturnType<typeof markOf>,
  ) {
    const m = await readMetrics(p, h, since);
    this.lastLoss = m.loss;
    if (m.val_loss !== null) this.lastVal = m.val_loss;
    return m;
  }

  /** The automatic checkpoint: on the schedule's checkpoint steps, or when `everyS` seconds have passed. */
  private async maybeCheckpoint(p: RunPipeline, everyS = 0): Promise<void> {
    const due = everyS > 0 && performance.now() - this.lastCkptAt >= everyS * 1000;
    if (!p.schedule.isCheckpoint(p.step) && !due) return;
    this.lastCkpt = await p.checkpoint(this.info!.preset);
    this.lastCkptAt = performance.now();
  }

  async init(opts: InitOptions = {}) {
    const want = opts.backend ?? this.kind;
    if (want !== 'webgpu' && want !== 'cpu')
      throw new ConfigError(`backend: "${String(want)}" is not one of webgpu, cpu`);
    if (want !== this.kind || !this.backend) {
      this.busy('a run is training; stop it before switching backends');
      this.run?.dispose();
      this.run = null;
      this.info = null;
      this.backend = null;
      this.kind = want;
    }
    const b = await this.be();
    const features =
      b.name === 'webgpu'
        ? Object.entries((b as unknown as { rt: { features: Record<string, boolean> } }).rt.features)
            .filter(([, v]) => v)
            .map(([k]) => k)
        : [];
    return { adapter: b.deviceLabel, backend: b.name, features };
  }

  async presets(): Promise<PresetInfo[]> {
    return PRESETS.map((p) => ({ name: p.name, description: p.description }));
  }

  /** Check a replayed change the way setLive checks a live one; the value parsed. */
  private checkScripted(c: LiveChange, i: number): LiveChange {
    const f = findField(c.path);
    if (!Number.isInteger(c.step) || c.step < 1) throw new ConfigError(`live[${i}].step: ${c.step} is not a step ≥ 1`);
    if (!f) throw new ConfigError(`live[${i}]: unknown config path "${c.path}"`);
    if (!f.live) throw new ConfigError(`live[${i}]: ${c.path} cannot change during a run`);
    return { step: c.step, path: c.path, value: parseFieldValue(c.path, c.value) };
  }

  /** Apply the replayed changes due at the next step (as setLive just before it). */
  private applyScript(p: RunPipeline): void {
    while (this.script.length && this.script[0].step <= p.step + 1) {
      const c = this.script.shift()!;
      p.cfg = validateConfig(withPath(p.cfg, c.path, c.value));
      this.info = { ...this.info!, config: structuredClone(p.cfg) };
    }
  }

  async createRun(opts: RunOptions): Promise<RunInfo> {
    this.busy('a run is training; stop it before creating another');
    const script = (opts.live ?? []).map((c, i) => this.checkScripted(c, i)).sort((a, b) => a.step - b.step);
    const preset = findPreset(opts.preset);
    if (!preset)
      throw new ConfigError(`unknown preset "${opts.preset}" (available: ${PRESETS.map((p) => p.name).join(', ')})`);
    checkSeed(opts.seed);
    const set = { ...(opts.set ?? {}) };
    if (opts.steps !== undefined) set['train.steps'] = opts.steps;
    const cfg = applyOverrides(preset.config, set);
    const b = await this.be();
    const info = this.install(new RunPipeline(b, cfg, opts.seed), preset.name, b);
    this.script = script;
    return info;
  }

  async warmup(opts: RunOptions): Promise<{ ms: number }> {
    const preset = findPreset(opts.preset);
    if (!preset) throw new ConfigError(`unknown preset "${opts.preset}"`);
    checkSeed(opts.seed);
    const cfg = applyOverrides(preset.config, opts.set ?? {});
    const b = await this.be();
    return this.exclusive('a run is training; warming up is for an idle lab', async () => {
      const t0 = performance.now();
      const p = new RunPipeline(b, cfg, opts.seed);
      try {
        // Read back, so the step has really run (a software adapter may compile at first dispatch).
        await readMetrics(p, await p.runStep(), markOf(p));
      } finally {
        p.dispose();
      }
      return { ms: performance.now() - t0 };
    });
  }

  async train(
    onMetrics: (batch: StepMetrics[]) => void | Promise<void>,
    opts: TrainOptions = {},
    onStep?: (tick: StepTick) => void,
  ): Promise<RunSummary> {
    const p = this.current();
    return this.exclusive('already training', async () => {
      this.halt = null;
      const more = opts.maxSteps !== undefined ? Math.max(0, Math.floor(opts.maxSteps)) : Infinity;
      const everyS = opts.checkpointEveryS ?? 0;
      const stopAt = Math.min(p.schedule.total, p.step + more);
      const t0 = performance.now();
      const start = { startStep: p.step, startTokens: p.tokensProcessed };
      let tickedAt = -Infinity;
      let mark = markOf(p);
      let diverged: string | null = null;
      while (p.step < stopAt && this.halt === null && !p.done && !diverged) {
        this.applyScript(p);
        const h = await p.runStep();
        const s = p.step;
        if (p.schedule.isLog(s) || s === stopAt) {
          const m = await this.metrics(p, h, mark);
          // Awaited so batches arrive in order and the page's callback is not flooded.
          await onMetrics([m]);
          diverged = divergence(m);
          // A diverged run keeps its last finite checkpoint (the one to go back to).
          if (!diverged) await this.maybeCheckpoint(p, everyS);
          mark = markOf(p);
        } else {
          disposeHandles(h);
          await this.maybeCheckpoint(p, everyS);
        }
        const now = performance.now();
        const last = s === stopAt || p.done || this.halt !== null;
        if (onStep && (s === start.startStep + 1 || last || now - tickedAt >= STEP_TICK_MS)) {
          tickedAt = now;
          const tick = { ...start, step: s, tokens: p.tokensProcessed, elapsedMs: now - t0 };
          // Not awaited: a tick never holds up training (a page that has gone away cannot either).
          void Promise.resolve(onStep({ ...tick, checkpointStep: this.lastCkpt?.step ?? 0 })).catch(() => {});
        }
      }
      return this.summary(p, diverged);
    });
  }

  private summary(p: RunPipeline, diverged: string | null): RunSummary {
    const reason: RunSummary['reason'] = diverged
      ? 'diverged'
      : p.done
        ? 'finished'
        : this.halt === 'stop'
          ? 'stopped'
          : this.halt === 'pause'
            ? 'paused'
            : 'max-steps';
    return {
      done: reason === 'finished',
      steps: p.step,
      final_loss: this.lastLoss,
      final_val_loss: this.lastVal,
      adapter: this.info!.adapter,
      reason,
      ...(diverged ? { error: diverged } : {}),
    };
  }

  async step(): Promise<StepMetrics> {
    const p = this.current();
    this.busy('already training');
    if (p.done) throw new Error(`the run has finished its ${p.schedule.total} steps`);
    return this.exclusive('already training', async () => {
      const since = markOf(p);
      this.applyScript(p);
      const m = await this.metrics(p, await p.runStep(), since);
      await this.maybeCheckpoint(p);
      return m;
    });
  }

  async pause() {
    if (this.running) this.halt = 'pause';
  }

  async stop() {
    this.halt = 'stop';
  }

  async reset() {
    if (this.running) {
      this.halt = 'stop';
      throw new Error('a run is training; it is being stopped — reset again once it has halted');
    }
    this.run?.dispose();
    this.run = null;
    this.info = null;
    this.lastCkpt = null;
  }

  async setLive(path: string, value: string | number | boolean): Promise<LiveChange> {
    const p = this.current();
    const f = findField(path);
    if (!f) throw new ConfigError(`unknown config path "${path}"`);
    if (!f.live)
      throw new ConfigError(`${path}: cannot change during a run (it needs a new model); reset the run to change it`);
    const v = parseFieldValue(path, value);
    p.cfg = validateConfig(withPath(p.cfg, path, v));
    this.info = { ...this.info!, config: structuredClone(p.cfg) };
    return { step: p.step + 1, path, value: v };
  }

  async sample(opts: SampleOptions): Promise<SampleResult> {
    const p = this.current();
    this.busy('pause the run to sample');
    const { topK, topP } = checkSampleOptions(opts);
    if (opts.speculative && p.state.model.num_nextn_predict_layers < 1)
      throw new ConfigError(
        'speculative decoding needs an MTP module: set model.num_nextn_predict_layers ≥ 1 (e.g. the v3-tiny preset)',
      );
    return this.exclusive('pause the run to sample', async () => {
      const { texts, stats } = await p.state.sample({ ...opts, topK, topP, count: 1 });
      return { text: texts[0], stats };
    });
  }

  async attentionPattern(opts: { text: string; layer: number; head: number }) {
    const p = this.current();
    return this.exclusive('pause the run to inspect attention', () =>
      p.state.attentionPattern(opts.text, opts.layer, opts.head),
    );
  }

  async precisionStats() {
    const p = this.current();
    this.busy('pause the run to inspect quantization');
    const spec = lowpSpec(p.state.model);
    const weights = [...p.state.trainable].filter(
      ([name, w]) => w.shape.length === 2 && /\.(self_attn|mlp)\./.test(name) && !name.includes('.mlp.gate.'),
    );
    return this.exclusive('pause the run to inspect quantization', () =>
      quantStats(p.be, weights, spec.forward, spec.weightTiling),
    );
  }

  async checkpoint(opts: { weightsOnly?: boolean } = {}): Promise<Checkpoint> {
    const p = this.current();
    this.busy('pause the run to take a checkpoint');
    return p.checkpoint(this.info!.preset, opts.weightsOnly ?? false);
  }

  async lastCheckpoint(): Promise<Checkpoint | null> {
    return this.lastCkpt;
  }

  async distill(
    req: DistillRequest,
    onPoint: Parameters<LabApi['distill']>[1],
    onProgress?: Parameters<LabApi['distill']>[2],
  ) {
    this.busy('a run is training; pause or stop it before distilling');
    const teacher = findPreset(req.teacher);
    const student = findPreset(req.student);
    if (!teacher) throw new ConfigError(`teacher: unknown preset "${req.teacher}"`);
    if (!student) throw new ConfigError(`student: unknown preset "${req.student}"`);
    checkSeed(req.seed);
    const tc = applyOverrides(teacher.config, req.setTeacher ?? {});
    const sc = applyOverrides(student.config, req.set ?? {});
    const { checkDistillConfigs, distillVsRl } = await import('../run/distill');
    try {
      checkDistillConfigs(tc, sc);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
    const b = await this.be();
    return this.exclusive('a run is training; pause or stop it before distilling', () =>
      distillVsRl(b, { teacher: tc, student: sc, seed: req.seed, onPoint: (pt) => onPoint(pt), onProgress }),
    );
  }

  async restore(ckpt: Checkpoint): Promise<RunInfo> {
    this.busy('a run is training; stop it before restoring');
    if (ckpt?.format !== 'v3lab-checkpoint') throw new ConfigError('checkpoint: not a v3lab checkpoint');
    const preset = findPreset(ckpt.preset);
    if (!preset) throw new ConfigError(`checkpoint: unknown preset "${ckpt.preset}"`);
    const cfg = validateConfig(ckpt.config);
    const b = await this.be();
    const next = new RunPipeline(b, cfg, ckpt.seed);
    try {
      next.load(ckpt);
    } catch (e) {
      next.dispose();
      throw e;
    }
    const out = this.install(next, preset.name, b);
    this.lastCkpt = ckpt;
    return out;
  }
}

export function createLab(acquire: (kind: BackendKind) => Promise<Backend>): Lab {
  return new LabSession(acquire);
}
