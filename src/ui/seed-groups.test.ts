// Runs that differ only in seed: grouped for the runs table, and drawn as mean with min/max.

import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import type { StepMetrics } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { columnsOf } from './columns';
import { groupLabel, groupSpread, seedBand, seedGroups, tableRows } from './seed-groups';
import { finalLoss } from './runs';

const metric = (step: number, loss: number): StepMetrics => ({
  step,
  loss,
  val_loss: null,
  lr: 0,
  grad_norm: 0,
  tokens_per_s: 0,
});

function run(
  id: string,
  seed: number,
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
    seed,
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

describe('seed groups', () => {
  it('groups runs that differ only in seed, in table order; anything else keeps runs apart', () => {
    const runs = [
      run('1', 1),
      run('2', 1, (c) => {
        c.optim.lr = 0.001;
      }),
      run('3', 2),
      run('4', 3),
      run('5', 2, (c) => {
        c.optim.lr = 0.001;
      }),
      run('6', 4, undefined, { preset: 'micro-moe' }), // another preset
      run('7', 5, undefined, { changes: [{ step: 3, path: 'optim.lr', value: 0.01 }] }), // a live change
      run('8', 6, (c) => {
        c.data.corpus = 'text';
        c.data.text = 'abc';
      }),
      run('9', 7, (c) => {
        c.data.corpus = 'text';
        c.data.text = 'abd'; // a different text
      }),
    ];
    const groups = seedGroups(runs);
    expect(groups.map((g) => g.runs.map((r) => r.id))).toEqual([
      ['1', '3', '4'],
      ['2', '5'],
    ]);
    expect(groups.map((g) => [g.id, g.seeds, groupLabel(g)])).toEqual([
      ['1', [1, 2, 3], '3 seeds'],
      ['2', [1, 2], '2 seeds'],
    ]);
    // A seed run twice still differs only in seed from the others.
    const twice = seedGroups([run('1', 1), run('2', 1), run('3', 2)]);
    expect(groupLabel(twice[0])).toBe('3 runs, 2 seeds');
    expect(seedGroups([run('1', 1)])).toEqual([]);
  });

  it('puts each group row where its first run stood, with its runs under it', () => {
    const runs = [run('1', 1), run('2', 9, (c) => void (c.optim.lr = 0.001)), run('3', 2), run('4', 3)];
    const rows = tableRows(runs, seedGroups(runs));
    expect(rows.map((r) => (r.kind === 'group' ? `group ${r.group.id}` : `${r.run.id}${r.group ? '*' : ''}`))).toEqual([
      'group 1',
      '1*',
      '3*',
      '4*',
      '2',
    ]);
    expect(tableRows(runs, []).map((r) => r.kind)).toEqual(['run', 'run', 'run', 'run']);
  });

  it('summarizes a group across seeds and draws it as mean with min/max per step', () => {
    const a = run('1', 1, undefined, { metrics: [metric(1, 4), metric(2, 3), metric(3, 2)] });
    const b = run('2', 2, undefined, { metrics: [metric(1, 6), metric(2, 5)] });
    const c = run('3', 3, undefined, { metrics: [metric(1, 5), metric(2, 1), metric(3, NaN)] });
    const [g] = seedGroups([a, b, c]);
    const loss = groupSpread(g, finalLoss);
    // Run 3 ended on a NaN loss: the summary is over the two runs with a final loss.
    expect(loss).toMatchObject({ n: 2, mean: 3.5, min: 2, max: 5 });
    const band = seedBand(g.runs.map(columnsOf), 'loss');
    expect(Array.from(band.x)).toEqual([1, 2, 3]);
    expect(Array.from(band.mean)).toEqual([5, 3, 2]);
    expect(Array.from(band.min)).toEqual([4, 1, 2]);
    expect(Array.from(band.max)).toEqual([6, 5, 2]);
    // Step 3: run 2 did not log it and run 3 logged NaN, so one run counts.
    expect(Array.from(band.n)).toEqual([3, 3, 1]);
    expect(seedBand([], 'loss').x.length).toBe(0);
  });
});
