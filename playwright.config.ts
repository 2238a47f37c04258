import { defineConfig } from '@playwright/test';

// E2E against the built app (`npm run test:e2e` builds dist/ first) in the system Chromium.
// Headless Chromium with --enable-unsafe-webgpu exposes a SwiftShader WebGPU adapter, also in
// workers. SwiftShader is slow, so timeouts are generous and tests run one at a time.
// Never run `playwright install`: the browser is /usr/bin/chromium.
// V3LAB_E2E_PORT: another port, so two test runs can share a machine (e.g. the load test in the README).
const PORT = Number(process.env.V3LAB_E2E_PORT ?? 4173);
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  // Sized for a 2-core machine at load average 8 (a second `npm test` beside this one), where the
  // slowest spec (resume, ~5 min idle) takes 2-3× longer; specs are bounded by steps, not time.
  timeout: 30 * 60_000,
  expect: { timeout: 60_000 },
  reporter: [['list']],
  use: {
    viewport: { width: 1200, height: 900 },
    baseURL: BASE_URL,
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: BASE_URL,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
