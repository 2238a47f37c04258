// The page store's run lifecycle against a fake lab (no worker, no GPU, in-memory history):
// chunked training with samples, pause/resume, live changes, confirm before a reset, device
// loss and continuing from the last checkpoint, single steps.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Checkpoint, RunInfo, RunSummary, StepMetrics } from '../lab/api';
import { applyOverrides, parseFieldValue, type RunConfig } from '../config';
import { findPreset } from '../config';
import type { RunRecord } from '../lab/runfile';
import { Schedule } from '../run/schedule';
import type { LabClient } from './lab-client';
import type { RunStoreLike } from './persist';

type Store = typeof import('./store');

interface FakeOptions {
  /** Throw a DeviceLostError (once) when about to take this step. */
  loseAt?: number;
  /** Milliseconds per step. */
  stepMs?: number;
  /** Milliseconds createRun takes. */
  createMs?: number;
  /** Report a non-finite loss at this step (the lab stops the run there). */
  divergeAt?: number;
}

function fakeLab(opts: FakeOptions = {}) {
  let step = 0;
  let cfg: RunConfig | null = null;
  let preset = '';
  let seed = 0;
  let halt: 'pause' | 'stop' | null = null;
  let running = false;
  let lost = false;
  const calls: string[] = [];
  const metric = (s: number): StepMetrics => ({
    step: s,
    loss: 4 - s / 10,
    val_loss: s % cfg!.train.eval_every === 0 ? 4 - s / 10 : null,
    lr: cfg!.optim.lr,
    grad_norm: 1,
    tokens_per_s: 1000,
  });
  const info = (): RunInfo => ({
    preset,
    seed,
    totalSteps: cfg!.train.steps,
    step,
    vocabSize: 27,
    params: 1000,
    backend: 'webgpu',
    adapter: 'fake adapter',
    matmulTiles: 'f32',
    config: structuredClone(cfg!),
    stages: [...new Schedule(cfg!).stages],
  });
  const lab = {
    calls,
    async init(o: { backend?: 'webgpu' | 'cpu' } = {}) {
      return { adapter: 'fake adapter', backend: o.backend ?? 'webgpu', features: [] };
    },
    async createRun(o: { preset: string; seed: number; set?: Record<string, string | number | boolean> }) {
      calls.push('createRun');
      if (opts.createMs) await new Promise((r) => setTimeout(r, opts.createMs));
      cfg = applyOverrides(findPreset(o.preset)!.config, o.set ?? {});
      preset = o.preset;
      seed = o.seed;
      step = 0;
      return info();
    },
    async train(cb: (b: StepMetrics[]) => void, o: { maxSteps?: number } = {}): Promise<RunSummary> {
      calls.push(`train ${o.maxSteps}`);
      running = true;
      halt = null;
      const stopAt = Math.min(cfg!.train.steps, o.maxSteps !== undefined ? step + o.maxSteps : Infinity);
      try {
        while (step < stopAt && halt === null) {
          await new Promise((r) => setTimeout(r, opts.stepMs ?? 1));
          if (step === opts.loseAt && !lost) {
            lost = true;
            throw Object.assign(new Error('GPU device lost (destroyed): test'), { name: 'DeviceLostError' });
          }
          step++;
          if (step % cfg!.train.log_every === 0 || step === stopAt) await cb([metric(step)]);
          if (step === opts.divergeAt) break;
        }
      } finally {
        running = false;
      }
      if (step === opts.divergeAt) {
        const error = `diverged at step ${step}: loss is NaN — the run stopped; lower optim.lr`;
        return {
          done: false,
          steps: step,
          final_loss: NaN,
          final_val_loss: null,
          adapter: 'fake adapter',
          reason: 'diverged' as const,
          error,
        };
      }
      const reason =
        step >= cfg!.train.steps ? 'finished' : halt === 'stop' ? 'stopped' : halt === 'pause' ? 'paused' : 'max-steps';
      return {
        done: reason === 'finished',
        steps: step,
        final_loss: 0,
        final_val_loss: null,
        adapter: 'fake adapter',
        reason,
      };
    },
    async step() {
      step++;
      return metric(step);
    },
    async pause() {
      calls.push('pause');
      if (running) halt = 'pause';
    },
    async stop() {
      halt = 'stop';
    },
    async reset() {
      calls.push('reset');
    },
    async setLive(path: string, value: string | number | boolean) {
      const v = parseFieldValue(path, value);
      const [sec, key] = path.split('.');
      (cfg as unknown as Record<string, Record<string, unknown>>)[sec][key] = v;
      return { step: step + 1, path, value: v };
    },
    async attentionPattern(o: { text: string; layer: number; head: number }) {
      if (running) throw new Error('pause the run to inspect attention');
      calls.push(`attention ${o.layer}/${o.head} at ${step}`);
      const chars = Array.from(o.text);
      if (chars.some((ch) => !'abcdefghijklmnopqrstuvwxyz .'.includes(ch)))
        throw new Error('attention pattern: text has characters outside the vocabulary: "!"');
      const T = chars.length;
      const probs = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) probs[i * T + j] = 1 / (i + 1);
      return { tokens: chars, probs };
    },
    async precisionStats() {
      if (running) throw new Error('pause the run to inspect quantization');
      calls.push(`precision at ${step}`);
      return [
        {
          name: 'model.layers.0.self_attn.q_proj.weight',
          calcDiff: 1e-4,
          saturated: 0.001,
          amax: 0.08,
          scaleLog2: { [-11]: 1 },
        },
      ];
    },
    async sample(o: { temperature: number; speculative?: boolean }) {
      calls.push(`sample T=${o.temperature}`);
      const mode = o.speculative ? ('speculative' as const) : ('plain' as const);
      return {
        text: 'the cat sees',
        stats: {
          mode,
          tokens: 12,
          forwards: o.speculative ? 7 : 12,
          ms: 10,
          tokensPerSecond: 1200,
          drafted: o.speculative ? 6 : 0,
          accepted: o.speculative ? 5 : 0,
          acceptanceRate: o.speculative ? 5 / 6 : null,
        },
      };
    },
    async checkpointSafetensors() {
      calls.push('checkpoint');
      return new Uint8Array([1, 2, 3]);
    },
    async lastCheckpoint(): Promise<Checkpoint | null> {
      calls.push('lastCheckpoint');
      return { format: 'v3lab-checkpoint', version: 1, preset, seed, step: 4, config: cfg!, params: {} };
    },
    /** After a reload: the kept checkpoint's bytes hold (in this fake) the step it was taken at. */
    async restoreSafetensors(bytes: Uint8Array) {
      calls.push(`restoreSafetensors ${bytes[0]}`);
      cfg = applyOverrides(findPreset('micro-dense')!.config, { 'train.steps': 12, 'train.eval_every': 6 });
      preset = 'micro-dense';
      seed = 3;
      step = bytes[0];
      return info();
    },
    async restore(c: Checkpoint) {
      calls.push(`restore ${c.step}`);
      step = c.step;
      return info();
    },
  };
  return lab;
}

