// Precision of the linear layers inside the blocks: f32, or block-scaled low precision (FP8 /
// MX). The low-precision details are folded away while linear = f32. Below them, what
// quantization does to the current run's weights (DeepGEMM's calc_diff, saturated share, amax,
// the spread of the block scales), and for a finished low-precision run its f32 twin: the same
// config and seed in f32, overlaid on the charts.

import { findField, panelFields, type RunConfig } from '../../config';
import { fmtValue } from '../format';
import type { QuantLayerStats } from '../../lowp/stats';
import { pow2, scaleHistogram, scaleRange, weightName } from '../inspect';
import { CAN_INSPECT, CAN_START, useLab, type QuantView } from '../store';
import { FieldGrid, FieldInput } from './FieldInput';
import { Panel } from './Panel';

const LINEAR = findField('precision.linear')!;
const DETAILS = panelFields('precision').filter((f) => f !== LINEAR);

export function PrecisionPanel() {
  const linear = useLab((s) => s.draft['precision.linear']);
  const detailError = useLab((s) => DETAILS.some((f) => s.evaluated.errors[f.path]));
  return (
    <Panel title="Precision" testId="panel-precision" accordion>
      <div className="field-grid">
        <FieldInput field={LINEAR} />
      </div>
      {linear === 'lowp' ? (
        <FieldGrid fields={DETAILS} name="low-precision" />
      ) : (
        <details className="field-group" open={detailError || undefined}>
          <summary>
            Low-precision settings <span className="muted small">(used when linear = lowp; now {linear})</span>
          </summary>
          <FieldGrid fields={DETAILS} name="low-precision" />
        </details>
      )}
      <QuantStats />
      <F32Twin />
    </Panel>
  );
}

function describeSettings(p: RunConfig['precision']): string {
  const tiles = p.weight_tiling === 'blocks' ? `${p.block}×${p.block} weight blocks` : `1×${p.block} weight rows`;
  return `${p.format}, ${tiles}, ${p.scale} scales`;
}

function QuantStats() {
  const quant = useLab((s) => s.quant);
  const error = useLab((s) => s.quantError);
  const busy = useLab((s) => s.inspecting !== null);
  const mine = useLab((s) => s.inspecting === 'precision');
  const canInspect = useLab((s) => s.info !== null && CAN_INSPECT.has(s.phase));
  const inspect = useLab((s) => s.inspectPrecision);
  return (
    <div className="quant">
      <h3>Quantization of the weights</h3>
      <div className="inspect-tools">
        <button
          type="button"
          data-testid="precision-inspect"
          disabled={!canInspect || busy}
          onClick={() => void inspect()}
          title="quantize every linear weight in the blocks with the run's precision settings and compare"
        >
          {mine ? 'Inspecting…' : 'Inspect quantization'}
        </button>
        {!canInspect && !quant && <span className="muted small">for the current run</span>}
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {quant && <QuantTable quant={quant} />}
    </div>
  );
}

function QuantTable({ quant }: { quant: QuantView }) {
  const hist = scaleHistogram(quant.stats);
  const most = Math.max(1, ...hist.map(([, n]) => n));
  const p = quant.precision;
  return (
    <div data-testid="precision-stats" data-rows={quant.stats.length}>
      <p className="muted small">
        Step {quant.step}, {describeSettings(p)}
        {p.linear === 'f32' ? ' — the run trains in f32; this is what these settings would do to its weights.' : '.'}{' '}
        calc_diff = 1 − 2Σxy / Σ(x² + y²) between a weight and its dequantized copy.
      </p>
      <div className="table-wrap">
        <table className="quant-table">
          <thead>
            <tr>
              <th title="layer · weight">weight</th>
              <th title="DeepGEMM's calc_diff">calc_diff</th>
              <th title="share of elements whose code sits at the format's largest magnitude">sat.</th>
              <th title="largest |w|">amax</th>
              <th title="range of floor(log2 scale) over the weight's tiles">scales</th>
            </tr>
          </thead>
          <tbody>
            {quant.stats.map((s) => (
              <QuantRow key={s.name} s={s} />
            ))}
          </tbody>
        </table>
      </div>
      <div
        className="hist"
        role="img"
        aria-label="histogram of floor(log2 scale) over all tiles"
        data-testid="precision-scale-hist"
      >
        {hist.map(([k, n]) => (
          <div
            key={k}
            className="hist-col"
            title={`${n} tile${n === 1 ? '' : 's'} with scale in [${pow2(k)}, ${pow2(k + 1)})`}
          >
            <span className="hist-bar" style={{ height: `${(100 * n) / most}%` }} />
            <span className="hist-label">{k}</span>
          </div>
        ))}
      </div>
      <p className="muted small hist-caption">tiles per floor(log2 scale), all layers</p>
    </div>
  );
}

function QuantRow({ s }: { s: QuantLayerStats }) {
  const { layer, name } = weightName(s.name);
  return (
    <tr data-testid="precision-stats-row" title={s.name}>
      <td className="mono">
        {layer !== null && <span className="muted">{layer} </span>}
        {name}
      </td>
      <td className="num">{s.calcDiff.toExponential(2)}</td>
      <td className="num">{(100 * s.saturated).toFixed(s.saturated === 0 ? 0 : 3)}%</td>
      <td className="num">{fmtValue(Number(s.amax.toPrecision(4)))}</td>
      <td className="num">{scaleRange(s)}</td>
    </tr>
  );
}

function F32Twin() {
  const run = useLab((s) => s.run);
  const phase = useLab((s) => s.phase);
  const ready = useLab((s) => s.backend !== null);
  const twin = useLab((s) => s.runF32Twin);
  if (run?.config.precision.linear !== 'lowp') return null;
  const finished = run.status === 'done' && phase === 'done';
  return (
    <div className="twin">
      <h3>FP8 vs f32</h3>
      <div className="inspect-tools">
        <button
          type="button"
          data-testid="run-f32-twin"
          disabled={!finished || !ready || !CAN_START.has(phase)}
          onClick={() => void twin(run.id)}
        >
          Run the f32 twin
        </button>
        <span className="muted small">
          {finished
            ? `same config and seed as ${run.name} with linear = f32; both curves are overlaid`
            : 'when this run has finished'}
        </span>
      </div>
    </div>
  );
}
