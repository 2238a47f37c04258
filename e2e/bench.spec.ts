// The bench page (/bench.html) in headless Chromium (SwiftShader WebGPU): a tiny quick run of one
// case fills the table with our time, the tfjs peer's and the ratio, the roofline probes run first
// and the roofline table places the case against them, the progress line counts the cases, and
// "Copy JSON" copies the report in the shape `npm run bench -- --json` prints.

import { expect, test } from '@playwright/test';
import { log, trackPageErrors, WORK_MS } from './helpers';

const CASE = 'matmul_f32_256';

test('the bench page runs a quick case against tfjs and shows the table', async ({ page, context }) => {
  const pageErrors = trackPageErrors(page);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const t0 = Date.now();
  await page.goto(`/bench.html?filter=${CASE}&quick=1&run=1`);

  await expect(page.getByTestId('bench-adapter')).not.toHaveText('–', { timeout: WORK_MS });
  const adapter = (await page.getByTestId('bench-adapter').textContent())?.trim() ?? '';
  log(`bench page adapter: ${adapter}`);

  // SwiftShader: loading tfjs and compiling both sides' pipelines dominates.
  await expect
    .poll(() => page.evaluate(() => window.__bench?.state), { timeout: WORK_MS, intervals: [500, 1000] })
    .toMatch(/done|error/);
  const err = await page.evaluate(() => window.__bench?.error);
  expect(err, 'bench error').toBeNull();
  log(`bench page finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const row = page.getByTestId(`bench-row-${CASE}`);
  await expect(row).toBeVisible();
  const cells = (await row.locator('td').allTextContents()).map((s) => s.trim());
  const header = (await page.getByTestId('bench-table').locator('th').allTextContents()).map((s) => s.trim());
  const cell = (name: string) => cells[header.indexOf(name)];
  expect(cell('case')).toBe(CASE);
  expect(Number(cell('ms'))).toBeGreaterThan(0);
  expect(Number(cell('GFLOP/s'))).toBeGreaterThan(0);
  expect(cell('peer')).toBe('tfjs-webgpu');
  expect(Number(cell('peer ms'))).toBeGreaterThan(0);
  expect(cell('× peer')).toMatch(/^\d+(\.\d+)?×$/);
  log(`row: ${cells.join(' | ')}`);
  // The roofline probes ran first: the peaks line and the case's row in the roofline table.
  await expect(page.getByTestId('bench-peaks')).toContainText('streaming bandwidth');
  const roof = page.getByTestId(`roofline-row-${CASE}`);
  await expect(roof).toBeVisible();
  const roofCells = (await roof.locator('td').allTextContents()).map((s) => s.trim());
  const roofHeader = (await page.getByTestId('bench-roofline').locator('th').allTextContents()).map((s) => s.trim());
  expect(roofCells[roofHeader.indexOf('path')]).toMatch(/^(f32|f16|subgroup|subgroup-matrix)$/);
  expect(roofCells[roofHeader.indexOf('% roofline')]).toMatch(/%$/);
  log(`roofline row: ${roofCells.join(' | ')}`);
  await expect(page.getByTestId('bench-status')).toContainText('done: 1 case');
  await expect(page.getByTestId('bench-progress')).toHaveText(/^1 of 1 case run in \d/);

  // Copy JSON: the report, as the CLI's --json prints it.
  await page.getByTestId('bench-copy').click();
  await expect(page.getByTestId('bench-copy')).toHaveText(/Copied|Selected/);
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const report = JSON.parse(copied);
  expect(report.adapter).toBe(adapter);
  expect(report.cases).toHaveLength(1);
  const c = report.cases[0];
  expect(c.name).toBe(CASE);
  expect(c.ms).toBeGreaterThan(0);
  expect(c.gflops).toBeGreaterThan(0);
  expect(c.peer).toMatchObject({ name: 'tfjs-webgpu' });
  expect(c.ratio).toBeCloseTo(c.peer.ms / c.ms, 6);
  expect(report.peaks.bandwidth_gbps).toBeGreaterThan(0);
  expect(report.peaks.fma_gflops).toBeGreaterThan(0);
  expect(report.probes.map((p: { name: string }) => p.name)).toEqual(['probe_bandwidth', 'probe_fma']);
  expect(c.roofline.frac_roofline).toBeGreaterThan(0);
  expect(pageErrors).toEqual([]);
});
