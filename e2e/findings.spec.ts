// End-to-end: the Findings view. A link opens one card; Run runs it in the page's findings
// worker (the accumulation table on the page's WebGPU adapter, quick size) with progress, shows
// the verdict and its figures; a reload shows the same result from IndexedDB, marked cached.
// The Findings tab opens every card, and DualPipe (the simulator) runs without a GPU.

import { expect, test } from '@playwright/test';
import { log, trackPageErrors, WORK_MS } from './helpers';

test('a finding runs from its link, shows its verdict, and comes back cached after a reload', async ({ page }) => {
  const errors = trackPageErrors(page);
  await page.goto('/?view=findings&finding=accumulation&seeds=2&quick=1');
  const card = page.getByTestId('finding-accumulation');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('findings-view').locator('.finding-card')).toHaveCount(1);
  await expect(page.getByTestId('findings-seeds')).toHaveValue('2');
  await expect(page.getByTestId('findings-quick')).toBeChecked();
  await expect(card.getByTestId('finding-link')).toHaveAttribute('href', /finding=accumulation&seeds=2&quick=1/);
  await expect(card).toContainText('V3 §3.3.2');
  await expect(card.getByTestId('finding-result')).toHaveCount(0);

  await card.getByTestId('finding-run').click();
  await expect(card.getByTestId('finding-run')).toHaveText('Running…');
  const verdict = card.getByTestId('finding-verdict');
  await expect(verdict).toHaveText(/^(reproduced|not reproduced|inconclusive)$/, { timeout: WORK_MS });
  const shown = (await verdict.textContent()) ?? '';
  log(`accumulation (quick, 2 seeds) in the page: ${shown}; ${await card.getByTestId('finding-result').textContent()}`);
  await expect(card.getByTestId('finding-when')).toContainText('seeds 1, 2');
  await expect(card.getByTestId('finding-when')).toContainText(/^Result/);
  await expect(card.locator('canvas').first()).toBeVisible();
  await expect(card.getByTestId('finding-error')).toHaveCount(0);

  await page.reload();
  const again = page.getByTestId('finding-accumulation');
  await expect(again.getByTestId('finding-verdict')).toHaveText(shown, { timeout: WORK_MS });
  await expect(again.getByTestId('finding-when')).toContainText(/^Cached result/);
  // Another seed count is another experiment: no cached result for it.
  await page.getByTestId('findings-seeds').fill('3');
  await expect(again.getByTestId('finding-result')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the Findings tab shows every card; DualPipe runs on the simulator', async ({ page }) => {
  const errors = trackPageErrors(page);
  await page.goto('/?view=findings');
  await expect(page.getByTestId('view-tab-findings')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('findings-view').locator('.finding-card')).toHaveCount(9);
  const card = page.getByTestId('finding-dualpipe');
  await card.getByTestId('finding-run').click();
  await expect(card.getByTestId('finding-verdict')).toHaveText('reproduced', { timeout: WORK_MS });
  await page.getByTestId('view-tab-lab').click();
  await expect(page).not.toHaveURL(/view=findings/);
  await page.getByTestId('view-tab-findings').click();
  await expect(page).toHaveURL(/view=findings/);
  expect(errors).toEqual([]);
});
