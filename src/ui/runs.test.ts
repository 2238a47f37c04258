import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import type { RunRecord } from '../lab/runfile';
import { fileSafe, finalLoss, newRunId, nextRunName, runDiff, sortRuns, stepsDone } from './runs';

function run(
  id: string,
  patch: (c: RunRecord['config']) => void = () => {},
  extra: Partial<RunRecord> = {},
): RunRecord {
  const config = structuredClone(findPreset('micro-dense')!.config);
  patch(config);
  return {
    id,
    name: `run ${id}`,
    createdAt: Number(id),
    preset: 'micro-dense',
    seed: 0,
    config,
    metrics: [],
    changes: [],
    samples: [],
    status: 'done',
    adapter: 'a',
    backend: 'webgpu',
    ...extra,
  };
}

describe('runs', () => {
  it('diffs a run against the baseline, naming each path with both values', () => {
    const a = run('1');
    const b = run('2', (c) => {
      c.optim.lr = 0.001;
      c.model.num_hidden_layers = 1;
    });
    expect(runDiff(a, b).map((d) => d.text)).toEqual(['model.num_hidden_layers: 2 → 1', 'optim.lr: 0.003 → 0.001']);
    expect(runDiff(a, a)).toEqual([]);
    const t = run('3', (c) => {
      c.data.corpus = 'text';
      c.data.text = 'abc';
    });
    expect(runDiff(a, t).map((d) => d.path)).toEqual(['data.corpus']);
    const t2 = run('4', (c) => {
      c.data.corpus = 'text';
      c.data.text = 'abd';
    });
    expect(runDiff(t, t2).map((d) => d.text)).toEqual(['data.text: different text']);
  });

  it('summarizes final loss and steps', () => {
    const r = run('1', undefined, {
      metrics: [{ step: 10, loss: 2.5, val_loss: null, lr: 0, grad_norm: 0, tokens_per_s: 0 }],
    });
    expect(finalLoss(r)).toBe(2.5);
    expect(stepsDone(r)).toBe(10);
    expect(finalLoss(run('2'))).toBeNull();
    expect(stepsDone(run('2'))).toBe(0);
  });

  it('names, ids and order', () => {
    expect(nextRunName([])).toBe('run 1');
    expect(nextRunName([run('1', undefined, { name: 'run 4' }), run('2', undefined, { name: 'mine' })])).toBe('run 5');
    expect(newRunId()).toMatch(/^r[0-9a-z]+$/);
    expect(sortRuns([run('3'), run('1'), run('2')]).map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(fileSafe('run 1 (copy)')).toBe('run-1-copy');
  });
});
