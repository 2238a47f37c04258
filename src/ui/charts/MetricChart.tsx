// A metric chart for the lab page: several series (possibly from different runs, on different
// steps), optional smoothing and log y axis, markers for live hyperparameter changes.
//
// Live updates are cheap: new props only schedule one render per animation frame, which
// downsamples and calls uPlot's setData on the existing instance. The uPlot instance is
// rebuilt only when the set of drawn lines (count, labels, colours, styles), the log axis or
// the colour scheme changes. The chart follows its container's width (ResizeObserver).

import { useCallback, useEffect, useRef, useState, type JSX } from 'react';
import { Plot } from './plot';
import { structureKey } from './prepare';

export interface ChartSeries {
  label: string;
  /** Ascending x values (steps). */
  x: ArrayLike<number>;
  /** One y per x; null (or non-finite) where there is no value. */
  y: ArrayLike<number | null>;
  /** A CSS colour, or `var(--name)` resolved against the chart element. */
  color: string;
  dashed?: boolean;
  /** Draw a dot at each point (for sparse series such as validation loss). */
  points?: boolean;
  /** A thin, faint line (a band's edge: ±1 standard error, a seed group's min/max). */
  thin?: boolean;
}

export interface ChartMarker {
  x: number;
  label: string;
  /** 'change' (default): a live change, dashed, labelled at the top. 'stage': a stage boundary, solid, labelled at the bottom. */
  kind?: 'change' | 'stage';
  /** With `fill`: shade the plot from `x` to `until` (a stage's steps). */
  until?: number;
  /** A CSS colour (or `var(--name, fallback)`) for the band. */
  fill?: string;
}

interface Props {
  title: string;
  series: ChartSeries[];
  markers?: ChartMarker[];
  logY?: boolean;
  /** EMA weight in [0, 0.999]; above 0 the smoothed line is drawn over a faint raw line. */
  smoothing?: number;
  /** Canvas height in CSS pixels (axes included, legend not). */
  height?: number;
  testId?: string;
  /** What x counts (legend): 'step' unless given. */
  xLabel?: string;
  /** A fixed y range for a bounded quantity, e.g. [0, 1] for a rate. */
  yRange?: [number, number];
}

/** Bumps when the page switches between light and dark, so canvas colours are re-read. */
function useColorScheme(): boolean {
  const query = '(prefers-color-scheme: dark)';
  const [dark, setDark] = useState(() => typeof matchMedia === 'function' && matchMedia(query).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(query);
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return dark;
}

export function MetricChart(props: Props): JSX.Element {
  const { title, series, markers, logY = false, smoothing = 0, height = 220, testId } = props;
  const plotEl = useRef<HTMLDivElement>(null);
  const plot = useRef<Plot | null>(null);
  const frame = useRef(0);
  // The latest props, read by the animation-frame render and the markers plugin.
  const latest = useRef({ series, markers, smoothing, height, xLabel: props.xLabel, yRange: props.yRange });
  latest.current = { series, markers, smoothing, height, xLabel: props.xLabel, yRange: props.yRange };
  const dark = useColorScheme();

  const schedule = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const { series, smoothing } = latest.current;
      plot.current?.render(series, smoothing);
    });
  }, []);

  const structure = structureKey(series, smoothing, logY);
  useEffect(() => {
    const el = plotEl.current;
    if (!el) return;
    const { series, smoothing, height } = latest.current;
    const p = new Plot(el, {
      series,
      smoothing,
      logY,
      height,
      width: Math.max(120, Math.floor(el.clientWidth)),
      markers: () => latest.current.markers,
      xLabel: latest.current.xLabel,
      yRange: latest.current.yRange,
    });
    p.onZoom = schedule;
    plot.current = p;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w <= 0) return;
      p.resize(w, latest.current.height);
      schedule(); // the bucket count follows the width
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      cancelAnimationFrame(frame.current);
      frame.current = 0;
      plot.current = null;
      p.destroy();
    };
    // Data changes go through schedule(); only a new structure or colour scheme rebuilds.
  }, [structure, logY, dark, schedule]);

  useEffect(schedule, [series, markers, smoothing, schedule]);

  useEffect(() => {
    const p = plot.current;
    const el = plotEl.current;
    if (p && el) p.resize(Math.max(120, Math.floor(el.clientWidth)), height);
  }, [height]);

  const empty = series.every((s) => s.x.length === 0);
  return (
    <figure className="metric-chart" data-testid={testId} aria-label={title}>
      <figcaption className="metric-chart-title">{title}</figcaption>
      <div className="metric-chart-body">
        <div className="metric-chart-plot" ref={plotEl} />
        {empty && <div className="metric-chart-empty">No data yet</div>}
      </div>
    </figure>
  );
}
