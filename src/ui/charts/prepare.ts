// From the chart's props to what uPlot draws: which lines there are (plotLines) and their
// data, smoothed, masked for a log axis, downsampled and aligned (prepareChartData).
// Pure functions, so they are unit-tested without a DOM.

import type { ChartSeries } from './MetricChart';
import { alignSeries, minMaxDownsample, type XY } from './downsample';
import { clampWeight, emaSmooth } from './smooth';

export interface PlotLine {
  label: string;
  color: string;
  dashed: boolean;
  points: boolean;
  thin: boolean;
  /** 'line' without smoothing; with smoothing each series is a faint 'raw' plus a strong 'smooth' line. */
  role: 'line' | 'raw' | 'smooth';
}

/** The drawn lines: with smoothing, all raw lines first (underneath), then the smoothed ones. */
export function plotLines(series: ChartSeries[], smoothing: number): PlotLine[] {
  const line = (s: ChartSeries, role: PlotLine['role']): PlotLine => ({
    label: s.label,
    color: s.color,
    dashed: !!s.dashed,
    points: !!s.points,
    thin: !!s.thin,
    role,
  });
  if (clampWeight(smoothing) === 0) return series.map((s) => line(s, 'line'));
  return [...series.map((s) => line(s, 'raw')), ...series.map((s) => line(s, 'smooth'))];
}

/** Changes in this key need a new uPlot instance; everything else is a setData. */
export function structureKey(series: ChartSeries[], smoothing: number, logY: boolean): string {
  const lines = plotLines(series, smoothing).map((l) =>
    [l.label, l.color, l.dashed, l.points, l.thin, l.role].join('\u0001'),
  );
  return `${logY ? 'log' : 'lin'}\u0002${lines.join('\u0002')}`;
}

export interface PreparedData {
  /** uPlot's aligned data: [x, ...one y array per plot line]. */
  data: [number[], ...(number | null)[][]];
  /** The x range of all data (null when there is none). */
  xRange: [number, number] | null;
}

export function prepareChartData(
  series: ChartSeries[],
  opts: { smoothing: number; logY: boolean; buckets: number },
): PreparedData {
  const smoothOn = clampWeight(opts.smoothing) > 0;
  const raw: XY[] = [];
  const smooth: XY[] = [];
  for (const s of series) {
    raw.push(minMaxDownsample(s.x, s.y, opts.buckets, opts.logY));
    if (smoothOn) smooth.push(minMaxDownsample(s.x, emaSmooth(s.y, opts.smoothing), opts.buckets, opts.logY));
  }
  const { x, ys } = alignSeries([...raw, ...smooth]);
  return { data: [x, ...ys], xRange: x.length ? [x[0], x[x.length - 1]] : null };
}

/** Resolve `var(--name)` / `var(--name, fallback)` colours (canvas needs real colours). */
export function resolveCssColor(color: string, lookup: (name: string) => string): string {
  const m = /^var\(\s*(--[\w-]+)\s*(?:,\s*(.+?))?\s*\)$/.exec(color.trim());
  if (!m) return color;
  const v = lookup(m[1]).trim();
  if (v) return v;
  return m[2] ? resolveCssColor(m[2], lookup) : '#888888';
}