function memoryStore() {
  const runs = new Map<string, RunRecord>();
  const ckpts = new Map<string, Uint8Array>();
  const s: RunStoreLike = {
    async list() {
      return [...runs.values()].map((r) => structuredClone(r));
    },
    async put(r) {
      runs.set(r.id, structuredClone(r));
    },
    async delete(id) {
      runs.delete(id);
      ckpts.delete(id);
    },
    async putCheckpoint(id, b) {
      ckpts.set(id, b);
    },
    async getCheckpoint(id) {
      return ckpts.get(id);
    },
  };
  return { s, runs, ckpts };
}

let S: Store;
let lab: ReturnType<typeof fakeLab>;
let mem: ReturnType<typeof memoryStore>;

async function setup(opts: FakeOptions = {}, link = '') {
  vi.resetModules();
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => setTimeout(cb, 0));
  vi.stubGlobal('location', { hash: link, origin: 'http://x', pathname: '/' });
  S = await import('./store');
  lab = fakeLab(opts);
  mem = memoryStore();
  const client: LabClient = { call: (fn) => fn(lab as never), dispose() {} };
  S.setLabClientFactory(() => client);
  S.setRunStoreOpener(async () => mem.s);
  await S.useLab.getState().boot();
}

const st = () => S.useLab.getState();
const until = (cond: () => boolean) => vi.waitFor(() => expect(cond()).toBe(true), { timeout: 5000, interval: 5 });

