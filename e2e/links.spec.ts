// Links that mean what they say: a share link made after a live change carries the config the
// run started with plus the change (step, path, value); opened in a fresh browser and started,
// it replays the change at its step and reproduces the run's losses bit for bit. One layer of
// micro-dense (the same shaders as two, half the dispatches per step) and no samples (the panel
// is hidden, in the link too: a sample is 120 decoding steps, and no assertion here reads one)
// keep the two runs short; the link and its replay are what is checked.

import { expect, test } from '@playwright/test';
import { log, metricsOf, openLab, trackPageErrors, waitForPhase, waitForStep } from './helpers';

const STEPS = 8;
const LINK = `#v=1&preset=micro-dense&seed=6&train.steps=${STEPS}&model.num_hidden_layers=1&train.log_every=1&train.eval_every=${STEPS}&hide=samples`;

test('a link made after a live change reproduces the run', async ({ page, browser }) => {
  test.setTimeout(20 * 60_000);
  const errors = trackPageErrors(page);
  await openLab(page, LINK);
  const startLr = await page.getByTestId('config-optim.lr').inputValue();

  // Three single steps, then a live LR change (it applies from step 4), then the rest.
  for (let i = 1; i <= 3; i++) {
    await page.getByTestId('run-step').click();
    await waitForStep(page, i, 8 * 60_000);
    await waitForPhase(page, /^paused$/);
  }
  const lr = page.getByTestId('config-optim.lr');
  await lr.fill('0.0015');
  await lr.press('Enter');
  await expect(page.getByTestId('live-marker-count')).toHaveText('1');
  expect(await page.evaluate(() => window.__v3lab!.changes())).toEqual([{ step: 4, path: 'optim.lr', value: 0.0015 }]);
  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^done$/);
  const losses = (await metricsOf(page)).map((m) => m.loss);
  expect(losses).toHaveLength(STEPS);

  await page.getByTestId('share-link').click();
  const url = await page.getByTestId('share-link-url').inputValue();
  log(`share link: ${url}`);
  await expect(page.getByTestId('share-link-live')).toContainText('replays its 1 live change');
  expect(url).toContain('live=4:optim.lr:0.0015');
  expect(url).not.toMatch(/[#&]optim\.lr=/); // the start value is the preset's, not the final one

  const fresh = await browser.newPage();
  const freshErrors = trackPageErrors(fresh);
  await openLab(fresh, url.slice(url.indexOf('#')));
  await expect(fresh.getByTestId('config-optim.lr')).toHaveValue(startLr);
  await expect(fresh.getByTestId('share-link-live')).toContainText('replays 1 live change');
  await fresh.getByTestId('run-start').click();
  await waitForPhase(fresh, /^done$/, 10 * 60_000);
  expect((await metricsOf(fresh)).map((m) => m.loss)).toEqual(losses);
  expect(await fresh.evaluate(() => window.__v3lab!.changes())).toEqual([{ step: 4, path: 'optim.lr', value: 0.0015 }]);
  await expect(fresh.getByTestId('live-marker-count')).toHaveText('1');
  expect([...errors, ...freshErrors]).toEqual([]);
});
