// Without WebGPU the page explains where to get it and stays usable (no crash, nothing runs).
// Plain headless Chromium (no --enable-unsafe-webgpu) has navigator.gpu but no adapter.

import { expect, test } from '@playwright/test';

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  },
});

test('explains which browsers have WebGPU and does not crash', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'v3lab' })).toBeVisible();

  const notice = page.getByTestId('no-webgpu');
  await expect(notice).toBeVisible({ timeout: 60_000 });
  await expect(notice).toContainText('Chrome and Edge 113+');
  await expect(notice).toContainText('Safari 26+');
  await expect(notice).toContainText('Firefox 141+ on Windows');
  await expect(page.getByTestId('adapter')).toHaveCount(0);
  await expect(page.getByTestId('train-button')).toBeDisabled();
  await expect(page.getByTestId('chart')).toBeVisible();
  expect(pageErrors).toEqual([]);
});
