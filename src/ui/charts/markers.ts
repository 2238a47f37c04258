// A uPlot plugin that marks x positions (live hyperparameter changes) with a vertical dashed
// line and a small label, drawn straight onto the chart canvas after the series. Labels that
// would overlap the previous one move down a row (3 rows, then they wrap to the top again).

import uPlot from 'uplot';
import type { ChartMarker } from './MetricChart';

export function markersPlugin(getMarkers: () => ChartMarker[] | undefined, getColor: () => string): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const markers = getMarkers();
        if (!markers?.length) return;
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        const px = uPlot.pxRatio;
        const rowH = 12 * px;
        const rowEnd = [-Infinity, -Infinity, -Infinity];
        ctx.save();
        ctx.strokeStyle = ctx.fillStyle = getColor();
        ctx.lineWidth = px;
        ctx.setLineDash([4 * px, 3 * px]);
        ctx.font = `${10 * px}px system-ui, sans-serif`;
        ctx.textBaseline = 'top';
        for (const m of markers) {
          const x = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
          if (!(x >= left && x <= left + width)) continue;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          if (!m.label) continue;
          const w = ctx.measureText(m.label).width;
          // Right of the line, or left of it near the right edge.
          const tx = x + 3 * px + w > left + width ? x - 3 * px - w : x + 3 * px;
          let row = rowEnd.findIndex((end) => tx > end);
          if (row < 0) row = 0;
          rowEnd[row] = tx + w + 4 * px;
          ctx.fillText(m.label, tx, top + 2 * px + row * rowH);
        }
        ctx.restore();
      },
    },
  };
}
