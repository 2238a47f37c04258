// Honest progress: step ticks time the first step on its own (shader compilation) and the rate
// over later steps; the ETA follows every tick whatever log_every is; a long projected run is
// called long; the run offered for resuming after a reload.

import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import type { StepTick } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { pauseNote, projectRun } from './panels/RunNotes';
import { computeProgress, StepTimer } from './run/metrics';
import { replayPlan, resumeOfferOf, splitChanges } from './run/resume';
import { NO_PROGRESS } from './state/types';

const config = findPreset('micro-dense')!.config;

function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'a',
    name: 'run 1',
    createdAt: 1,
    preset: 'micro-dense',
    seed: 0,
    config,
    metrics: [],
    changes: [],
    samples: [],
    status: 'running',
    adapter: 'x',
    backend: 'webgpu',
    ...over,
  };
}

const tick = (step: number, elapsedMs: number, start = 0, tokensPerStep = 100): StepTick => ({
  step,
  tokens: step * tokensPerStep,
  elapsedMs,
  startStep: start,
  startTokens: start * tokensPerStep,
  checkpointStep: 0,
});

describe('step timing', () => {
  it('times the first step alone, then the rate after it, with no logged metrics at all', () => {
    const t = new StepTimer();
    t.begin(1000);
    expect(t.timing.firstStepSince).toBe(1000);
    t.tick(tick(1, 5000), 5000); // compiling shaders + step 1
    expect(t.timing).toMatchObject({ step: 1, firstStepMs: 5000, firstStepSince: null, stepMs: null });
    const rough = computeProgress(record(), null, null, 0, t.timing);
    expect(rough.step).toBe(1);
    expect(rough.etaRough).toBe(true);
    expect(rough.etaS).toBeCloseTo(((config.train.steps - 1) * 5000) / 1000);
    t.tick(tick(3, 5400), 5400); // 200 ms a step after the first
    expect(t.timing.stepMs).toBeCloseTo(200);
    expect(t.timing.tokensPerS).toBeCloseTo(500); // 100 tokens a step
    const p = computeProgress(record(), null, null, 0, t.timing);
    expect(p.step).toBe(3);
    expect(p.etaRough).toBe(false);
    expect(p.etaS).toBeCloseTo(((config.train.steps - 3) * 200) / 1000);
    expect(p.tokensPerS).toBeCloseTo(500);
  });

  it('a later train() call is timed from its own start (no compilation), keeping the last rate meanwhile', () => {
    const t = new StepTimer();
    t.begin(0);
    t.tick(tick(1, 5000), 5000);
    t.tick(tick(2, 5100), 5100);
    t.begin(9000);
    expect(t.timing.firstStepSince).toBeNull();
    expect(t.timing.stepMs).toBeCloseTo(100);
    t.tick(tick(3, 300, 2), 300); // one step of 300 ms from the call's start
    expect(t.timing.stepMs).toBeCloseTo(300);
    t.reset(); // a new or restored run compiles again
    t.begin(0);
    expect(t.timing.firstStepSince).toBe(0);
  });

  it('projects long runs from the step time, the first step, or a first step still running', () => {
    const base = { ...NO_PROGRESS, total: 3000, step: 0 };
    expect(projectRun({ ...base, stepMs: 140_000 }, 0)).toMatchObject({ ms: 3000 * 140_000, fromFirst: false });
    expect(projectRun({ ...base, firstStepMs: 1000 }, 0)).toMatchObject({ ms: 3_000_000, fromFirst: true });
    expect(projectRun({ ...base, firstStepSince: 0 }, 10_000)).toBeNull(); // too early to say
    expect(projectRun({ ...base, firstStepSince: 0 }, 30_000)).toMatchObject({ ms: 3000 * 30_000, running: true });
  });
});

describe('pause note', () => {
  const base = { ...NO_PROGRESS, total: 100, step: 10 };

  it('says how long the running step still takes, from the step time and when the step began', () => {
    const p = { ...base, stepMs: 60_000, firstStepMs: 90_000, stepSince: 1000 };
    expect(pauseNote(p, 1000 + 20_000)).toBe('Pausing after this step — about 40s left (a step takes about 1m 00s).');
    expect(pauseNote(p, 1000 + 59_000)).toBe(
      'Pausing after this step — any moment now: it has run for 59s and a step takes about 1m 00s.',
    );
    expect(pauseNote(p, 1000 + 75_000)).toMatch(/any moment now: it has run for 1m 15s/);
  });

  it('before a second step is timed, the first step (shaders included) bounds the wait', () => {
    const p = { ...base, step: 1, firstStepMs: 30_000, stepSince: 0 };
    expect(pauseNote(p, 10_000)).toBe('Pausing after this step — at most about 20s left (the first step took 30s).');
  });

  it('while the first step compiles the shaders, says how long it has run', () => {
    expect(pauseNote({ ...base, step: 0, firstStepSince: 0, stepSince: 0 }, 95_000)).toBe(
      'Pausing after the first step, which compiles the shaders as well; it has run for 1m 35s so far.',
    );
  });

  it('says nothing for quick steps, and waits for the step with no figure yet', () => {
    expect(pauseNote({ ...base, stepMs: 150, stepSince: 0 }, 100)).toBeNull();
    expect(pauseNote(base, 0)).toBe('Pausing after this step…');
  });
});

describe('resume offer', () => {
  it('offers the newest interrupted run with a kept checkpoint, from that checkpoint', () => {
    const m = (step: number) => ({ step, loss: 1, val_loss: null, lr: 1, grad_norm: 1, tokens_per_s: 1 });
    const old = record({ id: 'old', createdAt: 1, checkpointStep: 10, metrics: [m(12)] });
    const none = record({ id: 'none', createdAt: 3 });
    const newest = record({ id: 'new', name: 'run 2', createdAt: 2, checkpointStep: 20, metrics: [m(27)] });
    expect(resumeOfferOf([old, none, newest])).toEqual({ id: 'new', name: 'run 2', step: 20, reached: 27 });
    expect(resumeOfferOf([none])).toBeNull();
  });
});

describe('live changes after the checkpoint, replayed on resume', () => {
  const ch = (step: number, value: number) => ({ step, path: 'optim.lr', value });

  it('keeps the changes up to the checkpoint and replays the later ones in step order', () => {
    const { kept, replay } = splitChanges([ch(5, 1), ch(30, 3), ch(21, 2), ch(20, 0)], 20);
    expect(kept).toEqual([ch(5, 1), ch(20, 0)]);
    expect(replay).toEqual([ch(21, 2), ch(30, 3)]);
  });

  it('applies a change due at the next step now, and cuts each chunk just before the next change', () => {
    // Resumed at step 20, eval every 25: the change at step 21 applies before the first chunk,
    // which then runs to step 29 (the change at 30 is applied before step 30 runs).
    const a = replayPlan([ch(21, 2), ch(30, 3)], 20, 5);
    expect(a).toEqual({ due: [ch(21, 2)], rest: [ch(30, 3)], maxSteps: 5, cut: false });
    const b = replayPlan([ch(30, 3)], 20, 30);
    expect(b).toEqual({ due: [], rest: [ch(30, 3)], maxSteps: 9, cut: true });
    const c = replayPlan(b.rest, 29, 21);
    expect(c).toEqual({ due: [ch(30, 3)], rest: [], maxSteps: 21, cut: false });
    expect(replayPlan([], 29, 21)).toEqual({ due: [], rest: [], maxSteps: 21, cut: false });
  });
});
