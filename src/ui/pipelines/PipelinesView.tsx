// The Pipelines view: 1F1B, ZB1P and DualPipe simulated side by side for the chosen sizes and
// chunk times. Sliders on the left; on the right the V3 report's table, simulated beside the
// formula values, and one Gantt chart per schedule on a shared time axis. The state lives in the
// query string (link.ts), so the address is always a share link.

import { useDeferredValue, useEffect, useMemo, useState, type JSX } from 'react';
import { compareSchedules, type ScheduleResult } from '../../sim';
import { SCHEDULE_LABEL, type Times } from '../../sim/types';
import { GanttCanvas } from './GanttCanvas';
import {
  DEFAULT_STATE,
  FIELDS,
  decodePipelinesLink,
  encodePipelinesLink,
  maxW,
  normalize,
  withTimes,
  type NumericField,
  type PipelinesState,
} from './link';
import './pipelines.css';

const fmt = (x: number) => String(+x.toFixed(3));
const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

export const timesOf = (s: PipelinesState): Times => ({
  F: s.F,
  B: s.B,
  W: s.W,
  FB: s.FB,
  comm: s.comm,
  overlapComm: s.overlap,
});

function Slider({
  field,
  state,
  min,
  max,
  onChange,
}: {
  field: NumericField;
  state: PipelinesState;
  min?: number;
  max?: number;
  onChange: (v: number) => void;
}) {
  const f = FIELDS[field];
  const lo = min ?? f.min;
  const hi = max ?? f.max;
  return (
    <label className="pp-slider">
      <span className="pp-slider-head">
        <span>{f.label}</span>
        <output className="num" data-testid={`pipelines-value-${f.key}`}>
          {fmt(state[field])}
        </output>
      </span>
      <input
        type="range"
        data-testid={`pipelines-input-${f.key}`}
        min={lo}
        max={hi}
        step={f.step}
        value={state[field]}
        disabled={hi <= lo}
        onChange={(e) => onChange(Number(e.currentTarget.value))}
      />
    </label>
  );
}

function Controls({ state, set }: { state: PipelinesState; set: (s: PipelinesState) => void }) {
  const put = (field: NumericField) => (v: number) =>
    set(field === 'F' || field === 'B' ? withTimes(state, { [field]: v }) : normalize({ ...state, [field]: v }));
  return (
    <section className="card pp-controls" aria-label="Inputs" data-testid="pipelines-controls">
      <div className="card-head">
        <h2>Inputs</h2>
        <button type="button" className="link" data-testid="pipelines-reset" onClick={() => set(DEFAULT_STATE)}>
          Reset
        </button>
      </div>
      <Slider field="pp" state={state} onChange={put('pp')} />
      <Slider field="mb" state={state} onChange={put('mb')} />
      <h3>Time of one stage, one micro-batch</h3>
      <Slider field="F" state={state} onChange={put('F')} />
      <Slider field="B" state={state} onChange={put('B')} />
      <Slider field="W" state={state} max={maxW(state.B)} onChange={put('W')} />
      <Slider field="FB" state={state} min={Math.max(state.F, state.B)} max={state.F + state.B} onChange={put('FB')} />
      <p className="small muted pp-note">
        F&amp;B runs a forward and a backward overlapped: from max(F, B) (perfect overlap) to F + B (no gain). ZB1P and
        DualPipe split some backwards into B − W (the input gradient the previous stage waits for) and W, run later.
      </p>
      <h3>Communication</h3>
      <Slider field="comm" state={state} onChange={put('comm')} />
      <label className="pp-check">
        <input
          type="checkbox"
          data-testid="pipelines-input-overlap"
          checked={state.overlap}
          onChange={(e) => set({ ...state, overlap: e.currentTarget.checked })}
        />
        Transfers overlap compute
      </label>
      <p className="small muted pp-note">
        Unchecked, a rank waits for each send it makes (grey), except inside an F&amp;B pair, whose sends hide behind
        the other half&apos;s compute.
      </p>
    </section>
  );
}

