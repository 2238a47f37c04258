// The charts: one per entry of CHARTS (chart-specs.ts), for the current run plus the runs selected
// in the runs table (dashed overlays) and the seed groups asked for (mean with min/max lines), with live changes and an RL run's stages (pretrain / SFT /
// GRPO bands) marked, and shared log-scale and smoothing controls. Charts of an RL run come in
// two groups: the language model's, and the RL charts under the policy-health notice. Series are zero-copy views of the runs'
// metric columns; the chart module coalesces redraws to one per animation frame.

import { type ReactNode, useMemo } from 'react';
import { MetricChart, type ChartMarker, type ChartSeries } from '../charts/MetricChart';
import { NO_COLUMNS, columnsOf } from '../columns';
import { overlayColors } from '../run-colors';
import { groupLabel, seedGroups } from '../seed-groups';
import { isStaged, stageMarkers, stagesOf } from '../stages';
import { useLab } from '../store';
import { CHARTS, type ChartSpec, type DrawnRuns, hasData, markersOf, seriesFor } from './chart-specs';
import { Panel } from './Panel';
import { PolicyNotice } from './PolicyNotice';

/** Seed groups' colours (solid mean, thin min/max), apart from the overlays' dashed ones. */
const GROUP_COLORS = ['#0f766e', '#b45309', '#be185d', '#4338ca'];

export function ChartsPanel() {
  const version = useLab((s) => s.version);
  const runsVersion = useLab((s) => s.runsVersion);
  const columns = useLab((s) => s.columns);
  const run = useLab((s) => s.run);
  const info = useLab((s) => s.info);
  const runs = useLab((s) => s.runs);
  const overlayIds = useLab((s) => s.overlayIds);
  const bandGroupIds = useLab((s) => s.bandGroupIds);
  const logY = useLab((s) => s.logY);
  const smoothing = useLab((s) => s.smoothing);

  const charts = useMemo(() => {
    void version; // the current run's columns grow in place
    void runsVersion; // so do history runs
    const colors = overlayColors(runs, overlayIds);
    const drawn: DrawnRuns = {
      current: columns && run ? columns.views() : NO_COLUMNS,
      overlays: runs
        .filter((r) => colors.has(r.id) && r.id !== run?.id)
        .map((r) => ({ name: r.name, v: columnsOf(r), color: colors.get(r.id)! })),
      groups: seedGroups(runs)
        .filter((g) => bandGroupIds.includes(g.id))
        .map((g, i) => ({
          name: `${groupLabel(g)} from ${g.runs[0].name}`,
          cols: g.runs.map((r) => (r.id === run?.id && columns ? columns.views() : columnsOf(r))),
          color: GROUP_COLORS[i % GROUP_COLORS.length],
        })),
      layerOffset: run?.config.model.first_k_dense_replace ?? 0,
      mainLayers: run?.config.model.num_hidden_layers,
      evalPrompts: run?.config.rl.eval_prompts ?? 0,
    };
    return CHARTS.filter((c) => !c.optional || hasData(c, drawn)).map((spec) => ({
      spec,
      series: seriesFor(spec, drawn),
    }));
  }, [columns, run, runs, overlayIds, bandGroupIds, version, runsVersion]);

  const stages = useMemo(() => stagesOf(run, info), [run, info]);
  const staged = isStaged(stages);
  const nChanges = run?.changes.length ?? 0;
  // biome-ignore lint/correctness/useExhaustiveDependencies: changes are appended to the run in place (nChanges)
  const changeMarkers = useMemo(() => markersOf(run?.changes ?? []), [run, nChanges]);
  const markers = useMemo(() => [...stageMarkers(stages), ...changeMarkers], [stages, changeMarkers]);

  const cell = ({ spec, series }: { spec: ChartSpec; series: ChartSeries[] }) => (
    <ChartCell
      key={spec.id}
      spec={spec}
      title={staged && spec.stagedTitle ? spec.stagedTitle : spec.title}
      series={series}
      markers={markers}
      changes={changeMarkers.length}
      logY={spec.log ? logY : false}
      smoothing={spec.smooth ? smoothing : 0}
    />
  );
  const lm = charts.filter((c) => !c.spec.rl);
  const rl = charts.filter((c) => c.spec.rl);

  return (
    <Panel title="Charts" testId="panel-charts" aside={<ChartTools changes={nChanges} />} className="charts-panel">
      <div className="chart-grid">{(rl.length ? lm : charts).map(cell)}</div>
      {rl.length > 0 && (
        <ChartGroup title="Reinforcement learning (GRPO)" testId="charts-rl">
          <PolicyNotice />
          <div className="chart-grid">{rl.map(cell)}</div>
        </ChartGroup>
      )}
    </Panel>
  );
}

function ChartGroup({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  return (
    <section className="chart-group" data-testid={testId} aria-label={title}>
      <h3 className="chart-group-title">{title}</h3>
      {children}
    </section>
  );
}

function ChartCell(props: {
  spec: ChartSpec;
  title: string;
  series: ChartSeries[];
  markers: ChartMarker[];
  changes: number;
  logY: boolean;
  smoothing: number;
}) {
  const { spec, series, markers } = props;
  return (
    <div
      className={`chart-cell${spec.wide ? ' chart-wide' : ''}`}
      data-testid={`chart-${spec.id}`}
      data-markers={props.changes}
      data-stage-markers={markers.length - props.changes}
      data-series={series.length}
    >
      <MetricChart
        title={props.title}
        series={series}
        markers={markers}
        logY={props.logY}
        smoothing={props.smoothing}
        height={spec.wide ? 260 : 170}
      />
      {spec.note && (
        <p className="muted small chart-note" data-testid={`chart-note-${spec.id}`}>
          {spec.note}
        </p>
      )}
    </div>
  );
}

/** Log scale, smoothing, and the count of live changes marked on the charts. */
function ChartTools({ changes }: { changes: number }) {
  const logY = useLab((s) => s.logY);
  const smoothing = useLab((s) => s.smoothing);
  const setLogY = useLab((s) => s.setLogY);
  const setSmoothing = useLab((s) => s.setSmoothing);
  return (
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
        changes: <span data-testid="live-marker-count">{changes}</span>
      </span>
    </div>
  );
}
