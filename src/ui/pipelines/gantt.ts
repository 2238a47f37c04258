// Drawing a simulated timeline as a Gantt chart on a 2-D canvas: one row per rank, time to the
// right on an axis shared by all charts on the page (so lengths compare across schedules).
// The row is first painted in the bubble colour up to the schedule's makespan; ops are painted
// over it, so every gap left showing is idle time. F, B (full or input-gradient), W, F&B pairs
// (upper half forward, lower half backward, inside one dark border: the two overlap) and
// blocking sends each have their colour; micro-batches entering from the last rank (DualPipe's
// second direction) get a lighter tint of the same colour.

import type { Segment, Timeline } from '../../sim/types';
import { describeOp } from '../../sim/types';

export interface GanttGeometry {
  width: number;
  height: number;
  /** Left edge of the plot (rank labels go left of it). */
  left: number;
  top: number;
  plotW: number;
  rowH: number;
  maxTime: number;
  pp: number;
}

export interface Palette {
  F: [string, string];
  B: [string, string];
  W: [string, string];
  send: string;
  bubble: string;
  edge: string;
  sep: string;
  fg: string;
  onLight: string;
  muted: string;
  grid: string;
}

const AXIS_H = 22;

export function ganttGeometry(pp: number, width: number, maxTime: number): GanttGeometry {
  const rowH = pp <= 8 ? 24 : pp <= 16 ? 16 : 10;
  const left = 54;
  const top = 2;
  const plotW = Math.max(10, width - left - 10);
  return { width, height: top + pp * rowH + AXIS_H, left, top, plotW, rowH, maxTime: Math.max(maxTime, 1e-9), pp };
}

export const timeToX = (g: GanttGeometry, t: number) => g.left + (t / g.maxTime) * g.plotW;

/** The segment under a point (CSS pixels), or null. */
export function segmentAt(tl: Timeline, g: GanttGeometry, px: number, py: number): Segment | null {
  const rank = Math.floor((py - g.top) / g.rowH);
  if (rank < 0 || rank >= g.pp || px < g.left) return null;
  const t = ((px - g.left) / g.plotW) * g.maxTime;
  return tl.segments.find((s) => s.rank === rank && s.start <= t && t < s.end) ?? null;
}

export function describeSegment(s: Segment): string {
  const fmt = (x: number) => String(+x.toFixed(3));
  return `rank ${s.rank} · ${describeOp(s)} · ${fmt(s.start)}–${fmt(s.end)}`;
}

/** A step of 1, 2 or 5 × 10^k giving about `target` ticks. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function label(s: Segment): string {
  const id = (mb: number, dir: number) => `${mb}${dir ? "'" : ''}`;
  switch (s.kind) {
    case 'F':
      return id(s.fwd.mb, s.fwd.dir);
    case 'B':
    case 'W':
      return id(s.bwd.mb, s.bwd.dir);
    case 'FB':
      return `${id(s.fwd.mb, s.fwd.dir)}|${id(s.bwd.mb, s.bwd.dir)}`;
    case 'S':
      return '';
  }
}

export function drawGantt(ctx: CanvasRenderingContext2D, tl: Timeline, g: GanttGeometry, pal: Palette): void {
  ctx.clearRect(0, 0, g.width, g.height);
  const fontPx = g.rowH >= 20 ? 11 : 9;
  ctx.font = `${fontPx}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  const rowY = (r: number) => g.top + r * g.rowH;
  const x = (t: number) => timeToX(g, t);

  // Rank labels and the idle (bubble) background of every row, up to the makespan.
  ctx.textAlign = 'right';
  for (let r = 0; r < g.pp; r++) {
    const y = rowY(r);
    if (g.rowH >= 10 && (g.rowH >= 14 || r % 2 === 0)) {
      ctx.fillStyle = pal.muted;
      ctx.fillText(`rank ${r}`, g.left - 6, y + g.rowH / 2);
    }
    ctx.fillStyle = pal.bubble;
    ctx.fillRect(x(0), y + 1, x(tl.total) - x(0), g.rowH - 2);
  }

  ctx.textAlign = 'center';
  const pad = g.rowH >= 14 ? 1 : 0.5;
  for (const s of tl.segments) {
    const x0 = x(s.start);
    const w = x(s.end) - x0;
    const y = rowY(s.rank) + 1;
    const h = g.rowH - 2;
    const tint = (pair: [string, string], dir: number) => pair[dir];
    if (s.kind === 'FB') {
      ctx.fillStyle = tint(pal.F, s.fwd.dir);
      ctx.fillRect(x0, y, w, h / 2);
      ctx.fillStyle = tint(pal.B, s.bwd.dir);
      ctx.fillRect(x0, y + h / 2, w, h - h / 2);
    } else {
      ctx.fillStyle =
        s.kind === 'S'
          ? pal.send
          : s.kind === 'F'
            ? tint(pal.F, s.fwd.dir)
            : s.kind === 'B'
              ? tint(pal.B, s.bwd.dir)
              : tint(pal.W, s.bwd.dir);
      ctx.fillRect(x0, y, w, h);
    }
    // A thin line between neighbouring ops; an F&B pair gets the dark shared border.
    ctx.lineWidth = s.kind === 'FB' ? 1.5 : 1;
    ctx.strokeStyle = s.kind === 'FB' ? pal.edge : pal.sep;
    if (w > 2 * pad) ctx.strokeRect(x0 + pad / 2, y + pad / 2, w - pad, h - pad);
    const text = label(s);
    if (text && g.rowH >= 14 && ctx.measureText(text).width + 4 <= w) {
      // Dark text on the light tint of direction 1 (either half of a pair), white otherwise.
      const light =
        s.kind === 'F' ? s.fwd.dir : s.kind === 'FB' ? s.fwd.dir || s.bwd.dir : s.kind === 'S' ? 0 : s.bwd.dir;
      ctx.fillStyle = light ? pal.onLight : '#ffffff';
      ctx.fillText(text, x0 + w / 2, y + h / 2 + 0.5);
    }
  }

  // Time axis.
  const axisY = rowY(g.pp) + 2;
  ctx.strokeStyle = pal.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(g.left, axisY + 0.5);
  ctx.lineTo(g.left + g.plotW, axisY + 0.5);
  ctx.stroke();
  const step = niceStep(g.maxTime, g.plotW / 70);
  ctx.fillStyle = pal.muted;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  for (let t = 0; t <= g.maxTime + 1e-9; t += step) {
    const tx = Math.round(x(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(tx, axisY);
    ctx.lineTo(tx, axisY + 4);
    ctx.stroke();
    ctx.textAlign = t === 0 ? 'left' : 'center';
    ctx.fillText(String(+t.toFixed(6)), tx, axisY + 6);
  }
  // The makespan of this schedule, marked on the shared axis.
  const end = Math.round(x(tl.total)) + 0.5;
  ctx.strokeStyle = pal.fg;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(end, g.top);
  ctx.lineTo(end, axisY);
  ctx.stroke();
  ctx.setLineDash([]);
}