function Share({ state }: { state: PipelinesState }) {
  const [shown, setShown] = useState<{ url: string; copied: boolean } | null>(null);
  const make = async () => {
    const url = `${location.origin}${location.pathname}?${encodePipelinesLink(state)}`;
    let copied = false;
    try {
      if (navigator.clipboard) {
        await Promise.race([
          navigator.clipboard.writeText(url),
          new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000)),
        ]);
        copied = true;
      }
    } catch {
      copied = false;
    }
    setShown({ url, copied });
  };
  return (
    <div className="pp-share">
      <button type="button" data-testid="pipelines-share" onClick={() => void make()}>
        Share link
      </button>
      {shown && (
        <>
          <input
            className="pp-share-url"
            readOnly
            value={shown.url}
            data-testid="pipelines-share-url"
            onFocus={(e) => e.currentTarget.select()}
            aria-label="Share link"
          />
          <span className="small muted">{shown.copied ? 'Copied.' : 'Copy it from the box.'}</span>
        </>
      )}
    </div>
  );
}

function BubbleCell({ r }: { r: ScheduleResult }) {
  const st = r.stats!;
  const lo = Math.min(...st.ranks.map((k) => k.bubble));
  return (
    <span className="num">
      {fmt(st.bubble)}
      {!same(lo, st.bubble) && (
        <span className="muted small">
          {' '}
          (ranks {fmt(lo)}–{fmt(st.bubble)})
        </span>
      )}
    </span>
  );
}

function Verdict({ r }: { r: ScheduleResult }) {
  if (r.violations.length)
    return (
      <span className="pp-bad" data-testid={`pipelines-verdict-${r.schedule}`}>
        dependency check failed: {r.violations[0]}
      </span>
    );
  const st = r.stats!;
  const ok =
    same(st.bubble, r.formula.bubble) &&
    st.peakActivations === r.formula.activations &&
    st.parameterCopies === r.formula.parameterCopies;
  if (ok)
    return (
      <span className="pp-ok" data-testid={`pipelines-verdict-${r.schedule}`}>
        = table
      </span>
    );
  return (
    <span className="muted" data-testid={`pipelines-verdict-${r.schedule}`}>
      {r.unmet.length ? `formula assumes ${r.unmet.join(', ')}` : 'differs from the table'}
    </span>
  );
}

