// What the page wires up around the store: the URL hash kept in step with the editor, and the
// read-only debug/test handle `window.__v3lab` (plus the chart redraw bench for the e2e).

import type { LiveChange, RunInfo, StepMetrics } from '../lab/api';
import type { RunConfig } from '../config';
import type { RunRecord } from '../lab/runfile';
import { stepsDone } from './runs';
import { currentLinkHash, useLab, whenSaved, type Phase } from './store';

/**
 * Keep the URL hash in step with the editor, or with the current run once it has live changes (its
 * start config plus the changes: see linkHashOf). replaceState: no history entries, no hashchange.
 */
export function syncHash(): () => void {
  let last = '';
  return useLab.subscribe((s, prev) => {
    if (
      s.draft === prev.draft &&
      s.presetName === prev.presetName &&
      s.seedText === prev.seedText &&
      s.hide === prev.hide &&
      s.liveScript === prev.liveScript &&
      s.run === prev.run &&
      s.version === prev.version
    )
      return;
    const hash = currentLinkHash();
    if (hash !== last) {
      last = hash;
      history.replaceState(history.state, '', `#${hash}`);
    }
  });
}

export interface V3LabDebug {
  metrics(): StepMetrics[];
  phase(): Phase;
  run(): RunRecord | null;
  info(): RunInfo | null;
  adapter(): string | null;
  errors(): string[];
  changes(): LiveChange[];
  runs(): Array<{ id: string; name: string; status: string; steps: number; metrics: number }>;
  config(): RunConfig | null;
  /** Resolves once every pending IndexedDB write has landed. */
  flushed(): Promise<void>;
  /** Chart redraw timing at `points` points per series (charts/bench.ts). */
  chartBench(points: number): Promise<{ points: number; setDataMs: number; redrawMs: number }>;
}

declare global {
  interface Window {
    __v3lab?: V3LabDebug;
  }
}

export function exposeDebugHandle(target: Window): void {
  const s = () => useLab.getState();
  target.__v3lab = {
    metrics: () => s().run?.metrics ?? [],
    phase: () => s().phase,
    run: () => s().run,
    info: () => s().info,
    adapter: () => s().adapter,
    errors: () =>
      s()
        .banners.filter((b) => b.kind !== 'info')
        .map((b) => [b.title, ...b.lines].join('\n')),
    changes: () => s().run?.changes ?? [],
    runs: () =>
      s().runs.map((r) => ({
        id: r.id,
        name: r.name,
        status: r.status,
        steps: stepsDone(r),
        metrics: r.metrics.length,
      })),
    config: () => s().evaluated.config,
    flushed: whenSaved,
    async chartBench(points) {
      const { benchChartRedraw } = await import('./charts/bench');
      const box = document.createElement('div');
      box.style.cssText =
        'position:fixed;left:0;top:0;width:900px;height:320px;z-index:-1;opacity:0;pointer-events:none';
      document.body.appendChild(box);
      try {
        return await benchChartRedraw(box, points);
      } finally {
        box.remove();
      }
    },
  };
}
