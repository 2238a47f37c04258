// The lab: runs built from presets + seed + overrides, trained step by step with metrics
// streamed out in batches. The worker exposes this object over comlink; the CLI calls it directly.

import type { Backend } from '../engine/backend';
import { lowpSpec } from '../model/linear';
import { quantStats } from '../lowp/stats';
import { Trainer, disposeHandles, type StepHandles } from '../train/trainer';
import type {
  Checkpoint,
  DistillRequest,
  InitOptions,
  LabApi,
  LiveChange,
  PresetInfo,
  RunInfo,
  RunOptions,
  RunSummary,
  SampleOptions,
  SampleResult,
  StepMetrics,
} from './api';
import { ConfigError, applyOverrides, findField, parseFieldValue, validateConfig } from '../config';
import { totalSteps } from '../run/schedule';
import { PRESETS, findPreset } from '../config';

export type BackendKind = 'webgpu' | 'cpu';

/** MaxVio_batch of one layer's loads: (max − mean)/mean (spec §2, LFB eq. 4). */
export function maxVio(loads: number[]): number {
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  return mean > 0 ? (Math.max(...loads) - mean) / mean : 0;
}

/** The CPU reference is float64 and plain loops: keep it to micro-sized models. */
export const CPU_MAX_PARAMS = 250_000;

export interface Lab extends LabApi {
  /** The current trainer (node callers and tests only; not exposed usefully over comlink). */
  trainer(): Trainer | null;
}