function ResultsTable({ results, state }: { results: ScheduleResult[]; state: PipelinesState }) {
  return (
    <section className="card" aria-label="Bubbles and memory" data-testid="pipelines-table">
      <div className="card-head">
        <h2>Bubbles and memory: simulated beside the V3 report&apos;s table</h2>
        <span className="small muted">
          PP = {state.pp}, {state.mb} micro-batches, F = {fmt(state.F)}, B = {fmt(state.B)}, W = {fmt(state.W)}, F&amp;B
          = {fmt(state.FB)}, comm = {fmt(state.comm)}
          {state.comm > 0 ? (state.overlap ? ' (overlapped)' : ' (blocking)') : ''}
        </span>
      </div>
      <div className="pp-table-wrap">
        <table className="pp-table">
          <thead>
            <tr>
              <th rowSpan={2}>Method</th>
              <th rowSpan={2}>Makespan</th>
              <th colSpan={2}>Bubble per rank</th>
              <th colSpan={2}>Parameters per rank</th>
              <th colSpan={2}>Activations (micro-batches)</th>
              <th rowSpan={2}>Check</th>
            </tr>
            <tr>
              <th>simulated</th>
              <th>formula</th>
              <th>simulated</th>
              <th>table</th>
              <th>simulated</th>
              <th>table</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.schedule} data-testid={`pipelines-row-${r.schedule}`}>
                <th scope="row">{SCHEDULE_LABEL[r.schedule]}</th>
                {r.stats ? (
                  <>
                    <td className="num" data-testid={`pipelines-total-${r.schedule}`}>
                      {fmt(r.stats.total)}
                    </td>
                    <td data-testid={`pipelines-bubble-${r.schedule}`}>
                      <BubbleCell r={r} />
                    </td>
                    <td data-testid={`pipelines-bubble-formula-${r.schedule}`}>
                      <span className="num">{fmt(r.formula.bubble)}</span>{' '}
                      <span className="muted small">{r.formula.bubbleText}</span>
                    </td>
                    <td className="num" data-testid={`pipelines-params-${r.schedule}`}>
                      {r.stats.parameterCopies}×
                    </td>
                    <td className="num" data-testid={`pipelines-params-formula-${r.schedule}`}>
                      {r.formula.parameterCopies}×
                    </td>
                    <td className="num" data-testid={`pipelines-act-${r.schedule}`}>
                      {r.stats.peakActivations}
                    </td>
                    <td data-testid={`pipelines-act-formula-${r.schedule}`}>
                      <span className="num">{r.formula.activations}</span>{' '}
                      <span className="muted small">{r.formula.activationsText}</span>
                    </td>
                    <td className="small">
                      <Verdict r={r} />
                    </td>
                  </>
                ) : (
                  <td colSpan={8} className="muted" data-testid={`pipelines-problem-${r.schedule}`}>
                    {r.problem}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="small muted pp-note">
        Bubble = makespan − compute time of a rank (the largest over ranks). Activations: micro-batches whose
        activations a rank holds at once, from its F to the end of its backward (of its W when the backward is split),
        the largest over ranks. Parameters: stages whose layers a rank holds. Every timeline passes a dependency check:
        no chunk starts before its inputs are on its rank.
      </p>
    </section>
  );
}

function Legend() {
  const item = (cls: string, text: string) => (
    <span className="pp-legend-item">
      <span className={`pp-swatch ${cls}`} />
      {text}
    </span>
  );
  return (
    <div className="pp-legend small" data-testid="pipelines-legend">
      {item('pp-sw-f', 'F forward')}
      {item('pp-sw-b', 'B backward (full, or input gradient when split)')}
      {item('pp-sw-w', 'W weight gradient')}
      {item('pp-sw-fb', 'F&B overlapped pair (top F, bottom B)')}
      {item('pp-sw-send', 'blocking send')}
      {item('pp-sw-bubble', 'bubble (idle)')}
      <span className="muted">
        Numbers: micro-batch; lighter with ′: DualPipe&apos;s micro-batches fed from the last rank.
      </span>
    </div>
  );
}

export function PipelinesView(): JSX.Element {
  const [initial] = useState(() => decodePipelinesLink(typeof location === 'undefined' ? '' : location.search));
  const [state, setState] = useState<PipelinesState>(initial.state);
  const [problems, setProblems] = useState<string[]>(initial.problems);
  // Sliders stay responsive at large sizes: the simulation follows a deferred copy.
  const shownState = useDeferredValue(state);
  const results = useMemo(() => compareSchedules(shownState.pp, shownState.mb, timesOf(shownState)), [shownState]);
  const maxTime = Math.max(...results.map((r) => r.timeline?.total ?? 0));

  // The address always holds the current state (replaceState: no history entries).
  useEffect(() => {
    const search = `?${encodePipelinesLink(state)}`;
    if (location.search !== search)
      history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
  }, [state]);

  return (
    <div className="pipelines" data-testid="pipelines-view">
      <header className="header">
        <div>
          <h1>Pipeline schedules</h1>
          <p className="tagline">
            1F1B, ZB1P and DualPipe, simulated rank by rank: where the bubbles are, and what each costs in memory.
          </p>
        </div>
        <Share state={state} />
      </header>
      {problems.length > 0 && (
        <div className="notice notice-error" role="alert" data-testid="pipelines-link-error">
          <div className="notice-head">
            <strong>
              This link has {problems.length === 1 ? 'a problem' : `${problems.length} problems`}; the rest of it was
              applied.
            </strong>
            <button type="button" className="link" onClick={() => setProblems([])}>
              Dismiss
            </button>
          </div>
          <ul className="notice-lines">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="layout">
        <aside className="sidebar">
          <Controls state={state} set={setState} />
        </aside>
        <main className="content">
          <ResultsTable results={results} state={shownState} />
          <section className="card" aria-label="Timelines">
            <div className="card-head">
              <h2>Timelines (one row per rank, shared time axis)</h2>
            </div>
            <Legend />
            {results.map((r) => (
              <div key={r.schedule} className="pp-chart">
                <h3>
                  {SCHEDULE_LABEL[r.schedule]}
                  {r.stats && (
                    <span className="muted">
                      {' '}
                      · makespan {fmt(r.stats.total)} · bubble {fmt(r.stats.bubble)} (
                      {fmt((100 * r.stats.bubble) / r.stats.total)}%)
                    </span>
                  )}
                </h3>
                {r.timeline ? (
                  <GanttCanvas
                    timeline={r.timeline}
                    maxTime={maxTime}
                    testId={`pipelines-gantt-${r.schedule}`}
                    label={`${SCHEDULE_LABEL[r.schedule]} timeline`}
                  />
                ) : (
                  <p className="muted small" data-testid={`pipelines-gantt-${r.schedule}-missing`}>
                    {r.problem}
                  </p>
                )}
              </div>
            ))}
          </section>
        </main>
      </div>
    </div>
  );
}
