// A uPlot plugin that marks x positions on the chart canvas: live hyperparameter changes (a
// vertical dashed line and a small label at the top) and the stages of an RL pipeline run (a
// faint band over each stage's steps, drawn under the series, and a solid line with the stage's
// name at the bottom where it begins). Labels that would overlap the previous one move down (or
// up) a row (3 rows, then they wrap again).

import uPlot from 'uplot';
import type { ChartMarker } from './MetricChart';

const ROWS = 3;

/** Shade each marker's [x, until] span that has a fill colour; before the series are drawn. */
function drawBands(u: uPlot, markers: ChartMarker[], resolve: (c: string) => string): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  for (const m of markers) {
    if (!m.fill || m.until === undefined) continue;
    const a = Math.max(left, u.valToPos(m.x, 'x', true));
    const b = Math.min(left + width, u.valToPos(m.until, 'x', true));
    if (!(b > a)) continue;
    ctx.fillStyle = resolve(m.fill);
    ctx.fillRect(a, top, b - a, height);
  }
  ctx.restore();
}

function drawLines(u: uPlot, markers: ChartMarker[], color: string): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const px = uPlot.pxRatio;
  const rowH = 12 * px;
  const rowEnd = { change: new Array(ROWS).fill(-Infinity), stage: new Array(ROWS).fill(-Infinity) };
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = color;
  ctx.lineWidth = px;
  ctx.font = `${10 * px}px system-ui, sans-serif`;
  for (const m of markers) {
    const stage = m.kind === 'stage';
    const x = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
    if (!(x >= left && x <= left + width)) continue;
    ctx.setLineDash(stage ? [] : [4 * px, 3 * px]);
    ctx.globalAlpha = stage ? 0.7 : 1;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.globalAlpha = 1;
    if (!m.label) continue;
    const w = ctx.measureText(m.label).width;
    // Right of the line, or left of it near the right edge.
    const tx = x + 3 * px + w > left + width ? x - 3 * px - w : x + 3 * px;
    const ends = rowEnd[stage ? 'stage' : 'change'];
    let row = ends.findIndex((end) => tx > end);
    if (row < 0) row = 0;
    // Stage names sit close together (a one-step SFT stage): keep a wider gap between them.
    ends[row] = tx + w + (stage ? 14 : 8) * px;
    ctx.textBaseline = stage ? 'bottom' : 'top';
    ctx.fillText(m.label, tx, stage ? top + height - 2 * px - row * rowH : top + 2 * px + row * rowH);
  }
  ctx.restore();
}

export function markersPlugin(
  getMarkers: () => ChartMarker[] | undefined,
  getColor: () => string,
  resolve: (c: string) => string = (c) => c,
): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u: uPlot) => {
        const markers = getMarkers();
        if (markers?.length) drawBands(u, markers, resolve);
      },
      draw: (u: uPlot) => {
        const markers = getMarkers();
        if (markers?.length) drawLines(u, markers, getColor());
      },
    },
  };
}
