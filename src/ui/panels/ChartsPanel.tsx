// The charts: one per entry of CHARTS, for the current run plus the runs selected in the runs
// table (dashed overlays), with live changes marked and shared log-scale and smoothing controls.
// Series are zero-copy views of the runs' metric columns; the chart module coalesces redraws to
// one per animation frame. A later capability adds a chart by adding an entry here (any numeric
// StepMetrics field has a column).

import { useMemo } from 'react';
import type { LiveChange } from '../../lab/api';
import { MetricChart, type ChartMarker, type ChartSeries } from '../charts/MetricChart';
import { NO_COLUMNS, columnsOf, countIndexed, type ColumnViews } from '../columns';
import { fieldKey } from '../format';
import { useLab } from '../store';
import { Panel } from './Panel';

interface ChartSpec {
  id: string;
  title: string;
  /** StepMetrics field to plot against step. */
  field: string;
  /** Label of the current run's line (fixed, so the chart is not rebuilt when a run starts). */
  label: string;
  /** Also draw the validation loss. */
  val?: boolean;
  /** Follows the log-scale toggle. */
  log?: boolean;
  /** Follows the smoothing slider. */
  smooth?: boolean;
  wide?: boolean;
  /** Shown only when a drawn run has this field (e.g. MoE metrics). */
  optional?: boolean;
  /** Per-layer columns `<perLayer>.<k>` of the current run, drawn as thin extra lines (MoE layers). */
  perLayer?: string;
}

export const CHARTS: readonly ChartSpec[] = [
  { id: 'loss', title: 'Loss', field: 'loss', label: 'train', val: true, log: true, smooth: true, wide: true },
  { id: 'lr', title: 'Learning rate', field: 'lr', label: 'lr' },
  { id: 'grad', title: 'Grad norm', field: 'grad_norm', label: 'grad norm', log: true, smooth: true },
  { id: 'tps', title: 'Tokens/s', field: 'tokens_per_s', label: 'tokens/s', smooth: true },
  {
    id: 'maxvio',
    title: 'MaxVio (expert load imbalance)',
    field: 'max_vio',
    label: 'mean over layers',
    smooth: true,
    optional: true,
    perLayer: 'max_vio_layers',
  },
  { id: 'aux', title: 'Balance loss', field: 'aux_loss', label: 'aux loss', smooth: true, optional: true },
  {
    id: 'mtp',
    title: 'MTP loss (mean over depths)',
    field: 'mtp_loss',
    label: 'MTP',
    log: true,
    smooth: true,
    optional: true,
  },
  // RL pipeline runs (GRPO steps; held-out accuracy at eval steps and stage ends).
  { id: 'reward', title: 'GRPO mean reward', field: 'reward', label: 'reward', smooth: true, optional: true },
  { id: 'accuracy', title: 'Rollout accuracy', field: 'accuracy', label: 'accuracy', smooth: true, optional: true },
  { id: 'format', title: 'Rollout format rate', field: 'format_rate', label: 'format', smooth: true, optional: true },
  { id: 'heldout', title: 'Held-out accuracy (greedy)', field: 'heldout_greedy', label: 'greedy', optional: true },
  { id: 'passk', title: 'Held-out pass@k', field: 'heldout_pass_k', label: 'pass@k', optional: true },
  {
    id: 'resplen',
    title: 'Response length (tokens)',
    field: 'response_len',
    label: 'length',
    smooth: true,
    optional: true,
  },
  { id: 'kl', title: 'KL to the reference (k3)', field: 'kl', label: 'KL', smooth: true, optional: true },
  { id: 'clip', title: 'Clip fraction', field: 'clip_frac', label: 'clipped', smooth: true, optional: true },
  {
    id: 'entropy',
    title: 'Entropy (−mean log-prob)',
    field: 'entropy',
    label: 'entropy',
    smooth: true,
    optional: true,
  },
  { id: 'advstd', title: 'Advantage spread (std)', field: 'adv_std', label: 'std', smooth: true, optional: true },
  {
    id: 'rolloutspeed',
    title: 'Rollout tokens/s',
    field: 'rollout_tokens_per_s',
    label: 'tokens/s',
    smooth: true,
    optional: true,
  },
];

const OVERLAY_COLORS = ['#7c3aed', '#059669', '#db2777', '#ca8a04', '#0891b2', '#64748b'];
const LAYER_COLORS = ['#94a3b8', '#f59e0b', '#14b8a6', '#f43f5e', '#a3a3a3', '#84cc16'];

