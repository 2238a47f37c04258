// The trainer's contract with the GPU: one command encoder (one submit) per training step, no
// readback inside it, and memory that returns to the pool every step.
import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../config';
import { findPreset } from '../config';
import { gpuBackend } from '../test/gpu';
import { RunPipeline } from '../run/pipeline';

describe('trainer', () => {
  it('submits exactly one command encoder per step and does not grow GPU memory', async () => {
    const be = await gpuBackend();
    const cfg = applyOverrides(findPreset('micro-dense')!.config, {
      'data.batch_size': 2,
      'data.seq_len': 16,
      'model.num_hidden_layers': 1,
    });
    const trainer = new RunPipeline(be, cfg, 3);
    await be.flush();
    const warm = await trainer.runStep();
    warm.loss.dispose();
    warm.normSq.dispose();
    await be.flush();
    const live = be.rt.pool.liveBytes;
    for (let i = 0; i < 3; i++) {
      const before = be.rt.submits;
      const h = await trainer.runStep();
      expect(be.rt.submits - before).toBe(1);
      expect(be.rt.pendingDispatches).toBe(0);
      h.loss.dispose();
      h.normSq.dispose();
    }
    await be.flush();
    expect(be.rt.pool.liveBytes).toBe(live);
    trainer.dispose();
  });

  it('rejects a user text that is too short, naming the problem', async () => {
    const be = await gpuBackend();
    const cfg = applyOverrides(findPreset('micro-dense')!.config, { 'data.corpus': 'text', 'data.text': 'too short' });
    expect(() => new RunPipeline(be, cfg, 1)).toThrow(/text corpus is too short: 9 characters/);
  });
});
