// A colour per overlaid run, the same on every chart and beside the run in the runs table. A run
// keeps the colour of its place in the history (creation order) unless an earlier overlaid run
// already has it; then it takes the next free one, so the overlaid runs differ while the palette
// lasts. The current run is always var(--train) (blue) and its validation loss var(--val).

import type { RunRecord } from '../lab/runfile';
import { sortRuns } from './runs';

/** Distinct from each other and from --train / --val; readable on light and dark cards. */
export const OVERLAY_COLORS = [
  '#7c3aed', // violet
  '#059669', // green
  '#db2777', // pink
  '#ca8a04', // amber
  '#0891b2', // cyan
  '#64748b', // slate
  '#9333ea', // purple
  '#65a30d', // lime
  '#b91c1c', // red
  '#0d9488', // teal
];

/** Colours of the overlaid runs (`ids`), by run id. */
export function overlayColors(runs: readonly RunRecord[], ids: readonly string[]): Map<string, string> {
  const n = OVERLAY_COLORS.length;
  const order = sortRuns(runs);
  const used = new Set<number>();
  const out = new Map<string, string>();
  order.forEach((r, place) => {
    if (!ids.includes(r.id)) return;
    let k = place % n;
    for (let i = 0; i < n && used.has(k); i++) k = (k + 1) % n;
    used.add(k);
    out.set(r.id, OVERLAY_COLORS[k]);
  });
  return out;
}
