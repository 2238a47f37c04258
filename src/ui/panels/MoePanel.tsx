// Mixture-of-experts views, shown when a drawn run routes tokens to experts: per MoE layer, the
// load of every expert over the logged steps as a heatmap (load ÷ mean load: white = balanced),
// and the routing bias of loss-free balancing per expert over time. The current run is shown;
// runs overlaid from the runs table can be picked instead (the balancing ablation).

import { useMemo, useState } from 'react';
import type { RunRecord } from '../../lab/runfile';
import { LOAD_RANGE, expertLoadImage } from '../charts/heatmap';
import { HeatmapCanvas } from '../charts/HeatmapCanvas';
import { MetricChart, type ChartSeries } from '../charts/MetricChart';
import { columnsOf, countIndexed, type ColumnViews } from '../columns';
import { useLab } from '../store';
import { Panel } from './Panel';
import { layerName } from '../teaching';

interface MoeRun {
  run: RunRecord;
  views: ColumnViews;
  layers: number;
  experts: number;
}

/** A colour per expert, spread around the hue circle. */
const expertColor = (e: number, n: number) => `hsl(${Math.round((360 * e) / Math.max(1, n))}, 65%, 48%)`;

function moeRun(run: RunRecord, views: ColumnViews): MoeRun | null {
  const layers = countIndexed(views, 'expert_load', '.0');
  if (!layers) return null;
  return { run, views, layers, experts: countIndexed(views, 'expert_load.0') };
}

export function MoePanel() {
  const version = useLab((s) => s.version);
  const runsVersion = useLab((s) => s.runsVersion);
  const columns = useLab((s) => s.columns);
  const current = useLab((s) => s.run);
  const runs = useLab((s) => s.runs);
  const overlayIds = useLab((s) => s.overlayIds);
  const [picked, setPicked] = useState<string | null>(null);

  const candidates = useMemo(() => {
    void version; // the current run's columns grow in place
    void runsVersion;
    const out: MoeRun[] = [];
    const cur = current && columns ? moeRun(current, columns.views()) : null;
    if (cur) out.push(cur);
    for (const r of runs) {
      if (r.id === current?.id || !overlayIds.includes(r.id)) continue;
      const m = moeRun(r, columnsOf(r));
      if (m) out.push(m);
    }
    return out;
  }, [version, runsVersion, columns, current, runs, overlayIds]);

  if (!candidates.length) return null;
  const shown = candidates.find((c) => c.run.id === picked) ?? candidates[0];
  const offset = shown.run.config.model.first_k_dense_replace;
  // Layers past the main model's are the MTP module's (named so: a student asks what "layer 2" is).
  const main = shown.run.config.model.num_hidden_layers;
  const stamp = `${shown.run.id}:${version}:${runsVersion}`;

  const picker =
    candidates.length > 1 ? (
      <label className="chart-tools">
        run
        <select data-testid="moe-run" value={shown.run.id} onChange={(e) => setPicked(e.target.value)}>
          {candidates.map((c) => (
            <option key={c.run.id} value={c.run.id}>
              {c.run.name} ({c.run.preset})
            </option>
          ))}
        </select>
      </label>
    ) : null;

  return (
    <Panel title="Mixture of experts" testId="panel-moe" aside={picker}>
      <h3>Expert load over time</h3>
      <p className="muted small">
        Tokens routed to each expert ÷ the mean over the {shown.experts} experts, per logged step: white = balanced, red
        = overloaded, blue = starved (saturating at {2 ** LOAD_RANGE}× and 1/{2 ** LOAD_RANGE}). Hover for the numbers.
      </p>
      <div className="moe-heatmaps">
        {Array.from({ length: shown.layers }, (_, k) => (
          <LoadHeatmap key={k} m={shown} k={k} layer={layerName(offset + k, main)} stamp={stamp} />
        ))}
      </div>
      <RouterBias m={shown} offset={offset} main={main} />
    </Panel>
  );
}

function LoadHeatmap({ m, k, layer, stamp }: { m: MoeRun; k: number; layer: string; stamp: string }) {
  const build = (maxCols: number) => {
    const loads = Array.from({ length: m.experts }, (_, e) => m.views.field(`expert_load.${k}.${e}`).y);
    return expertLoadImage(m.views.step, loads, maxCols);
  };
  return (
    <div className="moe-layer">
      <div className="small">
        {layer} <span className="muted">(rows: experts)</span>
      </div>
      <HeatmapCanvas
        build={build}
        stamp={stamp}
        height={Math.min(200, Math.max(72, m.experts * 12))}
        label={`expert load of ${layer}`}
        testId="expert-load-heatmap"
      />
    </div>
  );
}

function RouterBias({ m, offset, main }: { m: MoeRun; offset: number; main: number }) {
  const [pick, setPick] = useState(0);
  const k = Math.min(pick, m.layers - 1);
  const series: ChartSeries[] = Array.from({ length: m.experts }, (_, e) => {
    const f = m.views.field(`router_bias.${k}.${e}`);
    return { label: `expert ${e}`, x: f.x, y: f.y, color: expertColor(e, m.experts) };
  });
  return (
    <div className="router-bias" data-testid="router-bias">
      <div className="row">
        <h3>Routing bias (loss-free balancing)</h3>
        {m.layers > 1 && (
          <label className="chart-tools">
            layer
            <select data-testid="router-bias-layer" value={k} onChange={(e) => setPick(Number(e.target.value))}>
              {Array.from({ length: m.layers }, (_, i) => (
                <option key={i} value={i}>
                  {layerName(offset + i, main)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <p className="muted small">
        Added to each expert&apos;s score for top-K selection only: raised by γ while the expert gets less than the mean
        load, lowered while it gets more (train.bias_update_speed = γ; flat at 0 when γ = 0).
      </p>
      <MetricChart title={`Routing bias, ${layerName(offset + k, main)}`} series={series} height={190} />
    </div>
  );
}
