// One finding as a card: the claim, the paper's figure, the lab's experiment (links to each arm
// in the Lab, the command line), a Run button with progress and ETA, the lab's figures (mean ±
// spread and each seed), the verdict with its rule, and a chart of the arms (mean with a min/max
// band across seeds).

import type { JSX } from 'react';
import { type Chart, type Finding, findingCommand, setFlags, type Stat } from '../../findings';
import { encodeLink } from '../../lab/share';
import { MetricChart, type ChartSeries } from '../charts/MetricChart';
import { encodeFindingsLink } from './link';
import { type CardState, IDLE, useFindings } from './store';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** A chart's curves as lines: each curve's mean, and its min and max across seeds as thin lines. */
export function chartSeries(c: Chart): ChartSeries[] {
  const out: ChartSeries[] = [];
  c.curves.forEach((cv, i) => {
    const color = COLORS[i % COLORS.length];
    const at = (k: number) => cv.per_seed.map((r) => r[k]).filter((v) => Number.isFinite(v));
    const col = (f: (xs: number[]) => number) => cv.x.map((_, k) => (at(k).length ? f(at(k)) : null));
    out.push({
      label: cv.label,
      x: cv.x,
      y: col((xs) => xs.reduce((a, b) => a + b, 0) / xs.length),
      color,
      points: cv.x.length < 12,
    });
    if (cv.per_seed.length > 1) {
      out.push({ label: `${cv.label} min`, x: cv.x, y: col((xs) => Math.min(...xs)), color, thin: true });
      out.push({ label: `${cv.label} max`, x: cv.x, y: col((xs) => Math.max(...xs)), color, thin: true });
    }
  });
  return out;
}

const fmt = (x: number) => {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(2) : Number(x.toPrecision(4)).toString();
};

function StatCell({ s }: { s: Stat }): JSX.Element {
  const spread = s.per_seed.length > 1 ? ` ± ${fmt(s.std)}` : '';
  return (
    <td title={s.per_seed.length ? `per seed: ${s.per_seed.map(fmt).join(', ')}` : 'the same for every seed'}>
      {fmt(s.mean)}
      {spread}
      {s.per_seed.length > 1 && <span className="muted small"> [{s.per_seed.map(fmt).join(', ')}]</span>}
    </td>
  );
}

/** Per arm, per metric: mean ± std and each seed's value. */
function LabTable({ lab }: { lab: Record<string, Record<string, Stat>> }): JSX.Element {
  return (
    <table className="findings-table small" data-testid="finding-lab">
      <thead>
        <tr>
          <th>arm</th>
          <th>metric</th>
          <th>mean ± sd [per seed]</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(lab).flatMap(([arm, m]) =>
          Object.entries(m).map(([k, s], i) => (
            <tr key={`${arm}/${k}`}>
              <td>{i === 0 ? arm : ''}</td>
              <td>{k}</td>
              <StatCell s={s} />
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

function eta(st: CardState): string {
  const p = st.progress;
  if (!p || st.startedAt === null || p.done <= 0) return '';
  const spent = (performance.now() - st.startedAt) / 1000;
  const left = spent * (p.total / p.done - 1);
  return ` · ETA ${left < 90 ? `${Math.round(left)} s` : `${Math.round(left / 60)} min`}`;
}

function Experiment({ f, quick, seeds }: { f: Finding; quick: boolean; seeds: number }): JSX.Element {
  const arms = f.experiment(quick);
  return (
    <div className="small">
      <strong>Experiment</strong> ({quick ? f.sizes.quick.about : f.sizes.full.about}):{' '}
      {arms.length === 0 && <span>no training (a simulator or a kernel table).</span>}
      {arms.map((a, i) => (
        <span key={a.arm}>
          {i > 0 && ' · '}
          <a
            href={`${location.pathname}#${encodeLink({ preset: a.preset, seed: 1, set: a.set, hide: [] })}`}
            title={`${a.preset}${setFlags(a.set)}`}
          >
            {a.arm}: {a.preset}
            {setFlags(a.set)}
          </a>
        </span>
      ))}
      <div>
        <code>{findingCommand(f, quick, seeds)}</code>
      </div>
    </div>
  );
}

export function FindingCard({ f }: { f: Finding }): JSX.Element {
  const st = useFindings((s) => s.cards[f.name] ?? IDLE);
  const busy = useFindings((s) => s.busy);
  const seeds = useFindings((s) => s.seeds);
  const quick = useFindings((s) => s.quick);
  const run = useFindings((s) => s.run);
  const r = st.result;
  const link = `${location.pathname}${encodeFindingsLink({ finding: f.name, seeds, quick })}`;
  return (
    <section className="finding-card" data-testid={`finding-${f.name}`}>
      <h3>
        {f.title}{' '}
        <a className="small" href={link} data-testid="finding-link" title="This card, with these seeds and size">
          share this card
        </a>
      </h3>
      <p className="finding-claim">{f.claim}</p>
      <p className="small">
        <strong>Paper</strong> ({f.paper}): {f.paperFigure}
      </p>
      <Experiment f={f} quick={quick} seeds={seeds} />
      <div className="sample-tools">
        <button type="button" data-testid="finding-run" disabled={busy !== null} onClick={() => void run(f.name)}>
          {st.status === 'running' ? 'Running…' : 'Run'}
        </button>
        <span className="muted small" data-testid="finding-progress">
          {st.status === 'running' &&
            `${st.progress ? `${Math.round((100 * st.progress.done) / Math.max(1, st.progress.total))}% · ${st.progress.what}` : 'starting…'}${eta(st)}`}
        </span>
      </div>
      {st.error && (
        <div className="notice notice-error" role="alert" data-testid="finding-error">
          The run failed: {st.error}
        </div>
      )}
      <p className="small">
        <strong>Rule</strong>: {f.ruleText}
      </p>
      {r && (
        <div data-testid="finding-result">
          <p>
            <span className={`verdict verdict-${r.verdict.replace(' ', '-')}`} data-testid="finding-verdict">
              {r.verdict}
            </span>{' '}
            {f.labFigure(r)}
          </p>
          <p className="muted small" data-testid="finding-when">
            {st.cached ? 'Cached result' : 'Result'}: {r.quick ? 'quick' : 'full'} size, seeds {r.seeds.join(', ')}, on{' '}
            {r.adapter}, {st.savedAt ? new Date(st.savedAt).toLocaleString() : ''} ({r.seconds.toFixed(1)} s)
          </p>
          {r.verdict !== 'reproduced' && <p className="small">Why the lab may differ: {f.caveat}</p>}
          {r.notes.map((n) => (
            <p key={n} className="small">
              Note: {n}
            </p>
          ))}
          <div className="findings-charts">
            {r.charts.map((c) => (
              <MetricChart key={c.title} title={`${c.title} (x: ${c.xLabel})`} series={chartSeries(c)} height={180} />
            ))}
          </div>
          <details>
            <summary className="small">Every figure</summary>
            <LabTable lab={r.lab} />
          </details>
        </div>
      )}
    </section>
  );
}
