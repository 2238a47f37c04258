// The lab: runs built from presets + seed + overrides, trained step by step with metrics
// streamed out in batches. The worker exposes this object over comlink; the CLI calls it directly.

import type { Backend } from '../engine/backend';
import { Trainer } from '../train/trainer';
import type { LabApi, PresetInfo, RunInfo, RunOptions, RunSummary, StepMetrics } from './api';
import { ConfigError, applyOverrides } from './config';
import { PRESETS, findPreset } from './presets';

export function createLab(acquire: () => Promise<Backend>): LabApi & { trainer(): Trainer | null } {
  let backend: Backend | null = null;
  let trainer: Trainer | null = null;
  let info: RunInfo | null = null;
  let halt: 'pause' | 'stop' | null = null;
  let running = false;

  async function be(): Promise<Backend> {
    backend ??= await acquire();
    return backend;
  }

  return {
    trainer: () => trainer,

    async init() {
      const b = await be();
      const features = b.name === 'webgpu' ? Object.entries((b as unknown as { rt: { features: Record<string, boolean> } }).rt.features).filter(([, v]) => v).map(([k]) => k) : [];
      return { adapter: b.deviceLabel, backend: b.name, features };
    },

    async presets(): Promise<PresetInfo[]> {
      return PRESETS.map((p) => ({ name: p.name, description: p.description }));
    },

    async createRun(opts: RunOptions): Promise<RunInfo> {
      if (running) throw new Error('a run is training; stop it before creating another');
      const preset = findPreset(opts.preset);
      if (!preset) throw new ConfigError(`unknown preset "${opts.preset}" (available: ${PRESETS.map((p) => p.name).join(', ')})`);
      if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 2 ** 32 - 1) throw new ConfigError(`seed: ${opts.seed} is not an integer in [0, 2^32)`);
      const set = { ...(opts.set ?? {}) };
      if (opts.steps !== undefined) set['train.steps'] = opts.steps;
      const cfg = applyOverrides(preset.config, set);
      const b = await be();
      const next = new Trainer(b, cfg, opts.seed);
      trainer?.dispose();
      trainer = next;
      halt = null;
      info = {
        preset: preset.name,
        seed: opts.seed,
        totalSteps: cfg.train.steps,
        vocabSize: next.model.vocab_size,
        params: next.paramCount,
        backend: b.name,
        adapter: b.deviceLabel,
      };
      return info;
    },

    async train(onMetrics: (batch: StepMetrics[]) => void | Promise<void>): Promise<RunSummary> {
      const t = trainer;
      if (!t || !info) throw new Error('no run: call createRun first');
      if (running) throw new Error('already training');
      running = true;
      halt = null;
      const total = t.cfg.train.steps;
      let lastLoss = NaN;
      let lastVal: number | null = null;
      let mark = performance.now();
      let markStep = t.step;
      try {
        while (t.step < total && halt === null) {
          const h = await t.trainStep();
          const s = t.step;
          const logNow = s % t.cfg.train.log_every === 0 || s === total;
          if (!logNow) {
            h.loss.dispose();
            h.normSq.dispose();
            continue;
          }
          const loss = (await h.loss.read())[0];
          const normSq = (await h.normSq.read())[0];
          h.loss.dispose();
          h.normSq.dispose();
          const now = performance.now();
          const tokensPerS = ((s - markStep) * t.tokensPerStep) / Math.max(1e-9, (now - mark) / 1000);
          let val: number | null = null;
          if (s % t.cfg.train.eval_every === 0 || s === total) {
            val = await t.valLoss();
            lastVal = val;
          }
          mark = performance.now();
          markStep = s;
          lastLoss = loss;
          // Awaited so batches arrive in order and the page's callback is not flooded.
          await onMetrics([{ step: s, loss, val_loss: val, lr: h.lr, grad_norm: Math.sqrt(normSq), tokens_per_s: tokensPerS }]);
        }
      } finally {
        running = false;
      }
      const stopped = halt === 'stop';
      return { done: true, steps: t.step, final_loss: lastLoss, final_val_loss: lastVal, adapter: info.adapter, stopped };
    },

    async pause() {
      if (running) halt = 'pause';
    },

    async stop() {
      halt = 'stop';
    },
  };
}
