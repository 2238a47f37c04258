// Helpers for the run history: new records, summaries for the runs table, config diffs against a
// baseline, names and ids. Functions over RunRecord (lab/runfile.ts).

import { type Checkpoint, getPath, type RunConfig } from '../config';
import type { RunInfo } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { configDiff } from '../lab/share';
import { fmtValue } from './format';
import { lastLmLoss } from './stages';

export function lastMetric(run: RunRecord) {
  return run.metrics.length ? run.metrics[run.metrics.length - 1] : null;
}

/** The last LM loss: an RL pipeline run's GRPO steps report a surrogate objective, not a loss. */
export function finalLoss(run: RunRecord): number | null {
  return lastLmLoss(run.metrics);
}

export function stepsDone(run: RunRecord): number {
  return lastMetric(run)?.step ?? 0;
}

export interface DiffEntry {
  path: string;
  text: string;
}

/** What differs in `run`'s config from `base`'s (preset and seed have their own columns). */
export function runDiff(base: RunRecord, run: RunRecord): DiffEntry[] {
  if (base.id === run.id) return [];
  const out: DiffEntry[] = Object.entries(configDiff(base.config, run.config)).map(([path, v]) => ({
    path,
    text: `${path}: ${fmtValue(getPath(base.config, path))} → ${fmtValue(v)}`,
  }));
  if (
    run.config.data.corpus === 'text' &&
    base.config.data.corpus === 'text' &&
    run.config.data.text !== base.config.data.text
  ) {
    out.push({ path: 'data.text', text: 'data.text: different text' });
  }
  return out;
}

/** "run 7": one more than the highest "run N" so far. */
export function nextRunName(runs: readonly RunRecord[]): string {
  let n = 0;
  for (const r of runs) {
    const m = /^run (\d+)$/.exec(r.name);
    if (m) n = Math.max(n, Number(m[1]));
  }
  return `run ${Math.max(n, runs.length) + 1}`;
}

/** Short id safe for data-testids and file names. */
export function newRunId(): string {
  return `r${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
}

/** The history record of a run just built in the lab (`config`: the page's, if the lab sent none). */
export function newRunRecord(info: RunInfo, config: RunConfig, runs: readonly RunRecord[]): RunRecord {
  return {
    id: newRunId(),
    name: nextRunName(runs),
    createdAt: Date.now(),
    preset: info.preset,
    seed: info.seed,
    config: info.config ?? config,
    metrics: [],
    changes: [],
    samples: [],
    status: 'running',
    adapter: info.adapter,
    backend: info.backend,
  };
}

/** The history record of weights imported from a .safetensors file (no metrics). */
export function importedWeightsRecord(name: string, head: Pick<Checkpoint, 'preset' | 'seed' | 'config'>): RunRecord {
  return {
    id: newRunId(),
    name,
    createdAt: Date.now(),
    preset: head.preset,
    seed: head.seed,
    config: head.config,
    metrics: [],
    changes: [],
    samples: [],
    status: 'stopped',
    adapter: 'imported weights',
    backend: 'webgpu',
  };
}

/** Runs in the order the table shows them (oldest first). */
export function sortRuns(runs: readonly RunRecord[]): RunRecord[] {
  return [...runs].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

export function fileSafe(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
}
