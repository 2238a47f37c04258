// Which view the page shows: the lab (the default), the Pipelines view, the distillation
// experiment or the Findings, chosen by the query string (?view=pipelines&…, see link.ts;
// ?view=distill&…; ?view=findings&…, see ../findings/link.ts). The lab's link lives in the hash and is left alone,
// so switching views never loses either one.

import { useEffect, useRef, useState, type JSX } from 'react';
import { VIEW_KEY, VIEW_NAME, isPipelinesSearch } from './link';

export type View = 'lab' | 'pipelines' | 'distill' | 'findings';

const viewOf = (): View => {
  if (typeof location === 'undefined') return 'lab';
  if (isPipelinesSearch(location.search)) return 'pipelines';
  const v = new URLSearchParams(location.search).get(VIEW_KEY);
  return v === 'distill' || v === 'findings' ? v : 'lab';
};

export function useView(): [View, (v: View) => void] {
  const [view, setView] = useState<View>(viewOf);
  /** Each view's query string when the user last left it (restored on return). */
  const last = useRef({ pipelines: '', distill: '', findings: '' });
  useEffect(() => {
    const sync = () => setView(viewOf());
    window.addEventListener('popstate', sync);
    return () => window.removeEventListener('popstate', sync);
  }, []);
  const go = (next: View) => {
    if (next === view) return;
    if (view !== 'lab') last.current[view] = location.search;
    const search =
      next === 'pipelines'
        ? last.current.pipelines || `?${VIEW_KEY}=${VIEW_NAME}`
        : next === 'distill' || next === 'findings'
          ? last.current[next] || `?${VIEW_KEY}=${next}`
          : '';
    history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
    setView(next);
    window.scrollTo(0, 0);
  };
  return [view, go];
}

export function ViewTabs({ view, onChange }: { view: View; onChange: (v: View) => void }): JSX.Element {
  const tab = (v: View, text: string) => (
    <button
      type="button"
      role="tab"
      aria-selected={view === v}
      className={`view-tab${view === v ? ' active' : ''}`}
      data-testid={`view-tab-${v}`}
      onClick={() => onChange(v)}
    >
      {text}
    </button>
  );
  return (
    <div className="view-tabs" role="tablist" aria-label="Views">
      {tab('lab', 'Lab')}
      {tab('pipelines', 'Pipelines')}
      {tab('distill', 'Distill vs RL')}
      {tab('findings', 'Findings')}
    </div>
  );
}
