// The lab API as the page and CLI use it: live changes, single steps, pause/resume, exact
// continuation from a checkpoint, and recovery after the GPU device is lost.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backends/cpu/backend';
import { WebGPUBackend } from '../backends/webgpu/backend';
import { nodeGpu } from '../backends/webgpu/node';
import type { Backend } from '../engine/backend';
import type { StepMetrics, StepTick } from './api';
import { createLab } from './lab';

const SMALL = {
  'data.batch_size': 2,
  'data.seq_len': 16,
  'model.num_hidden_layers': 1,
  'train.log_every': 1,
  'train.eval_every': 1000,
  'train.checkpoint_every': 4,
};

function gpuLab() {
  let be: WebGPUBackend | null = null;
  const lab = createLab(
    async (kind): Promise<Backend> =>
      kind === 'cpu' ? new CpuBackend() : (be = await WebGPUBackend.create(nodeGpu())),
  );
  return { lab, device: () => be! };
}

async function losses(lab: ReturnType<typeof createLab>, maxSteps?: number): Promise<number[]> {
  const out: StepMetrics[] = [];
  await lab.train(
    (b) => {
      out.push(...b);
    },
    { maxSteps },
  );
  return out.map((m) => m.loss);
}

describe('lab API', () => {
  it('continues a run exactly from a checkpoint', async () => {
    const { lab } = gpuLab();
    await lab.createRun({ preset: 'micro-dense', seed: 5, steps: 8, set: SMALL });
    const first = await losses(lab, 4);
    const ckpt = await lab.checkpoint();
    const rest = await losses(lab);
    expect(first).toHaveLength(4);
    expect(rest).toHaveLength(4);
    await lab.restore(ckpt);
    expect(await losses(lab)).toEqual(rest);
  });

  it('applies a live LR change at the next step, rejects non-live and bad values by name', async () => {
    const { lab } = gpuLab();
    await lab.createRun({
      preset: 'micro-dense',
      seed: 1,
      steps: 6,
      set: { ...SMALL, 'optim.warmup_steps': 0, 'optim.schedule': 'wsd', 'optim.decay_fraction': 0 },
    });
    const m1 = await lab.step();
    expect(m1.lr).toBeCloseTo(3e-3, 9);
    const change = await lab.setLive('optim.lr', '0.0005');
    expect(change).toEqual({ step: 2, path: 'optim.lr', value: 0.0005 });
    expect((await lab.step()).lr).toBeCloseTo(5e-4, 9);
    await expect(lab.setLive('model.hidden_size', 32)).rejects.toThrow(/model.hidden_size: cannot change during a run/);
    await expect(lab.setLive('optim.lr', 'fast')).rejects.toThrow(/optim.lr: "fast" is not a number/);
    await expect(lab.setLive('optim.nope', 1)).rejects.toThrow(/unknown config path "optim.nope"/);
  });

  it('pauses and resumes where it left off', async () => {
    const { lab } = gpuLab();
    await lab.createRun({ preset: 'micro-dense', seed: 2, steps: 50, set: SMALL });
    const seen: number[] = [];
    const summary = await lab.train((b) => {
      seen.push(...b.map((m) => m.step));
      if (seen.length === 3) void lab.pause();
    });
    expect(summary.reason).toBe('paused');
    expect(summary.steps).toBe(3);
    const more = await lab.train(() => {}, { maxSteps: 2 });
    expect(more.reason).toBe('max-steps');
    expect(more.steps).toBe(5);
  });

  it('recovers from a lost device by restoring the last automatic checkpoint', async () => {
    const { lab, device } = gpuLab();
    await lab.init();
    await lab.createRun({ preset: 'micro-dense', seed: 3, steps: 12, set: SMALL });
    await losses(lab, 6); // automatic checkpoint at step 4
    device().rt.device.destroy();
    await device().rt.device.lost;
    await expect(lab.train(() => {})).rejects.toThrow(/GPU device lost/);
    const ckpt = await lab.lastCheckpoint();
    expect(ckpt?.step).toBe(4);
    const info = await lab.restore(ckpt!);
    expect(info.step).toBe(4);
    const rest = await losses(lab);
    expect(rest).toHaveLength(8);
    expect(rest.every(Number.isFinite)).toBe(true);
  });

  it('ticks after every step whatever log_every is, and checkpoints on a time budget too', async () => {
    const lab = createLab(async () => new CpuBackend());
    await lab.init({ backend: 'cpu' });
    const set = { ...SMALL, 'train.log_every': 5, 'train.checkpoint_every': 1000 };
    await lab.createRun({ preset: 'micro-dense', seed: 2, steps: 6, set });
    const ticks: StepTick[] = [];
    // checkpointEveryS 1e-9: every step is past the time budget.
    await lab.train(
      () => {},
      { maxSteps: 3, checkpointEveryS: 1e-9 },
      (t) => {
        ticks.push(t);
      },
    );
    expect(ticks[0]).toMatchObject({ step: 1, startStep: 0, startTokens: 0, checkpointStep: 1 });
    expect(ticks.at(-1)).toMatchObject({ step: 3, checkpointStep: 3 });
    expect(ticks.at(-1)!.tokens).toBe(3 * 2 * 16);
    expect((await lab.lastCheckpoint())?.step).toBe(3);
    // A second call: its first tick is its first step; ticks keep their order.
    const later: StepTick[] = [];
    await lab.train(
      () => {},
      {},
      (t) => {
        later.push(t);
      },
    );
    expect(later[0]).toMatchObject({ step: 4, startStep: 3, startTokens: 3 * 2 * 16 });
    expect(later.at(-1)!.step).toBe(6);
    expect(later.every((t, i) => i === 0 || t.step > later[i - 1].step)).toBe(true);
  });

  it('replays live changes given at createRun exactly as they were made (a share link)', async () => {
    const lab = createLab(async () => new CpuBackend());
    await lab.init({ backend: 'cpu' });
    const opts = { preset: 'micro-dense', seed: 9, steps: 6, set: SMALL };
    await lab.createRun(opts);
    const before = await losses(lab, 3);
    const change = await lab.setLive('optim.lr', 0.02);
    expect(change).toEqual({ step: 4, path: 'optim.lr', value: 0.02 });
    const made = [...before, ...(await losses(lab))];
    await lab.createRun({ ...opts, live: [{ step: 4, path: 'optim.lr', value: '0.02' }] });
    expect(await losses(lab)).toEqual(made);
    await lab.createRun(opts);
    expect(await losses(lab)).not.toEqual(made);
    await expect(lab.createRun({ ...opts, live: [{ step: 2, path: 'model.hidden_size', value: 8 }] })).rejects.toThrow(
      /live\[0\]: model.hidden_size cannot change during a run/,
    );
  });

  it('samples text from the model and names characters outside the vocabulary', async () => {
    const { lab } = gpuLab();
    await lab.createRun({ preset: 'micro-dense', seed: 4, steps: 4, set: SMALL });
    const a = await lab.sample({ prompt: 'the ', length: 12, temperature: 0.8, seed: 1 });
    expect(Array.from(a.text)).toHaveLength(12);
    expect(a.stats).toMatchObject({ mode: 'plain', tokens: 12, acceptanceRate: null });
    expect((await lab.sample({ prompt: 'the ', length: 12, temperature: 0.8, seed: 1 })).text).toBe(a.text);
    await expect(lab.sample({ prompt: 'Zebra', length: 3, temperature: 1, seed: 1 })).rejects.toThrow(
      /outside the vocabulary: "Z"/,
    );
    await expect(lab.sample({ prompt: 'the ', length: 3, temperature: 1, seed: 1, topP: 0 })).rejects.toThrow(/top-p/);
    await expect(lab.sample({ prompt: 'the ', length: 3, temperature: 1, seed: 1, speculative: true })).rejects.toThrow(
      /needs an MTP module/,
    );
  });

  it('samples past seq_len in windows, and speculatively with the MTP drafter (greedy: same text)', async () => {
    const { lab } = gpuLab();
    await lab.createRun({ preset: 'micro-v3', seed: 2, steps: 2, set: { ...SMALL, 'data.seq_len': 16 } });
    const plain = await lab.sample({ prompt: 'a', length: 40, temperature: 0, seed: 1 });
    const spec = await lab.sample({ prompt: 'a', length: 40, temperature: 0, seed: 1, speculative: true });
    expect(Array.from(plain.text)).toHaveLength(40);
    expect(spec.text).toBe(plain.text);
    expect(spec.stats.mode).toBe('speculative');
    expect(spec.stats.acceptanceRate).not.toBeNull();
    expect(spec.stats.forwards).toBeLessThanOrEqual(plain.stats.forwards);
  });

  it('runs micro presets on the CPU reference and refuses big models there', async () => {
    const { lab } = gpuLab();
    expect((await lab.init({ backend: 'cpu' })).backend).toBe('cpu');
    await lab.createRun({ preset: 'micro-dense', seed: 1, steps: 2, set: SMALL });
    expect(await losses(lab)).toHaveLength(2);
    await expect(lab.createRun({ preset: 'small-mha', seed: 1 })).rejects.toThrow(
      /CPU reference backend is for micro models/,
    );
  });

  it('reports per-layer quantization statistics of the block linears', async () => {
    const { lab } = gpuLab();
    await lab.createRun({ preset: 'micro-fp8', seed: 1, steps: 2, set: SMALL });
    const stats = await lab.precisionStats();
    expect(stats.map((s) => s.name)).toContain('model.layers.0.self_attn.q_proj.weight');
    expect(stats).toHaveLength(7); // one layer (SMALL): q, k, v, o, gate, up, down
    for (const s of stats) {
      expect(s.calcDiff).toBeGreaterThan(0);
      expect(s.calcDiff).toBeLessThan(1e-3);
      expect(s.saturated).toBeGreaterThan(0); // the amax element of each tile maps to ±448
      expect(Object.values(s.scaleLog2).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
  });
});
