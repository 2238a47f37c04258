// The run history (IndexedDB): one row per run with its final loss and its config diff against
// a baseline run; checkboxes overlay runs on the charts; export (JSON, weights), import, delete.
// A finished low-precision run offers its f32 twin (same config and seed, linear = f32). Runs that
// differ only in seed sit under a group row ("3 seeds", RunGroupRow) that can draw the group on
// the charts as its mean with min/max lines.

import { useRef, useState } from 'react';
import type { RunRecord } from '../../lab/runfile';
import { totalSteps } from '../../run/schedule';
import { fmtLoss } from '../format';
import { overlayColors } from '../run-colors';
import { finalLoss, runDiff, sortRuns, stepsDone } from '../runs';
import { seedGroups, tableRows } from '../seed-groups';
import { fmtAccuracy, seTitle } from '../stages';
import { CAN_START, useLab } from '../store';
import { Panel } from './Panel';
import { finalHeldout, RunGroupRow } from './RunGroupRow';

export function RunsPanel() {
  const runs = useLab((s) => s.runs);
  useLab((s) => s.runsVersion); // rows change in place (status, metrics)
  const currentId = useLab((s) => s.run?.id ?? null);
  const baselineId = useLab((s) => s.baselineId);
  const overlayIds = useLab((s) => s.overlayIds);
  const importFile = useLab((s) => s.importFile);
  const fileRef = useRef<HTMLInputElement>(null);

  const rows = sortRuns(runs);
  const baseline = rows.find((r) => r.id === baselineId) ?? rows[0] ?? null;
  const table = tableRows(rows, seedGroups(rows));
  const colors = overlayColors(rows, overlayIds);
  // Held-out accuracy (± its standard error) once an RL pipeline run is in the table.
  const heldoutColumn = rows.some((r) => r.config.rl.mode === 'pipeline');

  const tools = (
    <label className="import" title="a run exported as .json (config and metrics), or weights as .safetensors">
      Import
      <input
        ref={fileRef}
        type="file"
        accept=".json,.safetensors,application/json"
        data-testid="run-import"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void importFile(f);
          e.target.value = '';
        }}
      />
    </label>
  );

  return (
    <Panel title="Runs" testId="panel-runs" aside={tools}>
      {rows.length === 0 ? (
        <p className="muted small" data-testid="runs-empty">
          No runs yet. Every run you start is kept here (in this browser), with its config, metrics, samples and final
          weights.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="runs" data-testid="runs-table">
            <thead>
              <tr>
                <th title="overlay this run's curves on the charts">show</th>
                <th title="the run the others are compared against">baseline</th>
                <th>name</th>
                <th>preset</th>
                <th>seed</th>
                <th>status</th>
                <th title="the last language-model loss (an RL run's GRPO steps report a surrogate objective instead)">
                  final loss
                </th>
                {heldoutColumn && <th title="the last held-out greedy accuracy ± one standard error">held-out acc.</th>}
                <th>steps</th>
                <th>config vs baseline</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {table.map((row) =>
                row.kind === 'group' ? (
                  <RunGroupRow key={`group-${row.group.id}`} group={row.group} heldoutColumn={heldoutColumn} />
                ) : (
                  <RunRow
                    key={row.run.id}
                    run={row.run}
                    baseline={baseline}
                    current={row.run.id === currentId}
                    overlaid={overlayIds.includes(row.run.id)}
                    grouped={row.group !== null}
                    color={row.run.id === currentId ? undefined : colors.get(row.run.id)}
                    heldoutColumn={heldoutColumn}
                  />
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

function RunRow({
  run,
  baseline,
  current,
  overlaid,
  grouped,
  heldoutColumn,
  color,
}: {
  run: RunRecord;
  baseline: RunRecord | null;
  current: boolean;
  overlaid: boolean;
  /** One of a seed group's runs (indented under its group row). */
  grouped: boolean;
  heldoutColumn: boolean;
  /** Its line colour on the charts, when overlaid. */
  color?: string;
}) {
  const setBaseline = useLab((s) => s.setBaseline);
  const toggleOverlay = useLab((s) => s.toggleOverlay);
  const isBase = baseline?.id === run.id;

  return (
    <tr
      data-testid={`runs-row-${run.id}`}
      data-group={grouped || undefined}
      className={[current && 'current', grouped && 'runs-member'].filter(Boolean).join(' ') || undefined}
    >
      <td>
        <input
          type="checkbox"
          aria-label={`overlay ${run.name}`}
          data-testid={`run-overlay-${run.id}`}
          checked={overlaid || current}
          disabled={current}
          onChange={() => toggleOverlay(run.id)}
        />
        {color && (
          <span
            className="run-swatch"
            style={{ background: color }}
            title="its line on the charts"
            data-testid={`run-color-${run.id}`}
            data-color={color}
          />
        )}
      </td>
      <td>
        <input
          type="radio"
          name="baseline"
          aria-label={`baseline ${run.name}`}
          data-testid={`run-baseline-${run.id}`}
          checked={isBase}
          onChange={() => setBaseline(run.id)}
        />
      </td>
      <td data-col="name">
        <RunName run={run} />
        {current && <span className="badge badge-on">current</span>}
      </td>
      <td data-col="preset">{run.preset}</td>
      <td data-col="seed" className="num">
        {run.seed}
      </td>
      <td data-col="status">
        <span className={`status status-${run.status}`}>{run.status}</span>
      </td>
      <td data-col="final-loss" className="num">
        {fmtLoss(finalLoss(run))}
      </td>
      {heldoutColumn && (
        <td data-col="heldout" className="num" title={seTitle(run.config.rl.eval_prompts)}>
          {run.config.rl.mode === 'pipeline' ? fmtAccuracy(finalHeldout(run), run.config.rl.eval_prompts) : ''}
        </td>
      )}
      <td data-col="steps" className="num">
        {stepsDone(run)} / {totalSteps(run.config)}
      </td>
      <td data-col="diff" className="diff">
        <DiffChips run={run} baseline={baseline} />
      </td>
      <td className="actions">
        <RunActions run={run} />
      </td>
    </tr>
  );
}

/** What differs from the baseline run: preset, seed and config values. */
function DiffChips({ run, baseline }: { run: RunRecord; baseline: RunRecord | null }) {
  if (baseline?.id === run.id) return <span className="muted small">baseline</span>;
  const diff = baseline ? runDiff(baseline, run) : [];
  const extra: string[] = [];
  if (baseline) {
    if (baseline.preset !== run.preset) extra.push(`preset: ${baseline.preset} → ${run.preset}`);
    if (baseline.seed !== run.seed) extra.push(`seed: ${baseline.seed} → ${run.seed}`);
  }
  if (diff.length + extra.length === 0) return <span className="muted small">same config</span>;
  return (
    <>
      {[...extra, ...diff.map((d) => d.text)].map((t) => (
        <span key={t} className="chip">
          {t}
        </span>
      ))}
    </>
  );
}

/** Export (JSON, weights), the f32 twin of a finished low-precision run, delete. */
function RunActions({ run }: { run: RunRecord }) {
  const exportRun = useLab((s) => s.exportRun);
  const exportWeights = useLab((s) => s.exportWeights);
  const deleteRun = useLab((s) => s.deleteRun);
  const runF32Twin = useLab((s) => s.runF32Twin);
  const canStart = useLab((s) => CAN_START.has(s.phase) && s.backend !== null);
  const hasWeights = run.status === 'done' || run.status === 'stopped';
  return (
    <>
      <button
        type="button"
        className="link"
        data-testid={`run-export-${run.id}`}
        onClick={() => exportRun(run.id)}
        title="config, metrics, changes and samples as JSON"
      >
        JSON
      </button>
      {hasWeights && (
        <button
          type="button"
          className="link"
          data-testid={`run-weights-${run.id}`}
          onClick={() => void exportWeights(run.id)}
          title="final weights (and optimizer state) as .safetensors"
        >
          weights
        </button>
      )}
      {run.status === 'done' && run.config.precision.linear === 'lowp' && (
        <button
          type="button"
          className="link"
          data-testid={`run-f32-twin-${run.id}`}
          disabled={!canStart}
          onClick={() => void runF32Twin(run.id)}
          title="train the same config and seed with precision.linear = f32, overlaid on this run"
        >
          f32 twin
        </button>
      )}
      <button
        type="button"
        className="link danger"
        data-testid={`run-delete-${run.id}`}
        onClick={() => deleteRun(run.id)}
      >
        delete
      </button>
    </>
  );
}

/** A run's name; click to rename it (Enter or leaving the field keeps the new name, Escape cancels). */
function RunName({ run }: { run: RunRecord }) {
  const rename = useLab((s) => s.renameRun);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(run.name);
  if (!editing)
    return (
      <button
        type="button"
        className="link run-name"
        data-testid={`run-name-${run.id}`}
        title="rename this run"
        onClick={() => {
          setText(run.name);
          setEditing(true);
        }}
      >
        {run.name}
      </button>
    );
  const done = (keep: boolean) => {
    setEditing(false);
    if (keep) rename(run.id, text);
  };
  return (
    <input
      className="run-name-input"
      data-testid={`run-rename-${run.id}`}
      aria-label={`new name for ${run.name}`}
      value={text}
      maxLength={80}
      // biome-ignore lint/a11y/noAutofocus: the field appears because its name was just clicked
      autoFocus
      onChange={(e) => setText(e.target.value)}
      onBlur={() => done(true)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') done(true);
        if (e.key === 'Escape') done(false);
      }}
    />
  );
}
