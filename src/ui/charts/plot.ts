// The imperative half of MetricChart: one uPlot instance plus what it needs to stay fast.
//
// - render() prepares the data for the current plot width (downsampled to ~2 points per pixel
//   column, see downsample.ts) and hands it to uPlot with setData inside batch(), so the canvas
//   is redrawn synchronously, exactly once.
// - While the user is zoomed in (drag to zoom, double-click to reset) new data keeps the zoom,
//   and the bucket count grows with the zoom factor so the zoomed view keeps its detail.
// - Colours come from CSS custom properties on the chart element (light and dark themes).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './chart.css';
import type { ChartMarker, ChartSeries } from './MetricChart';
import { markersPlugin } from './markers';
import { formatValue, lastValue } from './plot-format';
import { plotLines, prepareChartData, resolveCssColor, type PlotLine } from './prepare';
import { axisWidth, flatRange, STEP_INCRS, tickLabels } from './ticks';

export { formatValue } from './plot-format';

export interface PlotInit {
  series: ChartSeries[];
  smoothing: number;
  logY: boolean;
  width: number;
  height: number;
  markers: () => ChartMarker[] | undefined;
  /** What x counts (legend and hover): 'step' unless given, e.g. 'student tokens'. */
  xLabel?: string;
  /** A fixed y range for a bounded quantity (a rate in [0, 1]); else from the data. */
  yRange?: [number, number];
}

const MAX_ZOOM_DETAIL = 64;

/**
 * Legend text of a series: the hovered point's value, or — with the cursor off the chart — the
 * series' latest value (so the legend reads as a live readout instead of dashes).
 */
function legendValue(u: uPlot, v: number | null, sidx: number, idx: number | null): string {
  return formatValue(idx == null ? lastValue(u.data[sidx]) : v);
}

export class Plot {
  readonly u: uPlot;
  /** Called when the zoom changed enough to want a re-render with another bucket count. */
  onZoom: (() => void) | null = null;
  private readonly logY: boolean;
  private xRange: [number, number] | null = null;
  private zoom = 1;
  private zoomed = false;
  private width: number;

  constructor(el: HTMLElement, init: PlotInit) {
    this.logY = init.logY;
    this.width = init.width;
    const style = getComputedStyle(el);
    const color = (c: string) => resolveCssColor(c, (name) => style.getPropertyValue(name));
    const axisColor = color('var(--chart-axis, #777)');
    const gridColor = color('var(--chart-grid, rgba(128,128,128,0.2))');
    const markerColor = color('var(--chart-marker, #888)');
    const lines = plotLines(init.series, init.smoothing);
    const axis: uPlot.Axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
    };
    const opts: uPlot.Options = {
      width: init.width,
      height: init.height,
      scales: {
        x: { time: false },
        y: init.logY
          ? { distr: 3, log: 10 }
          : init.yRange
            ? { range: () => init.yRange! }
            : { range: (_u, min, max) => flatRange(min, max) ?? uPlot.rangeNum(min, max, 0.1, true) },
      },
      // Steps are whole numbers; tick precision follows the tick spacing (no "0.001, 0.001" pairs).
      axes: [
        { ...axis, incrs: STEP_INCRS, values: (_u, splits, _a, _s, incr) => tickLabels(splits, incr) },
        {
          ...axis,
          size: (_u, values) => axisWidth(values),
          values: (_u, splits, _a, _s, incr) => tickLabels(splits, incr, init.logY),
        },
      ],
      series: [{ label: init.xLabel ?? 'step', value: legendValue }, ...lines.map((l) => this.seriesOpts(l, color))],
      legend: { live: true },
      // Overlaid runs leave nulls where a series has no point: hover the nearest real point instead.
      cursor: { drag: { x: true, y: false }, hover: { skip: [null, undefined] } },
      plugins: [markersPlugin(init.markers, () => markerColor, color)],
      hooks: {
        setScale: [(u, key) => key === 'x' && this.trackZoom(u)],
        // Hiding a smoothed line from the legend hides its raw twin too (raw rows are not shown).
        setSeries: [
          (u, i, o) => {
            const twin = i != null && lines[i - 1]?.role === 'smooth' ? i - lines.length / 2 : -1;
            if (twin > 0 && o.show !== undefined) u.setSeries(twin, { show: o.show });
          },
        ],
      },
    };
    const { data, xRange } = prepareChartData(init.series, { ...init, buckets: init.width });
    this.xRange = xRange;
    this.u = new uPlot(opts, data, el);
  }

  private seriesOpts(l: PlotLine, color: (c: string) => string): uPlot.Series {
    const stroke = color(l.color);
    const raw = l.role === 'raw';
    return {
      label: raw ? `${l.label} (raw)` : l.label,
      class: raw ? 'mc-raw' : undefined,
      stroke,
      width: raw || l.thin ? 1 : 1.5,
      alpha: raw ? 0.3 : l.thin ? 0.55 : 1,
      dash: l.dashed ? [6, 4] : undefined,
      spanGaps: true,
      points: { show: l.points && !raw, size: 5, fill: stroke },
      value: legendValue,
    };
  }

  private trackZoom(u: uPlot): void {
    const { min, max } = u.scales.x;
    const r = this.xRange;
    if (!r || min == null || max == null || !(r[1] > r[0])) return;
    const span = r[1] - r[0];
    const eps = span * 1e-9;
    this.zoomed = min > r[0] + eps || max < r[1] - eps;
    const zoom = this.zoomed ? Math.min(MAX_ZOOM_DETAIL, span / Math.max(max - min, eps)) : 1;
    if (Math.abs(zoom - this.zoom) > 0.25 * this.zoom) {
      this.zoom = zoom;
      this.onZoom?.();
    }
  }

  /** Plot area width in CSS pixels, i.e. how many min/max buckets to keep. */
  private buckets(): number {
    const plotCss = this.u.bbox.width / uPlot.pxRatio;
    return Math.max(16, Math.round((plotCss > 0 ? plotCss : this.width) * this.zoom));
  }

  /** Replace the data (same series structure as at construction) and redraw now. */
  render(series: ChartSeries[], smoothing: number): void {
    const { data, xRange } = prepareChartData(series, { smoothing, logY: this.logY, buckets: this.buckets() });
    const keepZoom = this.zoomed;
    this.xRange = xRange;
    this.u.batch(() => {
      this.u.setData(data, !keepZoom);
      if (keepZoom) {
        this.u.redraw();
        // setData without a rescale leaves the legend alone: refresh its latest values.
        if (this.u.cursor.idx == null) this.u.setLegend({ idx: null as unknown as number });
      }
    });
  }

  /** Redraw the current data now (markers changed, or a benchmark). */
  redraw(): void {
    this.u.batch(() => this.u.redraw(true, false));
  }

  resize(width: number, height: number): void {
    if (width === this.width && height === this.u.height) return;
    this.width = width;
    this.u.setSize({ width, height });
  }

  destroy(): void {
    this.onZoom = null;
    this.u.destroy();
  }
}
