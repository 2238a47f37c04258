// End-to-end: samples you can trust. Each sample shows its prompt and how it was made (plain,
// temperature / top-k / top-p, seed); two Sample now clicks draw two seeds and give two texts;
// the seed of one, typed into the seed field, gives its text again. Four samples of 120
// characters each dominate the spec, so the model is one layer of micro-dense (the same shaders
// as two, half the dispatches per decoding step) trained two steps.

import { expect, test } from '@playwright/test';
import { openLab, phaseOf, RUN_MS, trackPageErrors, waitForPhase, WORK_MS } from './helpers';

const LINK =
  '#v=1&preset=micro-dense&seed=5&model.num_hidden_layers=1&train.steps=2&train.log_every=1&train.eval_every=2';

const sampleCount = (page: import('@playwright/test').Page) =>
  page.evaluate(() => window.__v3lab!.run()!.samples.length);

test('samples: prompt and mode shown, a fresh seed per click, a seed repeats its sample', async ({ page }) => {
  test.setTimeout(45 * 60_000); // RUN_MS for the run, then the page's own waits
  const pageErrors = trackPageErrors(page);
  await openLab(page, LINK);
  await page.getByTestId('sample-prompt').fill('the ');
  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^(done|failed|stopped)$/, RUN_MS);
  expect(await phaseOf(page)).toBe('done');
  await expect.poll(() => sampleCount(page), { timeout: WORK_MS }).toBe(1);

  const items = page.getByTestId('sample-item');
  const newest = items.first();
  const sampleNow = async (n: number) => {
    await page.getByTestId('sample-now').click();
    await expect.poll(() => sampleCount(page), { timeout: WORK_MS, intervals: [250, 500, 1000] }).toBe(n);
    await expect(page.getByTestId('sample-now')).toBeEnabled({ timeout: WORK_MS });
    return {
      seed: (await newest.getAttribute('data-seed')) ?? '',
      text: (await newest.getByTestId('sample-text').textContent()) ?? '',
    };
  };
  const a = await sampleNow(2);
  const b = await sampleNow(3);
  // The newest sample says how it was made and shows its prompt.
  await expect(newest.locator('.sample-meta')).toContainText(`plain · T=0.80 · top-k off · top-p off · seed ${b.seed}`);
  await expect(newest.getByTestId('sample-item-prompt')).toHaveText('the ');
  expect(a.seed).not.toBe(b.seed);
  expect(a.text).not.toBe(b.text);

  await page.getByTestId('sample-seed').fill(a.seed);
  const again = await sampleNow(4);
  expect(again.seed).toBe(a.seed);
  expect(again.text).toBe(a.text);
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
