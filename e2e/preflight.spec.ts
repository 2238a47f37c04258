// End-to-end: the pre-flight memory estimate beside the parameter count, and a run too large for
// the lab's memory budget refused before anything is allocated, with the lab's message (naming
// the field to lower) in the banner.

import { expect, test } from '@playwright/test';
import { openLab, phaseOf, trackPageErrors, WORK_MS } from './helpers';

test('memory estimate in the model panel; an oversized run is refused with the lab’s message', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  await openLab(page, '#v=1&preset=micro-dense&seed=1');
  // No run yet: a nominal vocabulary, so the estimate is marked ≈.
  await expect(page.getByTestId('derived-memory')).toHaveText(/^≈ \d+(\.\d+)? MiB$/);
  await expect(page.getByTestId('derived-memory-over')).toHaveCount(0);

  await openLab(page, '#v=1&preset=micro-dense&seed=1&data.batch_size=1024&data.seq_len=1024');
  await expect(page.getByTestId('derived-memory')).toHaveText(/GiB$/);
  const over = page.getByTestId('derived-memory-over');
  await expect(over).toContainText("over the lab's 8.0 GiB budget");
  await expect(over).toContainText('lower data.batch_size / data.seq_len');
  await page.getByTestId('run-start').click();
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('Could not start the run: memory: this run needs about', { timeout: WORK_MS });
  await expect(banner).toContainText('lower data.batch_size / data.seq_len');
  await expect(banner).not.toContainText('ConfigError');
  await expect.poll(() => phaseOf(page)).toBe('idle');
  expect(pageErrors).toEqual([]);
});
