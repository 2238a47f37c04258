// End-to-end: runs that differ only in seed (imported as run files, so nothing trains) are grouped
// in the runs table under a "N seeds" row with mean ± sd, and the group can be drawn on the charts
// as its mean with min/max lines. RL runs show their held-out accuracy ± standard error.

import { expect, test } from '@playwright/test';
import { applyOverrides, findPreset } from '../src/config';
import type { StepMetrics } from '../src/lab/api';
import { exportRunJson, type RunRecord } from '../src/lab/runfile';
import { trackPageErrors } from './helpers';

function record(id: string, seed: number, finalLoss: number, set: Record<string, number> = {}): RunRecord {
  const config = applyOverrides(findPreset('r1')!.config, {
    'train.steps': 4,
    'rl.sft_steps': 0,
    'rl.grpo_steps': 2,
    'rl.eval_prompts': 4,
    ...set,
  });
  const metrics: StepMetrics[] = [1, 2, 3, 4].map((step) => ({
    step,
    loss: step === 4 ? finalLoss : 4 - step / 2,
    val_loss: null,
    lr: 1e-3,
    grad_norm: 1,
    tokens_per_s: 100,
    stage: 'pretrain',
  }));
  metrics[3].heldout_greedy = 0.25;
  for (const step of [5, 6])
    metrics.push({
      step,
      loss: -0.05, // the GRPO surrogate: never the final loss
      val_loss: null,
      lr: 1e-3,
      grad_norm: 1,
      tokens_per_s: 100,
      stage: 'grpo',
      reward: 0.5,
      heldout_greedy: step === 6 ? seed / 4 : undefined,
    });
  return {
    id,
    name: `seed run ${id}`,
    createdAt: 1_700_000_000_000 + Number(id.slice(1)),
    preset: 'r1',
    seed,
    config,
    metrics: metrics.map((m) => JSON.parse(JSON.stringify(m))),
    changes: [],
    samples: [],
    status: 'done',
    adapter: 'imported',
    backend: 'webgpu',
  };
}

const file = (r: RunRecord) => ({
  name: `${r.id}.v3lab.json`,
  mimeType: 'application/json',
  buffer: Buffer.from(exportRunJson(r)),
});

test('seed groups: a "3 seeds" row with mean ± sd, drawn on the charts as mean with min/max', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  await page.goto('/');
  const runs = [
    record('s1', 1, 2.0),
    record('s2', 2, 2.2),
    record('s3', 3, 2.4),
    record('s4', 1, 3, { 'optim.lr': 0.01 }),
  ];
  for (const r of runs) await page.getByTestId('run-import').setInputFiles(file(r));
  const group = page.getByTestId('runs-group-s1');
  await expect(group).toBeVisible();
  await expect(group.locator('[data-col="name"]')).toHaveText('3 seeds');
  await expect(group.locator('[data-col="seed"]')).toHaveText('1, 2, 3');
  // Final LM loss across seeds: mean 2.2, sd 0.2 (the GRPO surrogate is not a loss).
  await expect(group.locator('[data-col="final-loss"]')).toHaveText('2.2000 ± 0.2000');
  // Held-out accuracy 0.25, 0.5, 0.75: mean 0.5, sd 0.25.
  await expect(group.locator('[data-col="heldout"]')).toHaveText('0.500 ± 0.250');
  // A member's held-out accuracy with its standard error over 4 prompts: √(0.25·0.75/4) = 0.217.
  await expect(page.getByTestId('runs-row-s1').locator('[data-col="heldout"]')).toHaveText('0.250 ± 0.217');
  await expect(page.getByTestId('runs-row-s1')).toHaveAttribute('data-group', 'true');
  // The run with another learning rate is not in the group.
  await expect(page.getByTestId('runs-row-s4')).not.toHaveAttribute('data-group', 'true');
  await expect(page.getByTestId('runs-group-s4')).toHaveCount(0);

  const chart = page.getByTestId('chart-loss');
  const before = Number(await chart.getAttribute('data-series'));
  await page.getByTestId('group-band-s1').check();
  await expect(chart).toHaveAttribute('data-series', String(before + 3));
  await expect(chart).toContainText('3 seeds from seed run s1: mean');
  await page.getByTestId('group-band-s1').uncheck();
  await expect(chart).toHaveAttribute('data-series', String(before));
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
