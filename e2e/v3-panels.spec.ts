// End-to-end: the panels for V3's parts on a tiny MoE + MLA run (SwiftShader WebGPU in the worker):
// the KV-cache readout, the expert-load heatmaps and per-layer MaxVio, an attention heatmap, and
// the quantization statistics of the weights.

import { expect, test, type Locator } from '@playwright/test';
import { log, openLab, phaseOf, RUN_MS, trackPageErrors, waitForPhase, WORK_MS } from './helpers';

const LINK =
  '#v=1&preset=micro-moe&seed=1&arch.attention=mla&model.num_nextn_predict_layers=1&train.steps=6&train.log_every=2&train.eval_every=6&data.batch_size=2';

/** Canvas pixels with any alpha: the heatmap really drew something. */
const paintedPixels = (heatmap: Locator) =>
  heatmap.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });

test('MoE + MLA run: KV readout, expert load heatmaps, MaxVio per layer, attention heatmap, quantization stats', async ({
  page,
}) => {
  test.setTimeout(45 * 60_000); // RUN_MS for the run, then the panels' own waits
  const pageErrors = trackPageErrors(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  const t0 = Date.now();
  await openLab(page, LINK);
  await expect(page.getByTestId('config-arch.attention')).toHaveValue('mla');

  // MLA caches (kv_lora_rank + qk_rope_head_dim) per layer: (32 + 8) × 2 layers, against
  // 4 heads × (16 + 8 + 16) × 2 layers for MHA with the same heads.
  await expect(page.getByTestId('derived-kv-values')).toHaveText('80');
  await expect(page.getByTestId('derived-kv-mha-values')).toHaveText('320');
  await expect(page.getByTestId('derived-kv-ratio')).toHaveText('4.00× smaller than MHA');
  // MTP controls: depth and λ.
  await expect(page.getByTestId('config-model.num_nextn_predict_layers')).toHaveValue('1');
  await expect(page.getByTestId('config-train.mtp_lambda')).toBeVisible();
  // f32 linears: the low-precision settings are folded away.
  await expect(page.getByTestId('config-precision.format')).toBeHidden();

  await page.getByTestId('run-start').click();
  await waitForPhase(page, /^(done|failed|stopped)$/, RUN_MS);
  expect(await phaseOf(page)).toBe('done');
  log(`6 MoE+MLA steps done ${((Date.now() - t0) / 1000).toFixed(1)} s after opening`);

  // One expert-load heatmap per MoE layer (both blocks and the MTP module's block): 8 experts ×
  // 3 logged steps, drawn.
  const heat = page.getByTestId('expert-load-heatmap');
  await expect(heat).toHaveCount(3);
  await expect(heat.first()).toHaveAttribute('data-rows', '8');
  await expect(heat.first()).toHaveAttribute('data-cols', '3');
  expect(await paintedPixels(heat.first())).toBeGreaterThan(1000);
  // MaxVio: the mean over layers plus one line per MoE layer.
  await expect(page.getByTestId('chart-maxvio')).toHaveAttribute('data-series', '4');
  await expect(page.getByTestId('router-bias')).toBeVisible();

  // Attention of layer 0, head 0 on the default text (the start of the latest sample).
  await page.getByTestId('attention-layer').selectOption('0');
  await page.getByTestId('attention-head').selectOption('0');
  const text = await page.getByTestId('attention-text').inputValue();
  const T = Array.from(text).length;
  expect(T).toBeGreaterThan(0);
  const t1 = Date.now();
  await page.getByTestId('attention-show').click();
  const attn = page.getByTestId('attention-heatmap');
  await expect(attn).toHaveAttribute('data-cols', String(T));
  await expect(page.getByTestId('attention-caption')).toContainText('Layer 0, head 0');
  expect(await paintedPixels(attn)).toBeGreaterThan(1000);
  const box = (await attn.locator('canvas').boundingBox())!;
  await attn.locator('canvas').hover({ position: { x: box.width / 2, y: box.height - 8 } });
  await expect(page.getByTestId('attention-heatmap-readout')).toContainText('query');
  log(`attention heatmap ${T}×${T} in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  // Quantization statistics of every block linear (MLA projections and shared experts).
  const t2 = Date.now();
  await page.getByTestId('precision-inspect').click();
  const stats = page.getByTestId('precision-stats');
  await expect(stats).toBeVisible();
  const rows = await page.getByTestId('precision-stats-row').count();
  expect(rows).toBeGreaterThanOrEqual(8);
  await expect(page.getByTestId('precision-scale-hist')).toBeVisible();
  log(`quantization stats, ${rows} weights, in ${((Date.now() - t2) / 1000).toFixed(1)} s`);

  // Decoding readout: the same prompt plainly and with MTP speculative decoding.
  const t3 = Date.now();
  await page.getByTestId('compare-decoding').click();
  await expect(page.getByTestId('decode-speedup')).toBeVisible({ timeout: WORK_MS });
  const readout = await page.getByTestId('decode-readout').innerText();
  expect(readout).toMatch(/speculative[^\n]*\d+(\.\d)?%/);
  log(`decoding readout in ${((Date.now() - t3) / 1000).toFixed(1)} s:\n${readout}`);

  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
