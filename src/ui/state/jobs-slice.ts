// Lab work beside training: samples on demand, inspections of the current run's model (an
// attention pattern, quantization statistics) and the distillation-vs-RL experiment. The lab
// does one thing at a time, so inspections wait for the current chunk (run/queue.ts) and
// distillation needs the GPU to itself.

import * as Comlink from 'comlink';
import type { DistillPoint, DistillRequest } from '../../lab/api';
import { describeError } from '../errors';
import { type LabClient, WorkerCrashedError } from '../lab-client';
import type { RunDriver } from '../run/driver';
import { CAN_COMPARE, CAN_INSPECT, RUN_ACTIVE } from '../run/machine';
import { askedSeed, takeSample } from '../run/sampler';
import type { LabContext } from './context';
import type { Inspection, JobsSlice } from './types';

/** Run an inspection of the current run's model when the lab is free; results are dropped if the run changed. */
async function inspect(
  ctx: LabContext,
  driver: RunDriver,
  kind: Inspection,
  work: (c: LabClient) => Promise<void>,
): Promise<void> {
  const { run, phase, inspecting } = ctx.get();
  const c = ctx.worker.current;
  if (!run || !c || inspecting || !CAN_INSPECT.has(phase)) return;
  ctx.set(kind === 'attention' ? { inspecting: kind, attentionError: null } : { inspecting: kind, quantError: null });
  await driver.queue.whenFree(
    () => work(c),
    phase,
    () => void driver.pauseLab(),
  );
  ctx.set({ inspecting: null });
}

function inspectAttention(ctx: LabContext, driver: RunDriver, text: string, layer: number, head: number) {
  const { set, get } = ctx;
  const run = get().run;
  return inspect(ctx, driver, 'attention', async (c) => {
    if (!run) return;
    try {
      const r = await c.call((lab) => lab.attentionPattern({ text, layer, head }));
      if (get().run === run)
        set({ attention: { runId: run.id, step: get().progress.step, layer, head, tokens: r.tokens, probs: r.probs } });
    } catch (err) {
      if (get().run === run) set({ attentionError: describeError(err) });
    }
  });
}

function inspectPrecision(ctx: LabContext, driver: RunDriver) {
  const { set, get } = ctx;
  const run = get().run;
  return inspect(ctx, driver, 'precision', async (c) => {
    if (!run) return;
    try {
      const stats = await c.call((lab) => lab.precisionStats());
      const precision = structuredClone((get().info?.config ?? run.config).precision);
      if (get().run === run) set({ quant: { runId: run.id, step: get().progress.step, precision, stats } });
    } catch (err) {
      if (get().run === run) set({ quantError: describeError(err) });
    }
  });
}

/** The seed field's seed or a fresh one; null (and a banner) when the field holds no seed. */
function seedAsked(ctx: LabContext): number | null {
  const s = askedSeed(ctx.get().sampleSeed);
  if ('seed' in s) return s.seed;
  ctx.banner('error', `Sample seed: ${s.error}`);
  return null;
}

async function sampleNow(ctx: LabContext, driver: RunDriver): Promise<void> {
  const { phase, info, sampling } = ctx.get();
  if (!info || sampling) return;
  const seed = seedAsked(ctx);
  if (seed === null) return;
  // While training, the chunk is cut short and the loop takes the sample.
  if (driver.requestSample(seed)) {
    await driver.pauseLab();
    return;
  }
  if (phase === 'paused' || phase === 'done' || phase === 'stopped') {
    const token = driver.runToken;
    await driver.queue.exclusively(
      async () => void (await takeSample(ctx, () => driver.isCurrent(token), undefined, seed)),
    );
  }
}

async function compareDecoding(ctx: LabContext, driver: RunDriver): Promise<void> {
  const { phase, info, sampling, comparing } = ctx.get();
  if (!info || sampling || comparing || !CAN_COMPARE.has(phase)) return;
  const seed = seedAsked(ctx);
  if (seed === null) return;
  const token = driver.runToken;
  ctx.set({ comparing: true });
  try {
    await driver.queue.exclusively(async () => {
      // One seed for both, so the two decodings differ only in how they decode.
      for (const speculative of [false, true]) {
        const ok = await takeSample(ctx, () => driver.isCurrent(token), speculative, seed);
        if (!ok) break;
      }
    });
  } finally {
    ctx.set({ comparing: false });
  }
}

async function runDistill(ctx: LabContext, req: DistillRequest): Promise<void> {
  const { set, get } = ctx;
  if (get().distill.status === 'running') return;
  if (RUN_ACTIVE.has(get().phase)) {
    ctx.banner('error', 'Distillation needs the GPU to itself: stop or finish the current run first.');
    return;
  }
  const c = ctx.worker.current;
  if (!c) {
    ctx.banner('error', 'The lab is not connected to a GPU yet.');
    return;
  }
  set({ distill: { status: 'running', request: req, points: [], result: null, progress: 'starting…', error: null } });
  const onPoint = Comlink.proxy((p: DistillPoint) =>
    set((s) => ({ distill: { ...s.distill, points: [...s.distill.points, p] } })),
  );
  const onProgress = Comlink.proxy((what: string) => set((s) => ({ distill: { ...s.distill, progress: what } })));
  try {
    const result = await c.call((lab) => lab.distill(req, onPoint, onProgress));
    set((s) => ({ distill: { ...s.distill, status: 'done', result, progress: '' } }));
  } catch (err) {
    if (get().distill.status === 'cancelled') return;
    if (err instanceof WorkerCrashedError) ctx.worker.drop();
    set((s) => ({ distill: { ...s.distill, status: 'failed', error: describeError(err), progress: '' } }));
  }
}

/**
 * Cancel: the experiment runs inside one lab call, so the worker is ended and a fresh one started
 * on the same backend (a paused run in the page is reset: its model was in that worker).
 */
async function cancelDistill(ctx: LabContext, driver: RunDriver): Promise<void> {
  if (ctx.get().distill.status !== 'running') return;
  ctx.set((s) => ({ distill: { ...s.distill, status: 'cancelled', progress: 'cancelled', error: null } }));
  const backend = ctx.get().backend ?? 'webgpu';
  ctx.worker.drop();
  if (ctx.get().run) await driver.resetRun();
  await driver.connect(backend);
}

export function jobsSlice(ctx: LabContext, driver: RunDriver): JobsSlice {
  return {
    attention: null,
    attentionError: null,
    quant: null,
    quantError: null,
    inspecting: null,
    sampleInfo: new WeakMap(),
    decoding: { plain: null, speculative: null },
    comparing: false,
    distill: { status: 'idle', request: null, points: [], result: null, progress: '', error: null },
    sampleNow: () => sampleNow(ctx, driver),
    inspectAttention: (text, layer, head) => inspectAttention(ctx, driver, text, layer, head),
    inspectPrecision: () => inspectPrecision(ctx, driver),
    compareDecoding: () => compareDecoding(ctx, driver),
    runDistill: (req) => runDistill(ctx, req),
    cancelDistill: () => cancelDistill(ctx, driver),
  };
}