beforeEach(() => {
  vi.useRealTimers();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('lab page store', () => {
  it('trains in chunks ending on eval steps, samples between them, and saves the finished run', async () => {
    await setup({}, '#v=1&preset=micro-dense&train.steps=12&train.log_every=2&train.eval_every=5');
    expect(st().phase).toBe('idle');
    expect(st().adapter).toBe('fake adapter');
    await st().start();
    expect(st().phase).toBe('done');
    // The last chunk asks for 5 steps; the lab stops at the run's end.
    expect(lab.calls.filter((c) => c.startsWith('train'))).toEqual(['train 5', 'train 5', 'train 5']);
    expect(lab.calls.filter((c) => c.startsWith('sample'))).toHaveLength(3);
    const run = st().run!;
    expect(run.metrics.map((m) => m.step)).toEqual([2, 4, 5, 6, 8, 10, 12]);
    expect(run.samples.map((s) => s.step)).toEqual([5, 10, 12]);
    expect(st().decoding.plain).toMatchObject({ mode: 'plain', tokensPerSecond: 1200 });
    expect(st().banners.filter((b) => b.kind === 'error')).toEqual([]);
    expect(st().progress).toMatchObject({ step: 12, total: 12, loss: 4 - 1.2 });
    await until(() => mem.ckpts.has(run.id));
    expect(mem.runs.get(run.id)).toMatchObject({ status: 'done', preset: 'micro-dense' });
    expect(mem.runs.get(run.id)!.metrics).toHaveLength(7);
  });

  it('pause halts, resume continues; a live change is recorded; a non-live edit asks first', async () => {
    await setup(
      { stepMs: 5 },
      '#v=1&preset=micro-dense&train.steps=40&train.log_every=1&train.eval_every=40&hide=samples',
    );
    const done = st().start();
    await until(() => st().progress.step >= 3);

    st().setField('optim.lr', '0.001');
    await st().commitField('optim.lr');
    expect(st().run!.changes).toEqual([expect.objectContaining({ path: 'optim.lr', value: 0.001 })]);
    await st().commitField('optim.lr'); // unchanged: no second marker
    expect(st().run!.changes).toHaveLength(1);

    st().setField('model.hidden_size', '32');
    expect(st().confirm?.testId).toBe('confirm-reset');
    st().answerConfirm(false);
    expect(st().draft['model.hidden_size']).toBe('64');
    expect(st().phase).toBe('training');

    await st().pause();
    await done;
    expect(st().phase).toBe('paused');
    const at = st().progress.step;
    await new Promise((r) => setTimeout(r, 50));
    expect(st().progress.step).toBe(at);
    await st().start();
    expect(st().phase).toBe('done');
    expect(st().progress.step).toBe(40);
    expect(
      st()
        .run!.metrics.filter((m) => m.step > st().run!.changes[0].step - 1)
        .every((m) => m.lr === 0.001),
    ).toBe(true);
  });

  it('confirming a non-live edit stops and resets the run, keeping it in history', async () => {
    await setup({ stepMs: 5 }, '#v=1&preset=micro-dense&train.steps=400&train.log_every=1&hide=samples');
    const done = st().start();
    await until(() => st().progress.step >= 2);
    const id = st().run!.id;
    st().setField('model.num_hidden_layers', '1');
    st().answerConfirm(true);
    await done;
    await until(() => st().run === null);
    expect(st().phase).toBe('idle');
    expect(st().draft['model.num_hidden_layers']).toBe('1');
    expect(lab.calls).toContain('reset');
    expect(st().runs.find((r) => r.id === id)?.status).toBe('stopped');
  });

  it('device loss pauses the run with its data; continuing restores the last checkpoint and finishes', async () => {
    await setup(
      { loseAt: 7 },
      '#v=1&preset=micro-dense&train.steps=12&train.log_every=1&train.eval_every=100&hide=samples',
    );
    await st().start();
    expect(st().phase).toBe('lost');
    expect(st().banners.some((b) => b.kind === 'lost')).toBe(true);
    expect(st().run!.metrics.at(-1)!.step).toBe(7);
    expect(st().run!.status).toBe('paused');
    await st().continueFromCheckpoint();
    expect(lab.calls).toContain('lastCheckpoint');
    expect(lab.calls).toContain('restore 4');
    expect(st().phase).toBe('done');
    // Steps 5..7 were trained again from the checkpoint: each appears once.
    expect(st().run!.metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(st().banners.some((b) => b.kind === 'lost')).toBe(false);
  });

  it('Step from idle builds the run and takes exactly one step', async () => {
    await setup({}, '#v=1&preset=micro-dense&train.steps=3&train.log_every=1');
    await st().singleStep();
    expect(st().phase).toBe('paused');
    expect(st().progress.step).toBe(1);
    await st().singleStep();
    await st().singleStep();
    expect(st().phase).toBe('done');
  });

  it('invalid fields block Start; a malformed link is reported per field', async () => {
    await setup({}, '#v=1&preset=micro-dense&optim.lr=abc&seed=zz');
    const errs = st()
      .banners.flatMap((b) => b.lines)
      .join('\n');
    expect(errs).toMatch(/optim\.lr/);
    expect(errs).toMatch(/seed/);
    expect(st().draft['optim.lr']).toBe('0.003');
    st().setField('model.num_attention_heads', '5');
    expect(st().evaluated.errors['model.num_attention_heads']).toMatch(/does not divide/);
    await st().start();
    expect(st().run).toBeNull();
    expect(st().phase).toBe('idle');
  });

  it('inspections run at once when paused or done, and between chunks (pausing briefly) while training', async () => {
    await setup(
      { stepMs: 5 },
      '#v=1&preset=micro-dense&train.steps=60&train.log_every=1&train.eval_every=60&hide=samples',
    );
    const done = st().start();
    await until(() => st().progress.step >= 3);
    await st().inspectAttention('the cat.', 1, 2);
    expect(st().attention).toMatchObject({ layer: 1, head: 2, tokens: Array.from('the cat.') });
    expect(st().attention!.step).toBeGreaterThanOrEqual(3);
    expect(st().inspecting).toBeNull();
    // Training carried on after the inspection.
    expect(st().phase).toBe('training');
    await st().inspectPrecision();
    expect(st().quant!.stats).toHaveLength(1);
    expect(st().quant!.precision.linear).toBe('f32');
    await done;
    expect(st().phase).toBe('done');
    expect(st().progress.step).toBe(60);
    // A bad text is reported on the panel, not as a run failure.
    await st().inspectAttention('no!', 0, 0);
    expect(st().attentionError).toMatch(/outside the vocabulary/);
    expect(st().attention!.tokens).toEqual(Array.from('the cat.'));
    await st().inspectAttention('a cat', 0, 0);
    expect(lab.calls.filter((c) => c.startsWith('attention')).at(-1)).toBe('attention 0/0 at 60');
    expect(st().attentionError).toBeNull();
  });

  it('the f32 twin of a lowp run uses its config and seed with f32 linears, and is overlaid on it', async () => {
    await setup(
      {},
      '#v=1&preset=micro-fp8&seed=7&train.steps=4&train.log_every=1&train.eval_every=4&optim.lr=0.002&hide=samples',
    );
    await st().start();
    const src = st().run!;
    expect(src.config.precision.linear).toBe('lowp');
    await st().runF32Twin(src.id);
    const twin = st().run!;
    expect(twin.id).not.toBe(src.id);
    expect(st().phase).toBe('done');
    expect(twin).toMatchObject({ preset: 'micro-fp8', seed: 7 });
    expect(twin.config.precision.linear).toBe('f32');
    expect(twin.config.optim.lr).toBe(0.002);
    expect({ ...twin.config, precision: src.config.precision }).toEqual(src.config);
    expect(st().overlayIds).toEqual(expect.arrayContaining([src.id, twin.id]));
    expect(st().baselineId).toBe(src.id);
    // Not offered for f32 runs: nothing happens.
    await st().runF32Twin(twin.id);
    expect(st().run!.id).toBe(twin.id);
  });

  it('Stop while the run is being built ends it as soon as it exists, without training', async () => {
    await setup({ createMs: 50 }, '#v=1&preset=micro-dense&train.steps=20&hide=samples');
    const started = st().start();
    await until(() => st().phase === 'starting');
    await st().stop();
    expect(st().phase).toBe('starting');
    await started;
    expect(st().phase).toBe('stopped');
    expect(lab.calls.some((c) => c.startsWith('train'))).toBe(false);
    const id = st().run!.id;
    await S.whenSaved();
    expect(mem.runs.get(id)?.status).toBe('stopped');
    // A new run starts without the old request.
    await st().start();
    expect(st().phase).toBe('done');
  });

  it('Sample now while training cuts the chunk short for a sample, and training carries on', async () => {
    await setup({ stepMs: 5 }, '#v=1&preset=micro-dense&train.steps=60&train.log_every=1&train.eval_every=60');
    const done = st().start();
    await until(() => st().progress.step >= 3);
    await st().sampleNow();
    await until(() => st().run!.samples.length === 1);
    expect(st().run!.samples[0].step).toBeLessThan(60);
    expect(st().phase).toBe('training');
    await done;
    expect(st().phase).toBe('done');
    // The asked-for sample, then the one at the end.
    expect(
      st()
        .run!.samples.map((x) => x.step)
        .at(-1),
    ).toBe(60);
    expect(lab.calls.filter((c) => c.startsWith('train')).length).toBeGreaterThan(1);
  });

  it('actions that do not apply in a phase are ignored: Pause while paused, Step while training, Stop when done', async () => {
    await setup({ stepMs: 5 }, '#v=1&preset=micro-dense&train.steps=30&train.log_every=1&hide=samples');
    await st().singleStep();
    expect(st().phase).toBe('paused');
    const calls = lab.calls.length;
    await st().pause();
    expect(st().phase).toBe('paused');
    expect(lab.calls.length).toBe(calls);
    const done = st().start();
    await until(() => st().progress.step >= 3);
    await st().singleStep(); // ignored while training
    expect(st().phase).toBe('training');
    await st().stop();
    expect(st().phase).toBe('stopping');
    await st().stop(); // already stopping
    await done;
    expect(st().phase).toBe('stopped');
    const stoppedAt = st().progress.step;
    expect(stoppedAt).toBeLessThan(30);
    await st().stop(); // nothing to stop
    await st().pause();
    expect(st().phase).toBe('stopped');
    await until(() => mem.ckpts.has(st().run!.id));
  });

  it('Stop while paused ends the run at once and saves its weights', async () => {
    await setup({}, '#v=1&preset=micro-dense&train.steps=10&train.log_every=1&hide=samples');
    await st().singleStep();
    await st().singleStep();
    await st().stop();
    expect(st().phase).toBe('stopped');
    expect(st().progress.step).toBe(2);
    const id = st().run!.id;
    await S.whenSaved();
    expect(mem.runs.get(id)?.status).toBe('stopped');
    expect(mem.ckpts.has(id)).toBe(true);
  });

  it('a diverged run fails with the message of the lab and is saved as failed', async () => {
    await setup({ divergeAt: 3 }, '#v=1&preset=micro-dense&train.steps=20&train.log_every=1&hide=samples');
    await st().start();
    expect(st().phase).toBe('failed');
    expect(st().banners.map((b) => b.title)).toContainEqual(expect.stringMatching(/run failed: diverged at step 3/));
    const id = st().run!.id;
    await S.whenSaved();
    expect(mem.runs.get(id)?.status).toBe('failed');
    // A new run can start after it.
    expect(S.CAN_START.has(st().phase)).toBe(true);
  });

  it('a run interrupted by a reload is offered for resuming from its kept checkpoint, continues there, and can be renamed', async () => {
    vi.resetModules();
    mem = memoryStore();
    const config = applyOverrides(findPreset('micro-dense')!.config, { 'train.steps': 12, 'train.eval_every': 6 });
    const m = (step: number): StepMetrics => ({
      step,
      loss: 4 - step / 10,
      val_loss: null,
      lr: 1,
      grad_norm: 1,
      tokens_per_s: 1,
    });
    const rec: RunRecord = {
      id: 'r1',
      name: 'run 1',
      createdAt: 1,
      preset: 'micro-dense',
      seed: 3,
      config,
      metrics: [m(2), m(4), m(5)],
      changes: [],
      samples: [],
      status: 'running',
      adapter: 'fake adapter',
      backend: 'webgpu',
      checkpointStep: 4,
    };
    await mem.s.put(rec);
    await mem.s.putCheckpoint('r1', new Uint8Array([4]));
    S = await import('./store');
    lab = fakeLab();
    const client: LabClient = { call: (fn) => fn(lab as never), dispose() {} };
    S.setLabClientFactory(() => client);
    S.setRunStoreOpener(async () => mem.s);
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => setTimeout(cb, 0));
    vi.stubGlobal('location', { hash: '#v=1&preset=micro-dense', origin: 'http://x', pathname: '/' });
    await st().boot();
    expect(st().resumeOffer).toEqual({ id: 'r1', name: 'run 1', step: 4, reached: 5 });
    expect(st().overlayIds).toEqual(['r1']); // the newest run's charts reopen
    expect(mem.runs.get('r1')?.status).toBe('stopped');
    await st().resumeSaved('r1');
    await until(() => st().phase === 'done');
    expect(lab.calls).toContain('restoreSafetensors 4');
    // Steps after 4 were trained again: the record holds each step once, in order, up to the end.
    const steps = st().run!.metrics.map((x) => x.step);
    expect(steps.slice(0, 2)).toEqual([2, 4]);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(12);
    expect(st().runs).toHaveLength(1);
    expect(st().resumeOffer).toBeNull();
    st().renameRun('r1', '  lr sweep, low  ');
    await S.whenSaved();
    expect(mem.runs.get('r1')?.name).toBe('lr sweep, low');
    st().renameRun('r1', '   ');
    expect(st().runs[0].name).toBe('lr sweep, low');
  });

  it('live changes made after the kept checkpoint are replayed at their steps when the run resumes', async () => {
    vi.resetModules();
    mem = memoryStore();
    const config = applyOverrides(findPreset('micro-dense')!.config, { 'train.steps': 12, 'train.eval_every': 6 });
    const ch = (step: number, path: string, value: number) => ({ step, path, value });
    const m = (step: number): StepMetrics => ({ step, loss: 1, val_loss: null, lr: 1, grad_norm: 1, tokens_per_s: 1 });
    await mem.s.put({
      id: 'r1',
      name: 'run 1',
      createdAt: 1,
      preset: 'micro-dense',
      seed: 3,
      config,
      metrics: [m(2), m(4), m(7)],
      // Made at steps 3 (in the checkpoint), 5 and 9 (after it: lost with the page unless replayed).
      changes: [ch(3, 'optim.lr', 0.002), ch(5, 'optim.lr', 0.001), ch(9, 'optim.weight_decay', 0.05)],
      samples: [],
      status: 'running',
      adapter: 'fake adapter',
      backend: 'webgpu',
      checkpointStep: 4,
    });
    await mem.s.putCheckpoint('r1', new Uint8Array([4]));
    S = await import('./store');
    lab = fakeLab();
    const client: LabClient = { call: (fn) => fn(lab as never), dispose() {} };
    S.setLabClientFactory(() => client);
    S.setRunStoreOpener(async () => mem.s);
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => setTimeout(cb, 0));
    vi.stubGlobal('location', { hash: '#v=1&preset=micro-dense', origin: 'http://x', pathname: '/' });
    await st().boot();
    await st().resumeSaved('r1');
    await until(() => st().phase === 'done');
    // The fake's setLive applies at its next step: each change is sent just before its own step.
    expect(st().run!.changes).toEqual([
      ch(3, 'optim.lr', 0.002),
      ch(5, 'optim.lr', 0.001),
      ch(9, 'optim.weight_decay', 0.05),
    ]);
    // Chunks: 4 → 6 (eval), 6 → 8 (cut for the change at 9, no sample there), 8 → 12.
    expect(lab.calls.filter((c) => c.startsWith('train'))).toEqual(['train 2', 'train 2', 'train 4']);
    expect(lab.calls.filter((c) => c.startsWith('sample'))).toHaveLength(2);
    expect(st().info!.config.optim).toMatchObject({ lr: 0.001, weight_decay: 0.05 });
    expect(st().draft['optim.weight_decay']).toBe('0.05');
  });
});
