// End-to-end: the built page in headless Chromium (SwiftShader WebGPU, in the worker).
// Trains micro-dense for a few steps and checks progress, the loss curve and the error paths.

import { expect, test, type Page } from '@playwright/test';
import type { StepMetrics } from '../src/lab/api';
import type { Phase } from '../src/ui/store';

const STEPS = 40;

/** Page errors (uncaught exceptions) collected during a test; each test asserts none. */
function trackPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function openLab(page: Page): Promise<string> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'v3lab' })).toBeVisible();
  const adapter = page.getByTestId('adapter');
  // Acquiring a device (and the worker's first module load) can take a while on SwiftShader.
  await expect(adapter).toBeVisible({ timeout: 120_000 });
  const name = (await adapter.textContent())?.trim() ?? '';
  expect(name).not.toBe('');
  await expect(page.getByTestId('error')).toHaveCount(0);
  return name;
}

const phaseOf = (page: Page) => page.getByTestId('phase').getAttribute('data-phase') as Promise<Phase | null>;
const metricsOf = (page: Page) => page.evaluate(() => window.__v3lab!.metrics()) as Promise<StepMetrics[]>;

test('trains micro-dense and the loss goes down', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  const adapter = await openLab(page);
  await expect(page.getByTestId('preset')).toHaveValue('micro-dense');

  await page.getByTestId('steps').fill(String(STEPS));
  const t0 = Date.now();
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('pause-button')).toBeEnabled({ timeout: 120_000 });

  // Wait for the run to halt one way or another, then insist it finished cleanly.
  await expect
    .poll(() => phaseOf(page), { timeout: 9 * 60_000, intervals: [1000] })
    .toMatch(/^(done|failed|stopped)$/);
  const seconds = (Date.now() - t0) / 1000;
  const banner = page.getByTestId('error');
  if ((await banner.count()) > 0) throw new Error(`run failed: ${await banner.textContent()}`);
  expect(await phaseOf(page)).toBe('done');

  // The last metrics batch may land just after train() resolves.
  await expect.poll(async () => (await metricsOf(page)).at(-1)?.step).toBe(STEPS);
  await expect(page.getByTestId('step')).toHaveText(`${STEPS} / ${STEPS}`);

  const metrics = await metricsOf(page);
  expect(metrics.length).toBeGreaterThanOrEqual(2);
  const first = metrics[0];
  const last = metrics[metrics.length - 1];
  expect(Number.isFinite(first.loss) && Number.isFinite(last.loss)).toBe(true);
  expect(last.loss).toBeLessThan(first.loss);
  // The loss shown is the latest one (4 decimals).
  expect(Number(await page.getByTestId('loss').textContent())).toBeCloseTo(last.loss, 3);
  await expect(page.getByTestId('chart').locator('polyline.line-train')).toHaveCount(1);
  // The final step always carries a validation loss.
  expect(last.val_loss).not.toBeNull();
  await expect(page.getByTestId('chart').locator('polyline.line-val')).toHaveCount(1);

  // Inputs are usable again for the next run.
  await expect(page.getByTestId('train-button')).toBeEnabled();
  await expect(page.getByTestId('steps')).toBeEnabled();
  expect(pageErrors).toEqual([]);

  const note = `adapter ${adapter}; ${STEPS} steps in ${seconds.toFixed(1)} s; loss ${first.loss.toFixed(4)} (step ${first.step}) → ${last.loss.toFixed(4)} (step ${last.step}); val ${last.val_loss?.toFixed(4)}; ${Math.round(last.tokens_per_s)} tokens/s`;
  test.info().annotations.push({ type: 'run', description: note });
  console.log(`[e2e] ${note}`);
});

test('bad input shows an inline message and does not start', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  await openLab(page);

  const steps = page.getByTestId('steps');
  const formError = page.getByTestId('form-error');
  const train = page.getByTestId('train-button');

  for (const bad of ['-3', '0', '2.5', 'ten']) {
    await steps.fill(bad);
    await train.click();
    await expect(formError).toContainText('Steps must be a whole number');
    await expect(steps).toHaveAttribute('aria-invalid', 'true');
    expect(await phaseOf(page)).toBe('idle');
  }
  // Editing the field clears its message; a bad seed is reported on its own.
  await steps.fill('5');
  await expect(formError).toHaveCount(0);
  await page.getByTestId('seed').fill('-1');
  await train.click();
  await expect(formError).toContainText('Seed must be a whole number');

  // Nothing ran: no run, no metrics, no progress.
  expect(await phaseOf(page)).toBe('idle');
  expect(await page.evaluate(() => window.__v3lab!.run())).toBeNull();
  expect(await metricsOf(page)).toEqual([]);
  await expect(page.getByTestId('step')).toHaveText('0 / –');
  await expect(page.getByTestId('error')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
