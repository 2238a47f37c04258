// Runs survive reloads: a run reloaded mid-training is offered for resuming from the checkpoint
// the page kept in IndexedDB, its charts reopen, and the resumed run's losses equal an
// uninterrupted run's bit for bit. Bound by steps: the reload comes once the page has kept the
// step-5 checkpoint, well before the run's last step (20 steps, run twice: the first run's
// shader compiles and the reloaded page's dominate). One layer of micro-dense (the same shaders
// as two, half the dispatches per step) and no samples (the panel is hidden: a sample is 120
// decoding steps, and no assertion here reads one) keep it short; what is resumed is unchanged.

import { expect, type Page, test } from '@playwright/test';
import { log, metricsOf, openLab, trackPageErrors, waitForPhase, WORK_MS } from './helpers';

const STEPS = 20;
const CKPT = 5;
const LINK = `#v=1&preset=micro-dense&seed=4&train.steps=${STEPS}&model.num_hidden_layers=1&train.log_every=${CKPT}&train.eval_every=${STEPS}&train.checkpoint_every=${CKPT}&hide=samples`;

const lossesOf = async (page: Page) => (await metricsOf(page)).map((m) => [m.step, m.loss] as const);
const keptStep = (page: Page) => page.evaluate(() => window.__v3lab!.run()?.checkpointStep ?? 0);

test('a reload mid-run offers resume, and the resumed run equals an uninterrupted one', async ({ page }) => {
  test.setTimeout(60 * 60_000);
  const errors = trackPageErrors(page);
  await openLab(page, LINK);

  // The uninterrupted run.
  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^done$/, 25 * 60_000);
  const straight = await lossesOf(page);
  expect(straight.at(-1)?.[0]).toBe(STEPS);

  // The same run again, reloaded once its step-5 checkpoint is kept (and well before its end).
  await page.getByTestId('run-reset').click();
  await page.getByTestId('run-start').click();
  await expect.poll(() => keptStep(page), { timeout: WORK_MS, intervals: [100] }).toBeGreaterThanOrEqual(CKPT);
  const k = await keptStep(page);
  const reached = (await metricsOf(page)).at(-1)?.step ?? 0;
  log(`reload with the checkpoint of step ${k} kept, at step ≥ ${reached}`);
  expect(reached).toBeLessThan(STEPS);
  await page.reload();

  const offer = page.getByTestId('resume-offer');
  await expect(offer).toBeVisible({ timeout: WORK_MS });
  const button = page.getByTestId('resume-run');
  await expect(button).toContainText(/Resume run \d+ from step \d+/);
  const from = Number(/from step (\d+)/.exec((await button.textContent()) ?? '')![1]);
  expect(from).toBeGreaterThanOrEqual(k);
  // The latest run's charts reopen without ticking anything.
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-series', /^[1-9]/);

  await expect(button).toBeEnabled({ timeout: WORK_MS });
  await button.click();
  await waitForPhase(page, /^done$/, 25 * 60_000);
  expect(await lossesOf(page)).toEqual(straight);
  const runs = await page.evaluate(() => window.__v3lab!.runs());
  expect(runs.filter((r) => r.status === 'done')).toHaveLength(2);
  expect(errors).toEqual([]);
});
