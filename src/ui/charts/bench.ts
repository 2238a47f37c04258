// Chart redraw benchmark, run in a real browser by the e2e test. It builds a chart with three
// noisy decaying curves of `points` points each (like three overlaid loss curves) and times
// (median of 5):
// - setDataMs: a full data update as the live chart does it: downsampling to the plot width,
//   alignment, uPlot setData and the synchronous canvas redraw;
// - redrawMs: a forced redraw of the current data (paths rebuilt, axes kept).

import type { ChartSeries } from './MetricChart';
import { Plot } from './plot';

/** Deterministic noisy decaying curve, loss-like: from ~`start` towards ~0.5. */
function syntheticCurve(points: number, start: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const y = new Array<number>(points);
  for (let i = 0; i < points; i++) {
    const t = i / Math.max(1, points - 1);
    const spike = rand() < 1e-4 ? 2 : 0;
    y[i] = 0.5 + (start - 0.5) * Math.exp(-6 * t) + (rand() - 0.5) * 0.3 * (1 - 0.5 * t) + spike;
  }
  return y;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));

export async function benchChartRedraw(
  container: HTMLElement,
  points: number,
): Promise<{ points: number; setDataMs: number; redrawMs: number }> {
  const el = document.createElement('div');
  el.className = 'metric-chart';
  el.style.width = '100%';
  container.appendChild(el);
  const x = Array.from({ length: points }, (_, i) => i);
  const colors = ['#1f6feb', '#d9480f', '#2f9e44'];
  const series: ChartSeries[] = colors.map((color, k) => ({
    label: `run ${k + 1}`,
    x,
    y: syntheticCurve(points, 4 + k, 12345 + k),
    color,
  }));
  const empty = series.map((s) => ({ ...s, x: [], y: [] }));
  const plot = new Plot(el, {
    series: empty,
    smoothing: 0,
    logY: false,
    width: Math.max(320, Math.floor(el.clientWidth) || 800),
    height: 240,
    markers: () => [{ x: points / 2, label: 'lr=1e-3' }],
  });
  try {
    await nextFrame(); // let uPlot finish its first (deferred) layout
    const setData: number[] = [];
    const redraw: number[] = [];
    for (let i = 0; i < 5; i++) {
      plot.render(empty, 0);
      await nextFrame();
      let t = performance.now();
      plot.render(series, 0);
      setData.push(performance.now() - t);
      await nextFrame();
      t = performance.now();
      plot.redraw();
      redraw.push(performance.now() - t);
      await nextFrame();
    }
    return { points, setDataMs: median(setData), redrawMs: median(redraw) };
  } finally {
    plot.destroy();
    el.remove();
  }
}