/** `layerOffset`: absolute index of the first per-layer column's layer (MoE layers start after the dense ones). */
function seriesFor(
  spec: ChartSpec,
  current: ColumnViews,
  overlays: Array<{ name: string; v: ColumnViews }>,
  layerOffset: number,
): ChartSeries[] {
  const f = current.field(spec.field);
  const out: ChartSeries[] = [{ label: spec.label, x: f.x, y: f.y, color: 'var(--train)' }];
  if (spec.val) out.push({ label: 'val', x: current.valStep, y: current.valLoss, color: 'var(--val)', points: true });
  if (spec.perLayer) {
    const n = countIndexed(current, spec.perLayer);
    for (let k = 0; k < n; k++) {
      const l = current.field(`${spec.perLayer}.${k}`);
      out.push({ label: `layer ${layerOffset + k}`, x: l.x, y: l.y, color: LAYER_COLORS[k % LAYER_COLORS.length] });
    }
  }
  overlays.forEach(({ name, v }, i) => {
    const color = OVERLAY_COLORS[i % OVERLAY_COLORS.length];
    const o = v.field(spec.field);
    out.push({ label: spec.val ? `${name} train` : name, x: o.x, y: o.y, color, dashed: true });
    if (spec.val && v.valStep.length)
      out.push({ label: `${name} val`, x: v.valStep, y: v.valLoss, color, dashed: true, points: true });
  });
  return out;
}

export function markersOf(changes: readonly LiveChange[]): ChartMarker[] {
  return changes.map((c) => ({ x: c.step, label: `${fieldKey(c.path)}=${String(c.value)}` }));
}

export function ChartsPanel() {
  const version = useLab((s) => s.version);
  const runsVersion = useLab((s) => s.runsVersion);
  const columns = useLab((s) => s.columns);
  const run = useLab((s) => s.run);
  const runs = useLab((s) => s.runs);
  const overlayIds = useLab((s) => s.overlayIds);
  const logY = useLab((s) => s.logY);
  const smoothing = useLab((s) => s.smoothing);
  const setLogY = useLab((s) => s.setLogY);
  const setSmoothing = useLab((s) => s.setSmoothing);

  const charts = useMemo(() => {
    void version; // the current run's columns grow in place
    void runsVersion; // so do history runs
    const current = columns && run ? columns.views() : NO_COLUMNS;
    const overlays = runs
      .filter((r) => overlayIds.includes(r.id) && r.id !== run?.id)
      .map((r) => ({ name: r.name, v: columnsOf(r) }));
    return CHARTS.filter((c) => !c.optional || current.has(c.field) || overlays.some((o) => o.v.has(c.field))).map(
      (spec) => ({
        spec,
        series: seriesFor(spec, current, overlays, run?.config.model.first_k_dense_replace ?? 0),
      }),
    );
  }, [columns, run, runs, overlayIds, version, runsVersion]);

  const nChanges = run?.changes.length ?? 0;
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const markers = useMemo(() => markersOf(run?.changes ?? []), [run, nChanges]);

  const toolbar = (
    <div className="chart-tools">
      <label title="logarithmic y axis for loss and grad norm">
        <input type="checkbox" data-testid="chart-log" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> log
        scale
      </label>
      <label title="exponential moving average of the curves (the raw curve stays faint behind)">
        smoothing
        <input
          type="range"
          data-testid="chart-smoothing"
          min={0}
          max={0.99}
          step={0.01}
          value={smoothing}
          onChange={(e) => setSmoothing(Number(e.target.value))}
        />
        <span className="num">{smoothing.toFixed(2)}</span>
      </label>
      <span className="muted small" title="live hyperparameter changes in this run, marked on the charts">
        changes: <span data-testid="live-marker-count">{nChanges}</span>
      </span>
    </div>
  );

  return (
    <Panel title="Charts" testId="panel-charts" aside={toolbar} className="charts-panel">
      <div className="chart-grid">
        {charts.map(({ spec, series }) => (
          <div
            key={spec.id}
            className={`chart-cell${spec.wide ? ' chart-wide' : ''}`}
            data-testid={`chart-${spec.id}`}
            data-markers={markers.length}
            data-series={series.length}
          >
            <MetricChart
              title={spec.title}
              series={series}
              markers={markers}
              logY={spec.log ? logY : false}
              smoothing={spec.smooth ? smoothing : 0}
              height={spec.wide ? 260 : 170}
            />
          </div>
        ))}
      </div>
    </Panel>
  );
}
