// A small hand-written SVG line chart of train loss (every step) and val loss (every evalEvery
// steps). The SVG has a fixed viewBox and scales to its container's width, so it needs no
// layout measuring. Long runs are thinned to at most two points (min and max) per pixel column,
// which keeps spikes visible while the polyline stays a few thousand points at most.

import { memo, useMemo } from 'react';
import type { StepMetrics } from '../lab/api';

const W = 720;
const H = 280;
const M = { top: 14, right: 16, bottom: 34, left: 52 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

type Point = [x: number, y: number];

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Keep, per pixel column, the lowest and highest point (in x order). */
export function thin(points: Point[], columns: number, x0: number, x1: number): Point[] {
  if (points.length <= 2 * columns) return points;
  const out: Point[] = [];
  const span = x1 - x0 || 1;
  let col = -1;
  let lo: Point | null = null;
  let hi: Point | null = null;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else if (lo[0] <= hi[0]) out.push(lo, hi);
    else out.push(hi, lo);
  };
  for (const p of points) {
    const c = Math.min(columns - 1, Math.floor(((p[0] - x0) / span) * columns));
    if (c !== col) {
      flush();
      col = c;
      lo = hi = p;
    } else {
      if (p[1] < lo![1]) lo = p;
      if (p[1] > hi![1]) hi = p;
    }
  }
  flush();
  return out;
}

function fmtTick(v: number): string {
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US');
  return String(Number(v.toPrecision(4)));
}

interface Props {
  metrics: StepMetrics[];
  /** The run's total steps (fixes the x axis); the last step seen when unknown. */
  totalSteps: number | null;
}

export const LossChart = memo(function LossChart({ metrics, totalSteps }: Props) {
  const chart = useMemo(() => {
    const train: Point[] = [];
    const val: Point[] = [];
    for (const m of metrics) {
      if (Number.isFinite(m.loss)) train.push([m.step, m.loss]);
      if (m.val_loss !== null && Number.isFinite(m.val_loss)) val.push([m.step, m.val_loss]);
    }
    if (train.length === 0 && val.length === 0) return null;

    const all = train.concat(val);
    const lastStep = metrics.length ? metrics[metrics.length - 1].step : 0;
    const x0 = Math.min(0, ...all.map((p) => p[0]));
    const x1 = Math.max(totalSteps ?? 0, lastStep, x0 + 1);
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const [, y] of all) {
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    const pad = (y1 - y0) * 0.06 || Math.max(Math.abs(y0) * 0.05, 0.05);
    y0 -= pad;
    y1 += pad;
    if (y0 < 0 && all.every(([, y]) => y >= 0)) y0 = 0; // losses are non-negative

    const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * PLOT_W;
    const sy = (y: number) => M.top + (1 - (y - y0) / (y1 - y0)) * PLOT_H;
    const toAttr = (pts: Point[]) => pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');

    return {
      trainLine: toAttr(thin(train, PLOT_W, x0, x1)),
      valLine: toAttr(val),
      valDots: val.length <= 200 ? val.map(([x, y]) => [sx(x), sy(y)] as Point) : [],
      xTicks: niceTicks(x0, x1, 6).map((v) => ({ v, px: sx(v) })),
      yTicks: niceTicks(y0, y1, 5).map((v) => ({ v, px: sy(v) })),
      hasVal: val.length > 0,
      last: train[train.length - 1] ?? null,
    };
  }, [metrics, totalSteps]);

  if (!chart) {
    return (
      <div className="chart chart-empty" data-testid="chart">
        The loss curve appears here once training starts.
      </div>
    );
  }

  const label = chart.last
    ? `Loss chart: train loss ${chart.last[1].toFixed(3)} at step ${chart.last[0]}`
    : 'Loss chart';
  return (
    <figure className="chart" data-testid="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <g className="grid">
          {chart.yTicks.map((t) => (
            <line key={`y${t.v}`} x1={M.left} x2={W - M.right} y1={t.px} y2={t.px} />
          ))}
        </g>
        <g className="axis">
          <line x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} />
          <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} />
          {chart.yTicks.map((t) => (
            <text key={`yl${t.v}`} x={M.left - 6} y={t.px} textAnchor="end" dominantBaseline="middle">
              {fmtTick(t.v)}
            </text>
          ))}
          {chart.xTicks.map((t) => (
            <text key={`xl${t.v}`} x={t.px} y={H - M.bottom + 16} textAnchor="middle">
              {fmtTick(t.v)}
            </text>
          ))}
          <text x={M.left + PLOT_W / 2} y={H - 4} textAnchor="middle" className="axis-title">
            step
          </text>
        </g>
        <polyline className="line-train" points={chart.trainLine} />
        {chart.hasVal && <polyline className="line-val" points={chart.valLine} />}
        {chart.valDots.map(([x, y], i) => (
          <circle key={i} className="dot-val" cx={x} cy={y} r={3} />
        ))}
      </svg>
      <figcaption className="legend">
        <span className="key key-train">train loss</span>
        <span className="key key-val">val loss</span>
      </figcaption>
    </figure>
  );
});
