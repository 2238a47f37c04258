// End-to-end: a tiny R1-style RL run in the page (SwiftShader WebGPU in the worker): the RL
// settings panel, pretrain → GRPO, the GRPO charts and the rollout viewer with its tags, and the
// headline and charts that keep the GRPO surrogate apart from the LM loss.

import { expect, test } from '@playwright/test';
import { log, openLab, phaseOf, RUN_MS, trackPageErrors, waitForPhase } from './helpers';

// The R1 arm of r1-zero vs r1, shrunk: pretrain 4 steps → cold-start SFT 1 step → GRPO 3 steps.
const LINK =
  '#v=1&preset=r1&seed=1&train.steps=4&rl.sft_steps=1&rl.grpo_steps=3&rl.eval_prompts=4&rl.pass_k=2&rl.prompts_per_step=2&rl.group_size=4&rl.max_new_tokens=8&data.batch_size=4&train.log_every=1&train.eval_every=1000';

test('GRPO run: RL panel, reward and held-out charts, rollout viewer', async ({ page }) => {
  test.setTimeout(45 * 60_000); // RUN_MS for the run, then the page's own waits
  const pageErrors = trackPageErrors(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  const t0 = Date.now();
  await openLab(page, LINK);
  await expect(page.getByTestId('panel-rl')).toBeVisible();
  await expect(page.getByTestId('config-rl.mode')).toHaveValue('pipeline');
  await expect(page.getByTestId('config-rl.group_size')).toHaveValue('4');
  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^(done|failed|stopped)$/, RUN_MS);
  expect(await phaseOf(page)).toBe('done');
  log(`4 pretrain + 1 SFT + 3 GRPO steps done ${((Date.now() - t0) / 1000).toFixed(1)} s after opening`);
  await expect(page.getByTestId('chart-reward')).toBeVisible();
  // The reward chart moves: one point per GRPO step, in stage order.
  const metrics = await page.evaluate(() => window.__v3lab!.run()!.metrics);
  expect(metrics.map((m) => m.stage)).toEqual([
    'pretrain',
    'pretrain',
    'pretrain',
    'pretrain',
    'sft',
    'grpo',
    'grpo',
    'grpo',
  ]);
  expect(metrics.filter((m) => m.reward !== undefined)).toHaveLength(3);
  await expect(page.getByTestId('chart-heldout')).toBeVisible();
  // RL shown as RL: after GRPO the headline shows the stage, its reward and held-out accuracy,
  // never the GRPO surrogate as a loss; the surrogate has its own chart; stages are banded.
  const headline = page.getByTestId('headline');
  await expect(headline).toHaveAttribute('data-stage', 'grpo');
  await expect(page.getByTestId('headline-stage')).toHaveText('GRPO');
  await expect(page.getByTestId('headline-reward')).toHaveText(metrics[7].reward!.toFixed(3));
  // Held-out accuracy with its standard error over rl.eval_prompts = 4: √(p(1 − p)/4).
  const heldout = metrics.filter((m) => m.heldout_greedy !== undefined).at(-1)!.heldout_greedy!;
  const se = Math.sqrt((heldout * (1 - heldout)) / 4);
  await expect(page.getByTestId('headline-heldout')).toHaveText(`${heldout.toFixed(3)} ± ${se.toFixed(3)}`);
  await expect(page.getByTestId('loss-latest')).toHaveCount(0);
  const headText = (await headline.textContent()) ?? '';
  expect(headText.toLowerCase()).not.toContain('loss');
  expect(headText).not.toContain(metrics[7].loss.toFixed(4));
  await expect(page.getByTestId('chart-grpo-objective')).toContainText('GRPO objective (surrogate, not a loss)');
  await expect(page.getByTestId('chart-loss')).toContainText('LM loss');
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-stage-markers', '3');
  const rows = page.getByTestId('rollout-row');
  await expect(rows).toHaveCount(4);
  await expect(page.getByTestId('rollout-group')).toContainText('<think>');
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test('Distill vs RL view: renders its charts, keeps its settings in the link, names a bad link', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  await page.goto('/?view=distill&teacher=r1&student=distill-vs-rl&seed=7');
  await expect(page.getByTestId('distill-view')).toBeVisible();
  await expect(page.getByTestId('distill-teacher')).toHaveValue('r1');
  await expect(page.getByTestId('distill-seed')).toHaveValue('7');
  await expect(page.getByTestId('distill-accuracy')).toBeVisible();
  await page.getByTestId('distill-seed').fill('9');
  await expect
    .poll(() => page.evaluate(() => location.search))
    .toBe('?view=distill&teacher=r1&student=distill-vs-rl&seed=9');
  await page.goto('/?view=distill&teacher=micro-dense&seed=x');
  await expect(page.getByTestId('distill-link-problems')).toContainText('teacher: "micro-dense" is not an RL preset');
  await expect(page.getByTestId('distill-teacher')).toHaveValue('grpo-micro');
  await page.getByTestId('view-tab-lab').click();
  await expect(page.getByTestId('panel-charts')).toBeVisible();
  expect(pageErrors).toEqual([]);
});
