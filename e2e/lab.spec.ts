// End-to-end: the built lab page in headless Chromium (SwiftShader WebGPU, in the worker).
// SwiftShader trains micro-dense at roughly 1 s per step on the 2-core build machine (the first
// step also compiles every pipeline), so runs here are a few dozen steps.

import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { RunRecord } from '../src/lab/runfile';
import {
  configValues,
  installMainThreadProbe,
  log,
  mainThreadTasks,
  metricsOf,
  openLab,
  pageNow,
  phaseOf,
  readProbe,
  shownStep,
  trackPageErrors,
  traceMark,
  waitForPhase,
  waitForStep,
} from './helpers';

const STEPS = 30;
const LINK = `#v=1&preset=micro-dense&seed=3&train.steps=${STEPS}&train.log_every=2&train.eval_every=${STEPS}`;

test('a run from start to finish: progress, live LR, pause/resume, no main-thread jank, history, share link, export/import', async ({
  page,
  browser,
}, info) => {
  const pageErrors = trackPageErrors(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await installMainThreadProbe(page);
  const t0 = Date.now();

  // --- the adapter is reported ---
  const adapter = await openLab(page, LINK);
  expect(adapter).not.toBe('');
  log(`adapter: ${adapter} (page ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  await expect(page.getByTestId('config-train.steps')).toHaveValue(String(STEPS));
  await expect(page.getByTestId('config-seed')).toHaveValue('3');
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(page.getByTestId('runs-empty')).toBeVisible();

  // --- micro-dense starts and loss-latest falls ---
  // The main-thread probe covers the whole run: long tasks and timer lateness in the page, and a
  // Chrome trace for the CPU time of each main-thread task.
  await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline'] });
  await traceMark(page, 'v3lab-train-begin');
  const probeFrom = await pageNow(page);
  await page.getByTestId('run-start').click();
  const tStart = Date.now();
  await waitForStep(page, 2, 600_000);
  log(`first metrics ${((Date.now() - tStart) / 1000).toFixed(1)} s after Start (pipelines compiled)`);
  const firstLoss = (await metricsOf(page))[0].loss;
  expect(Number.isFinite(firstLoss)).toBe(true);

  // --- a live LR change is marked ---
  const lr = page.getByTestId('config-optim.lr');
  await lr.fill('0.002');
  await lr.press('Enter');
  await expect(page.getByTestId('live-marker-count')).toHaveText('1');
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-markers', '1');
  const changes = await page.evaluate(() => window.__v3lab!.changes());
  expect(changes).toHaveLength(1);
  expect(changes[0]).toMatchObject({ path: 'optim.lr', value: 0.002 });
  expect(changes[0].step).toBeGreaterThan(0);

  // A setting that needs a new model asks first; cancelling keeps the run going untouched.
  await page.getByTestId('config-model.hidden_size').fill('96');
  await expect(page.getByTestId('confirm-reset')).toBeVisible();
  await page.getByTestId('confirm-reset-cancel').click();
  await expect(page.getByTestId('confirm-reset')).toHaveCount(0);
  await expect(page.getByTestId('config-model.hidden_size')).toHaveValue('64');
  expect(await phaseOf(page)).toBe('training');

  // --- screenshot mid-run (excluded from the probe: capturing repaints the page) ---
  await waitForStep(page, 20);
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  await traceMark(page, 'v3lab-shot-begin');
  const shotFrom = await pageNow(page);
  // The README's screenshot: refreshed only on request (V3LAB_SCREENSHOT=1), so test runs leave the tree clean.
  if (process.env.V3LAB_SCREENSHOT) await page.screenshot({ path: 'docs/lab-mid-run.png' });
  const shotTo = await pageNow(page);
  await traceMark(page, 'v3lab-shot-end');

  // --- pause really stops step-count; resume continues it ---
  await page.getByTestId('run-pause').click();
  await waitForPhase(page, /^paused$/, 300_000);
  const pausedAt = await shownStep(page);
  const pausedMetrics = (await metricsOf(page)).length;
  await page.waitForTimeout(3000);
  expect(await shownStep(page)).toBe(pausedAt);
  expect((await metricsOf(page)).length).toBe(pausedMetrics);
  expect(await phaseOf(page)).toBe('paused');
  log(`paused at step ${pausedAt}; unchanged after 3 s`);
  await expect(page.getByTestId('run-start')).toHaveText('Resume');
  await page.getByTestId('run-start').click();
  await waitForStep(page, pausedAt + 1, 300_000);

  // --- to the end ---
  await waitForPhase(page, /^(done|failed|stopped)$/);
  const probeTo = await pageNow(page);
  await traceMark(page, 'v3lab-train-end');
  const trace = await browser.stopTracing();
  const trainSeconds = (Date.now() - tStart) / 1000;
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(await phaseOf(page)).toBe('done');
  await expect(page.getByTestId('step-count')).toHaveText(`${STEPS} / ${STEPS}`);
  const metrics = await metricsOf(page);
  const last = metrics[metrics.length - 1];
  expect(last.step).toBe(STEPS);
  expect(last.val_loss).not.toBeNull();
  const shown = Number(await page.getByTestId('loss-latest').textContent());
  expect(shown).toBeCloseTo(last.loss, 3);
  expect(shown).toBeLessThan(firstLoss - 0.3);
  // The LR curve follows the change: after it, the logged lr is at most the new peak.
  const after = metrics.filter((m) => m.step >= changes[0].step);
  expect(after.length).toBeGreaterThan(0);
  for (const m of after) expect(m.lr).toBeLessThanOrEqual(0.002 + 1e-9);
  log(
    `${STEPS} steps in ${trainSeconds.toFixed(1)} s wall (incl. compile, pause, sample); loss ${firstLoss.toFixed(4)} (step ${metrics[0].step}) → ${last.loss.toFixed(4)}; val ${last.val_loss?.toFixed(4)}`,
  );
  const samples = await page.evaluate(() => window.__v3lab!.run()!.samples);
  expect(samples.length).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('samples-list')).toBeVisible();

  // --- the main thread stayed free while training ---
  // Wall time (longtask API, timer lateness) also counts time the main thread waited for a CPU:
  // here two cores are shared with SwiftShader, which runs the GPU work on the CPU at a higher
  // priority. The trace's thread time is the page's own work per task; that is what must stay
  // under 50 ms (on a machine with a real GPU, wall ≈ CPU time).
  const probe = await readProbe(page, probeFrom, probeTo, [[shotFrom, shotTo]]);
  const cpu = mainThreadTasks(trace, 'v3lab-train-begin', 'v3lab-train-end', [['v3lab-shot-begin', 'v3lab-shot-end']]);
  log(
    `main thread during training (${((probeTo - probeFrom) / 1000).toFixed(1)} s, screenshot excluded, ${cpu.tasks} tasks): ` +
      `longest task by CPU time ${cpu.longestCpuMs.toFixed(1)} ms (wall ${cpu.longestCpuWallMs.toFixed(1)} ms), ${cpu.over50CpuMs} over 50 ms; ` +
      `longest by wall time ${cpu.longestWallMs.toFixed(1)} ms (CPU ${cpu.longestWallCpuMs.toFixed(1)} ms); ` +
      `longtask API: ${probe.longTasks} tasks ≥ 50 ms, longest ${probe.longestTaskMs.toFixed(0)} ms; ` +
      `20 ms timer lateness max ${probe.maxTimerLateMs.toFixed(1)} ms, p99 ${probe.p99TimerLateMs.toFixed(1)} ms over ${probe.ticks} ticks`,
  );
  info.annotations.push({ type: 'main-thread', description: JSON.stringify({ ...probe, ...cpu }) });
  expect(probe.ticks).toBeGreaterThan(100);
  expect(cpu.tasks).toBeGreaterThan(100);
  // Every task under 50 ms of CPU but at most two (a one-off, e.g. a garbage collection: with a
  // second npm test beside this one a single 210 ms task was seen among ~26,000), and none over 250.
  expect(cpu.over50CpuMs).toBeLessThanOrEqual(2);
  expect(cpu.longestCpuMs).toBeLessThan(250);

  // --- chart redraw at 100k points ---
  const bench = await page.evaluate(() => window.__v3lab!.chartBench(100_000));
  log(
    `chart redraw, 3 series × ${bench.points.toLocaleString('en-US')} points: setData ${bench.setDataMs.toFixed(1)} ms, redraw ${bench.redrawMs.toFixed(1)} ms (median of 5)`,
  );
  info.annotations.push({ type: 'chart-bench', description: JSON.stringify(bench) });

  // --- a reload keeps the run history ---
  await page.evaluate(() => window.__v3lab!.flushed());
  const runId = (await page.evaluate(() => window.__v3lab!.run()!.id)) as string;
  const row = page.getByTestId(`runs-row-${runId}`);
  await expect(row).toContainText('done');
  await page.reload();
  await expect(page.getByTestId('runs-table')).toBeVisible();
  await expect(row).toBeVisible();
  await expect(row.locator('[data-col="status"]')).toHaveText('done');
  await expect(row.locator('[data-col="steps"]')).toHaveText(`${STEPS} / ${STEPS}`);
  await expect(row.locator('[data-col="final-loss"]')).toHaveText(last.loss.toFixed(4));
  const rowText = await row.innerText();

  // --- the copied share link, opened in a fresh page, restores the same config ---
  await page.getByTestId('config-optim.weight_decay').fill('0.05');
  await page.getByTestId('config-model.num_hidden_layers').fill('1');
  await page.getByTestId('config-data.corpus').selectOption('arith');
  await page.getByTestId('share-link').click();
  const url = await page.getByTestId('share-link-url').inputValue();
  log(`share link: ${url}`);
  expect(url).toContain('optim.weight_decay=0.05');
  const want = await configValues(page);
  const fresh = await browser.newPage();
  await fresh.goto(url);
  await expect(fresh.getByTestId('config-model.num_hidden_layers')).toHaveValue('1');
  expect(await configValues(fresh)).toEqual(want);
  expect(Object.keys(want).length).toBeGreaterThan(20);
  await expect(fresh.getByTestId('error-banner')).toHaveCount(0);
  await fresh.close();

  // --- export → import round-trips a run ---
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId(`run-export-${runId}`).click(),
  ]);
  const file = info.outputPath('exported-run.json');
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  expect(exported.id).toBe(runId);
  expect(exported.metrics.length).toBe(metrics.length);
  await page.getByTestId(`run-delete-${runId}`).click();
  await page.getByTestId('confirm-delete-ok').click();
  await expect(row).toHaveCount(0);
  await page.getByTestId('run-import').setInputFiles(file);
  await expect(row).toBeVisible();
  expect(await row.innerText()).toBe(rowText);
  const imported = (await page.evaluate((id) => {
    const r = window.__v3lab!.runs().find((x) => x.id === id);
    return r ?? null;
  }, runId))!;
  expect(imported).toMatchObject({ status: 'done', steps: STEPS, metrics: metrics.length });
  // A broken file is refused with the field named.
  await page.getByTestId('run-import').setInputFiles({
    name: 'broken.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ ...exported, seed: 'x' })),
  });
  await expect(page.getByTestId('error-banner')).toContainText('seed');

  expect(pageErrors).toEqual([]);
});

test('a malformed link names the bad fields, keeps the rest, and the page still trains', async ({ page }) => {
  const pageErrors = trackPageErrors(page);
  const bad =
    '#v=1&preset=micro-dense&optim.lr=abc&seed=zz&train.steps=6&train.log_every=2&train.eval_every=6&hide=samples';
  await openLab(page, bad);
  const banner = page.getByTestId('error-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('optim.lr');
  await expect(banner).toContainText('seed');
  // Bad values fall back to the preset's; good ones stand; hidden panels are not rendered.
  await expect(page.getByTestId('config-optim.lr')).toHaveValue('0.003');
  await expect(page.getByTestId('config-seed')).toHaveValue('0');
  await expect(page.getByTestId('config-train.steps')).toHaveValue('6');
  await expect(page.getByTestId('panel-samples')).toHaveCount(0);

  // An invalid value typed in is marked on its field and blocks Start until fixed.
  await page.getByTestId('config-model.num_attention_heads').fill('5');
  await expect(page.getByTestId('config-error-model.num_attention_heads')).toContainText('does not divide');
  await expect(page.getByTestId('run-start')).toBeDisabled();
  await page.getByTestId('config-model.num_attention_heads').fill('4');
  await expect(page.getByTestId('config-error-model.num_attention_heads')).toHaveCount(0);

  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^(done|failed|stopped)$/);
  expect(await phaseOf(page)).toBe('done');
  await expect(page.getByTestId('step-count')).toHaveText('6 / 6');
  expect(Number(await page.getByTestId('loss-latest').textContent())).toBeGreaterThan(0);
  expect(pageErrors).toEqual([]);
});
