// Without WebGPU the page says so plainly (which browsers and flags have it), stays usable, and
// offers the float64 CPU reference for micro presets. Plain headless Chromium (no
// --enable-unsafe-webgpu) has navigator.gpu but no adapter.

import { expect, test } from '@playwright/test';
import { log, phaseOf, RUN_MS, trackPageErrors, waitForPhase, WORK_MS } from './helpers';

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  },
});

test('explains which browsers have WebGPU and offers the CPU reference', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  await page.goto(
    '/#v=1&preset=micro-dense&train.steps=2&train.log_every=1&train.eval_every=2&train.eval_batches=1&hide=samples',
  );
  const notice = page.getByTestId('no-webgpu');
  await expect(notice).toBeVisible({ timeout: WORK_MS });
  await expect(notice).toContainText('Chrome and Edge 113+');
  await expect(notice).toContainText('Safari 26+');
  await expect(notice).toContainText('Firefox 141+ on Windows');
  await expect(notice).toContainText('--enable-unsafe-webgpu');
  await expect(page.getByTestId('adapter-info')).toHaveText('no WebGPU');
  await expect(page.getByTestId('run-start')).toBeDisabled();
  await expect(page.getByTestId('panel-charts')).toBeVisible();

  // The CPU reference: micro presets only, slow but it trains.
  await page.getByTestId('use-cpu').click();
  await expect(page.getByTestId('adapter-info')).toContainText('CPU');
  await expect(page.getByTestId('no-webgpu')).toHaveCount(0);
  await expect(page.getByTestId('preset-select').locator('option:not([value^="micro"])').first()).toBeDisabled();
  const t0 = Date.now();
  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^(done|failed|stopped)$/, RUN_MS);
  expect(await phaseOf(page)).toBe('done');
  await expect(page.getByTestId('step-count')).toHaveText('2 / 2');
  log(`CPU reference: 2 micro-dense steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(pageErrors).toEqual([]);
});