export function createLab(acquire: (kind: BackendKind) => Promise<Backend>): Lab {
  let kind: BackendKind = 'webgpu';
  let backend: Backend | null = null;
  let trainer: Trainer | null = null;
  let info: RunInfo | null = null;
  let halt: 'pause' | 'stop' | null = null;
  let running = false;
  let lastCkpt: Checkpoint | null = null;
  let lastLoss = NaN;
  let lastVal: number | null = null;

  async function be(): Promise<Backend> {
    const lost = backend?.name === 'webgpu' && (backend as unknown as { rt: { isLost: boolean } }).rt.isLost;
    if (!backend || lost) backend = await acquire(kind);
    return backend;
  }

  function current(): Trainer {
    if (!trainer || !info) throw new Error('no run: create one first');
    return trainer;
  }

  function runInfo(t: Trainer, preset: string, b: Backend): RunInfo {
    return {
      preset,
      seed: t.seed,
      totalSteps: totalSteps(t.cfg),
      step: t.step,
      vocabSize: t.model.vocab_size,
      params: t.paramCount,
      backend: b.name,
      adapter: b.deviceLabel,
      config: structuredClone(t.cfg),
    };
  }

  function install(next: Trainer, preset: string, b: Backend): RunInfo {
    if (b.name === 'cpu' && next.paramCount > CPU_MAX_PARAMS) {
      next.dispose();
      throw new ConfigError(
        `the CPU reference backend is for micro models (≤ ${CPU_MAX_PARAMS.toLocaleString('en-US')} params); this config has ${next.paramCount.toLocaleString('en-US')}`,
      );
    }
    trainer?.dispose();
    trainer = next;
    halt = null;
    lastCkpt = null;
    lastLoss = NaN;
    lastVal = null;
    info = runInfo(next, preset, b);
    return info;
  }

  /** Read a logged step's metrics (the only readbacks during training). */
  async function metricsOf(
    t: Trainer,
    h: StepHandles,
    since: { time: number; step: number; tokens: number },
  ): Promise<StepMetrics> {
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
    const tokensPerS = (t.tokensProcessed - since.tokens) / Math.max(1e-9, (performance.now() - since.time) / 1000);
    const s = t.step;
    let val: number | null = null;
    const evalNow = s % t.cfg.train.eval_every === 0 || s === totalSteps(t.cfg);
    if (evalNow) {
      val = await t.valLoss();
      lastVal = val;
    }
    lastLoss = loss;
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
    if (t.rl && (evalNow || s === t.cfg.train.steps || s === t.cfg.train.steps + t.cfg.rl.sft_steps)) {
      // Held-out accuracy at every eval step and at each stage's end (the handoff points).
      const e = await t.rl.evaluate();
      m.heldout_greedy = e.greedy;
      m.heldout_pass_k = e.passK;
    }
    if (mtpLoss !== null) m.mtp_loss = mtpLoss;
    if (loads.length) {
      const vio = loads.map(maxVio);
      m.max_vio = vio.reduce((a, b) => a + b, 0) / vio.length;
      m.max_vio_layers = vio;
      m.expert_load = loads;
      m.router_bias = await t.routerBias();
      if (aux !== null) m.aux_loss = aux;
    }
    return m;
  }

  async function maybeCheckpoint(t: Trainer): Promise<void> {
    // RL pipelines also checkpoint at each stage's end: the handoff from pretraining to SFT / GRPO.
    const handoff =
      t.rl !== null && (t.step === t.cfg.train.steps || t.step === t.cfg.train.steps + t.cfg.rl.sft_steps);
    if (t.step % t.cfg.train.checkpoint_every === 0 || t.step === totalSteps(t.cfg) || handoff) {
      lastCkpt = await t.checkpoint(info!.preset);
    }
  }

  return {
    trainer: () => trainer,

    async init(opts: InitOptions = {}) {
      const want = opts.backend ?? kind;
      if (want !== 'webgpu' && want !== 'cpu')
        throw new ConfigError(`backend: "${String(want)}" is not one of webgpu, cpu`);
      if (want !== kind || !backend) {
        if (running) throw new Error('a run is training; stop it before switching backends');
        trainer?.dispose();
        trainer = null;
        info = null;
        backend = null;
        kind = want;
      }
      const b = await be();
      const features =
        b.name === 'webgpu'
          ? Object.entries((b as unknown as { rt: { features: Record<string, boolean> } }).rt.features)
              .filter(([, v]) => v)
              .map(([k]) => k)
          : [];
      return { adapter: b.deviceLabel, backend: b.name, features };
    },

    async presets(): Promise<PresetInfo[]> {
      return PRESETS.map((p) => ({ name: p.name, description: p.description }));
    },

    async createRun(opts: RunOptions): Promise<RunInfo> {
      if (running) throw new Error('a run is training; stop it before creating another');
      const preset = findPreset(opts.preset);
      if (!preset)
        throw new ConfigError(`unknown preset "${opts.preset}" (available: ${PRESETS.map((p) => p.name).join(', ')})`);
      if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 2 ** 32 - 1)
        throw new ConfigError(`seed: ${opts.seed} is not an integer in [0, 2^32)`);
      const set = { ...(opts.set ?? {}) };
      if (opts.steps !== undefined) set['train.steps'] = opts.steps;
      const cfg = applyOverrides(preset.config, set);
      const b = await be();
      return install(new Trainer(b, cfg, opts.seed), preset.name, b);
    },

    async train(onMetrics, opts = {}): Promise<RunSummary> {
      const t = current();
      if (running) throw new Error('already training');
      running = true;
      halt = null;
      const stopAt = Math.min(
        totalSteps(t.cfg),
        opts.maxSteps !== undefined ? t.step + Math.max(0, Math.floor(opts.maxSteps)) : Infinity,
      );
      let mark = { time: performance.now(), step: t.step, tokens: t.tokensProcessed };
      try {
        while (t.step < stopAt && halt === null && t.step < totalSteps(t.cfg)) {
          const h = await t.trainStep();
          const s = t.step;
          // RL pipelines also log (and evaluate) at each stage's end, the handoff points.
          const handoff = t.rl !== null && (s === t.cfg.train.steps || s === t.cfg.train.steps + t.cfg.rl.sft_steps);
          const logNow =
            s % t.cfg.train.log_every === 0 ||
            s % t.cfg.train.eval_every === 0 ||
            s === totalSteps(t.cfg) ||
            s === stopAt ||
            handoff;
          if (logNow) {
            const m = await metricsOf(t, h, mark);
            // Awaited so batches arrive in order and the page's callback is not flooded.
            await onMetrics([m]);
          } else {
            disposeHandles(h);
          }
          await maybeCheckpoint(t);
          if (logNow) mark = { time: performance.now(), step: s, tokens: t.tokensProcessed };
        }
      } finally {
        running = false;
      }
      const reason: RunSummary['reason'] =
        t.step >= totalSteps(t.cfg)
          ? 'finished'
          : halt === 'stop'
            ? 'stopped'
            : halt === 'pause'
              ? 'paused'
              : 'max-steps';
      return {
        done: reason === 'finished',
        steps: t.step,
        final_loss: lastLoss,
        final_val_loss: lastVal,
        adapter: info!.adapter,
        reason,
      };
    },

    async step(): Promise<StepMetrics> {
      const t = current();
      if (running) throw new Error('already training');
      if (t.step >= totalSteps(t.cfg)) throw new Error(`the run has finished its ${totalSteps(t.cfg)} steps`);
      running = true;
      try {
        const since = { time: performance.now(), step: t.step, tokens: t.tokensProcessed };
        const h = await t.trainStep();
        const m = await metricsOf(t, h, since);
        await maybeCheckpoint(t);
        return m;
      } finally {
        running = false;
      }
    },

    async pause() {
      if (running) halt = 'pause';
    },

    async stop() {
      halt = 'stop';
    },

    async reset() {
      if (running) {
        halt = 'stop';
        throw new Error('a run is training; it is being stopped — reset again once it has halted');
      }
      trainer?.dispose();
      trainer = null;
      info = null;
      lastCkpt = null;
    },

    async setLive(path: string, value: string | number | boolean): Promise<LiveChange> {
      const t = current();
      const f = findField(path);
      if (!f) throw new ConfigError(`unknown config path "${path}"`);
      if (!f.live)
        throw new ConfigError(`${path}: cannot change during a run (it needs a new model); reset the run to change it`);
      const v = parseFieldValue(path, value);
      const [sec, key] = path.split('.');
      const next = structuredClone(t.cfg) as unknown as Record<string, Record<string, unknown>>;
      next[sec][key] = v;
      t.cfg = validateConfig(next);
      info = { ...info!, config: structuredClone(t.cfg) };
      return { step: t.step + 1, path, value: v };
    },

    async sample(opts: SampleOptions): Promise<SampleResult> {
      const t = current();
      if (running) throw new Error('pause the run to sample');
      if (!Number.isInteger(opts.length) || opts.length < 1 || opts.length > 2000)
        throw new ConfigError(`sample length: ${opts.length} is not an integer in [1, 2000]`);
      if (!Number.isFinite(opts.temperature) || opts.temperature < 0 || opts.temperature > 10)
        throw new ConfigError(`temperature: ${opts.temperature} is not in [0, 10]`);
      const topK = opts.topK ?? 0;
      const topP = opts.topP ?? 1;
      if (!Number.isInteger(topK) || topK < 0) throw new ConfigError(`top-k: ${topK} is not an integer ≥ 0 (0 = off)`);
      if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new ConfigError(`top-p: ${topP} is not in (0, 1]`);
      if (opts.speculative && t.model.num_nextn_predict_layers < 1)
        throw new ConfigError(
          'speculative decoding needs an MTP module: set model.num_nextn_predict_layers ≥ 1 (e.g. the v3-tiny preset)',
        );
      running = true;
      try {
        const { texts, stats } = await t.sample({ ...opts, topK, topP, count: 1 });
        return { text: texts[0], stats };
      } finally {
        running = false;
      }
    },

    async attentionPattern(opts: { text: string; layer: number; head: number }) {
      const t = current();
      if (running) throw new Error('pause the run to inspect attention');
      running = true;
      try {
        return await t.attentionPattern(opts.text, opts.layer, opts.head);
      } finally {
        running = false;
      }
    },

    async precisionStats() {
      const t = current();
      if (running) throw new Error('pause the run to inspect quantization');
      const spec = lowpSpec(t.model);
      const weights = [...t.trainable].filter(
        ([name, w]) => w.shape.length === 2 && /\.(self_attn|mlp)\./.test(name) && !name.includes('.mlp.gate.'),
      );
      running = true;
      try {
        return await quantStats(t.be, weights, spec.forward, spec.weightTiling);
      } finally {
        running = false;
      }
    },

    async checkpoint(opts = {}): Promise<Checkpoint> {
      const t = current();
      if (running) throw new Error('pause the run to take a checkpoint');
      return t.checkpoint(info!.preset, opts.weightsOnly ?? false);
    },

    async lastCheckpoint(): Promise<Checkpoint | null> {
      return lastCkpt;
    },

    async distill(req: DistillRequest, onPoint, onProgress) {
      if (running) throw new Error('a run is training; pause or stop it before distilling');
      const teacher = findPreset(req.teacher);
      const student = findPreset(req.student);
      if (!teacher) throw new ConfigError(`teacher: unknown preset "${req.teacher}"`);
      if (!student) throw new ConfigError(`student: unknown preset "${req.student}"`);
      if (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > 2 ** 32 - 1)
        throw new ConfigError(`seed: ${req.seed} is not an integer in [0, 2^32)`);
      const tc = applyOverrides(teacher.config, req.setTeacher ?? {});
      const sc = applyOverrides(student.config, req.set ?? {});
      const { checkDistillConfigs, distillVsRl } = await import('../rl/distill');
      try {
        checkDistillConfigs(tc, sc);
      } catch (e) {
        throw new ConfigError((e as Error).message);
      }
      const b = await be();
      running = true;
      try {
        return await distillVsRl(b, {
          teacher: tc,
          student: sc,
          seed: req.seed,
          onPoint: (p) => onPoint(p),
          onProgress,
        });
      } finally {
        running = false;
      }
    },

    async restore(ckpt: Checkpoint): Promise<RunInfo> {
      if (running) throw new Error('a run is training; stop it before restoring');
      if (ckpt?.format !== 'v3lab-checkpoint') throw new ConfigError('checkpoint: not a v3lab checkpoint');
      const preset = findPreset(ckpt.preset);
      if (!preset) throw new ConfigError(`checkpoint: unknown preset "${ckpt.preset}"`);
      const cfg = validateConfig(ckpt.config);
      const b = await be();
      const next = new Trainer(b, cfg, ckpt.seed);
      try {
        next.load(ckpt);
      } catch (e) {
        next.dispose();
        throw e;
      }
      const out = install(next, preset.name, b);
      lastCkpt = ckpt;
      return out;
    },
  };
}
