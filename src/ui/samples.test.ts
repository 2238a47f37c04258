// Samples you can trust, against a fake lab (no worker, no GPU): each sample keeps its prompt and
// how it was made; Sample now draws a fresh seed per click, the seed field repeats one; samples
// between chunks have the seed run seed + step. Also: a run the lab refuses for its memory shows
// the lab's message in the banner.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyOverrides, findPreset, type RunConfig, type SampleOptions } from '../config';
import type { RunInfo, RunSummary, StepMetrics } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { Schedule } from '../run/schedule';
import type { LabClient } from './lab-client';
import type { RunStoreLike } from './persist';

type Store = typeof import('./store');

/** A lab whose sample text is a function of its options: the same options give the same text. */
function fakeLab(createError?: Error) {
  let cfg: RunConfig | null = null;
  let step = 0;
  const asked: SampleOptions[] = [];
  const info = (preset: string, seed: number): RunInfo => ({
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
  const metric = (s: number): StepMetrics => ({
    step: s,
    loss: 3,
    val_loss: null,
    lr: 0,
    grad_norm: 1,
    tokens_per_s: 1,
  });
  return {
    asked,
    async init() {
      return { adapter: 'fake adapter', backend: 'webgpu' as const, features: [] };
    },
    async createRun(o: { preset: string; seed: number; set?: Record<string, string | number | boolean> }) {
      if (createError) throw createError;
      cfg = applyOverrides(findPreset(o.preset)!.config, o.set ?? {});
      step = 0;
      return info(o.preset, o.seed);
    },
    async train(cb: (b: StepMetrics[]) => void, o: { maxSteps?: number } = {}): Promise<RunSummary> {
      const stopAt = Math.min(cfg!.train.steps, step + (o.maxSteps ?? Infinity));
      while (step < stopAt) await cb([metric(++step)]);
      const done = step >= cfg!.train.steps;
      const reason = done ? ('finished' as const) : ('max-steps' as const);
      return { done, steps: step, final_loss: 3, final_val_loss: null, adapter: 'fake adapter', reason };
    },
    async pause() {},
    async stop() {},
    async reset() {},
    async sample(o: SampleOptions) {
      asked.push(o);
      const mode = o.speculative ? ('speculative' as const) : ('plain' as const);
      const stats = { mode, tokens: 9, forwards: 9, ms: 1, tokensPerSecond: 9, drafted: 0, accepted: 0 };
      return { text: `text of seed ${o.seed}`, stats: { ...stats, acceptanceRate: null } };
    },
    async checkpointSafetensors() {
      return new Uint8Array([1]);
    },
  };
}

function memoryStore(): RunStoreLike {
  const runs = new Map<string, RunRecord>();
  return {
    list: async () => [...runs.values()],
    put: async (r) => void runs.set(r.id, structuredClone(r)),
    delete: async (id) => void runs.delete(id),
    putCheckpoint: async () => {},
    getCheckpoint: async () => undefined,
  };
}

let S: Store;
let lab: ReturnType<typeof fakeLab>;
const st = () => S.useLab.getState();

async function setup(link: string, createError?: Error) {
  vi.resetModules();
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => setTimeout(cb, 0));
  vi.stubGlobal('location', { hash: link, origin: 'http://x', pathname: '/' });
  S = await import('./store');
  lab = fakeLab(createError);
  const client: LabClient = { call: (fn) => fn(lab as never), dispose() {} };
  S.setLabClientFactory(() => client);
  S.setRunStoreOpener(async () => memoryStore());
  await st().boot();
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('samples on the page', () => {
  it('a sample between chunks has seed run seed + step and records its prompt and mode', async () => {
    await setup('#v=1&preset=micro-dense&seed=7&train.steps=6&train.log_every=1&train.eval_every=3');
    st().setPrompt('the ');
    await st().start();
    const run = st().run!;
    expect(run.samples.map((x) => x.step)).toEqual([3, 6]);
    expect(st().sampleInfo.get(run.samples[0])).toEqual({
      prompt: 'the ',
      mode: 'plain',
      temperature: 0.8,
      topK: 0,
      topP: 1,
      seed: 10,
    });
    expect(lab.asked.map((o) => o.seed)).toEqual([10, 13]);
  });

  it('each Sample now draws a fresh seed; the seed field repeats one; a bad seed samples nothing', async () => {
    await setup('#v=1&preset=micro-dense&seed=1&train.steps=2&train.log_every=1&train.eval_every=2&hide=samples');
    await st().start(); // samples hidden while training: none yet
    S.useLab.setState({ hide: [] });
    st().setSampling({ topK: 5, topP: 0.9 });
    await st().sampleNow();
    await st().sampleNow();
    const run = st().run!;
    expect(run.samples).toHaveLength(2);
    const [a, b] = run.samples.map((x) => st().sampleInfo.get(x)!);
    expect(a.seed).not.toBe(b.seed);
    expect(run.samples[0].text).not.toBe(run.samples[1].text);
    expect(a).toMatchObject({ mode: 'plain', topK: 5, topP: 0.9, prompt: '' });
    // Repeat the first one.
    st().setSampleSeed(String(a.seed));
    await st().sampleNow();
    expect(run.samples[2].text).toBe(run.samples[0].text);
    expect(st().sampleInfo.get(run.samples[2])!.seed).toBe(a.seed);
    // A seed that is not one: no sample, a banner naming the field.
    st().setSampleSeed('12x');
    await st().sampleNow();
    expect(run.samples).toHaveLength(3);
    expect(st().banners.map((x) => x.title)).toContainEqual(expect.stringMatching(/^Sample seed: "12x" is not/));
  });

  it('Plain vs speculative samples both decodings with one seed', async () => {
    await setup(
      '#v=1&preset=micro-dense&seed=1&model.num_nextn_predict_layers=1&train.steps=2&train.log_every=1&train.eval_every=2&hide=samples',
    );
    await st().start();
    S.useLab.setState({ hide: [] });
    st().setSampleSeed('42');
    await st().compareDecoding();
    expect(lab.asked.map((o) => [o.seed, !!o.speculative])).toEqual([
      [42, false],
      [42, true],
    ]);
  });
});

describe('a run the lab refuses', () => {
  it('shows the lab’s memory message, naming the field, in the banner', async () => {
    // What comlink hands the page for a ConfigError thrown in the worker: an Error with its name.
    const msg =
      "memory: this run needs about 9.1 GiB (weights 1.2 MiB, activations 6.0 GiB, logits 3.0 GiB), over the lab's 8.0 GiB budget; the largest part is activations: lower data.batch_size / data.seq_len";
    await setup(
      '#v=1&preset=micro-dense&data.batch_size=1024&data.seq_len=1024',
      Object.assign(new Error(msg), { name: 'ConfigError' }),
    );
    await st().start();
    expect(st().phase).toBe('idle');
    expect(st().run).toBeNull();
    expect(st().banners.map((b) => b.title)).toEqual([`Could not start the run: ${msg}`]);
  });
});
