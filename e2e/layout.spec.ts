// Layout at three widths, with a real (tiny) GRPO run on the charts: at 1400 px the config panels
// sit beside the charts; at ≤ 900 px (800 and 390) the controls and charts come first, the config
// panels are folded into an accordion below them and the runs table scrolls sideways; at 390 px
// the charts are on the first screen after the controls. Screenshots of the three layouts and of
// the GRPO run's charts are written to docs/ (LAYOUT_SHOTS=0 skips writing them).

import { expect, type Page, test } from '@playwright/test';
import { log, openLab, trackPageErrors, waitForPhase } from './helpers';

// r1 shrunk as in rl.spec: pretrain 4 steps → cold-start SFT 1 → GRPO 3, every step logged (the
// layouts need a GRPO run on the charts, not a long one: each GRPO step decodes its rollouts).
const LINK =
  '#v=1&preset=r1&seed=1&train.steps=4&rl.sft_steps=1&rl.grpo_steps=3&rl.eval_prompts=4&rl.pass_k=2&rl.prompts_per_step=2&rl.group_size=4&rl.max_new_tokens=8&data.batch_size=4&train.log_every=1&train.eval_every=1000';
const SHOTS = process.env.LAYOUT_SHOTS !== '0';

const box = async (page: Page, testId: string) => (await page.getByTestId(testId).first().boundingBox())!;

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `docs/${name}.png` });
}

test('layout at 1400, 800 and 390 px, with a GRPO run on the charts', async ({ page }) => {
  test.setTimeout(20 * 60_000);
  const errors = trackPageErrors(page);
  await page.setViewportSize({ width: 1400, height: 900 });
  await openLab(page, LINK);
  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^done$/, 15 * 60_000);
  await expect(page.getByTestId('chart-reward')).toBeVisible();
  if (SHOTS) await page.getByTestId('panel-charts').screenshot({ path: 'docs/grpo-run.png' });

  // 1400 px: config panels beside the charts, open.
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.getByTestId('config-model.hidden_size')).toBeVisible();
  expect((await box(page, 'panel-charts')).x).toBeGreaterThan((await box(page, 'panel-model')).x + 200);
  await shot(page, 'layout-1400');

  // 800 px: one column; controls, charts, then the folded config panels, then the runs.
  await page.setViewportSize({ width: 800, height: 900 });
  await expect(page.locator('details[data-testid="panel-model"]')).toHaveCount(1);
  await expect(page.getByTestId('config-model.hidden_size')).toBeHidden();
  expect((await box(page, 'panel-charts')).y).toBeLessThan((await box(page, 'panel-presets')).y);
  expect((await box(page, 'panel-model')).y).toBeLessThan((await box(page, 'panel-runs')).y);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'layout-800');

  // 390 px (a phone): the charts are on the first screen, right after the controls.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const controls = await box(page, 'panel-controls');
  const chart = await box(page, 'chart-loss');
  log(
    `390 px: controls end at ${Math.round(controls.y + controls.height)}, the loss chart starts at ${Math.round(chart.y)}`,
  );
  expect(chart.y).toBeGreaterThan(controls.y + controls.height);
  expect(chart.y).toBeLessThan(844 - 60);
  // The runs table scrolls sideways inside its card instead of widening the page.
  const wrap = page.locator('.table-wrap').first();
  const { client, scroll } = await wrap.evaluate((el) => ({ client: el.clientWidth, scroll: el.scrollWidth }));
  expect(client).toBeLessThanOrEqual(390);
  expect(scroll).toBeGreaterThan(client);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'layout-390');
  // A folded panel opens by its title.
  await page.locator('details[data-testid="panel-model"] > summary').click();
  await expect(page.getByTestId('config-model.hidden_size')).toBeVisible();
  await page.locator('details[data-testid="panel-model"] > summary').click();
  expect(errors).toEqual([]);
});
