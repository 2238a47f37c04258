// Metrics of a run in growable typed-array columns, so the charts get zero-copy views (subarray)
// on every frame instead of rebuilding arrays from objects. Every numeric StepMetrics field gets
// its own column the first time it appears (NaN before, and on rows without it), so a new metric
// (e.g. MoE's max_vio) can be charted without touching this file. Arrays of numbers (one or two
// levels, e.g. MoE's per-layer max_vio_layers or expert_load[layer][expert]) get one column per
// element, named by path: "max_vio_layers.1", "expert_load.0.3". Validation losses are sparse and
// kept in their own pair of columns, so their line joins the evaluated steps. The `loss` of a GRPO
// step (RL pipeline runs) goes to the GRPO_OBJECTIVE column instead of `loss` (see stages.ts).

import type { StepMetrics } from '../lab/api';
import type { RunRecord } from '../lab/runfile';
import { GRPO_OBJECTIVE } from './stages';

class Column {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export interface XYView {
  x: Float64Array;
  y: Float64Array;
}

export interface ColumnViews {
  step: Float64Array;
  valStep: Float64Array;
  valLoss: Float64Array;
  /** A numeric field against step (empty when the run never logged it). */
  field(name: string): XYView;
  has(name: string): boolean;
}

const EMPTY = new Float64Array(0);

export class MetricColumns {
  private step = new Column();
  private cols = new Map<string, Column>();
  private valStep = new Column(64);
  private valLoss = new Column(64);

  get length(): number {
    return this.step.length;
  }

  push(m: StepMetrics): void {
    const row = this.step.length;
    this.step.push(m.step);
    const put = (k: string, v: number) => {
      let c = this.cols.get(k);
      if (!c) {
        c = new Column(Math.max(1024, row + 1));
        for (let i = 0; i < row; i++) c.push(NaN);
        this.cols.set(k, c);
      }
      if (c.length === row) c.push(v);
    };
    // A GRPO step's `loss` is its surrogate objective: its own column, never the LM loss's.
    const grpo = m.stage === 'grpo';
    for (const [k, v] of Object.entries(m)) {
      if (k === 'step' || k === 'val_loss') continue;
      if (typeof v === 'number') put(grpo && k === 'loss' ? GRPO_OBJECTIVE : k, v);
      else if (Array.isArray(v)) {
        v.forEach((a: unknown, i) => {
          if (typeof a === 'number') put(`${k}.${i}`, a);
          else if (Array.isArray(a))
            a.forEach((b: unknown, j) => {
              if (typeof b === 'number') put(`${k}.${i}.${j}`, b);
            });
        });
      }
    }
    for (const c of this.cols.values()) if (c.length === row) c.push(NaN);
    if (m.val_loss !== null && m.val_loss !== undefined) {
      this.valStep.push(m.step);
      this.valLoss.push(m.val_loss);
    }
  }

  views(): ColumnViews {
    const step = this.step.view();
    const cols = this.cols;
    return {
      step,
      valStep: this.valStep.view(),
      valLoss: this.valLoss.view(),
      field: (name) => {
        const c = cols.get(name);
        return c ? { x: step, y: c.view() } : { x: EMPTY, y: EMPTY };
      },
      has: (name) => cols.has(name),
    };
  }

  static from(metrics: readonly StepMetrics[]): MetricColumns {
    const c = new MetricColumns();
    for (const m of metrics) c.push(m);
    return c;
  }
}

export const NO_COLUMNS: ColumnViews = {
  step: EMPTY,
  valStep: EMPTY,
  valLoss: EMPTY,
  field: () => ({ x: EMPTY, y: EMPTY }),
  has: () => false,
};

const columnCache = new WeakMap<RunRecord, { n: number; cols: MetricColumns }>();

/** Columns of a history run (rebuilt only when its metrics grew). */
export function columnsOf(run: RunRecord): ColumnViews {
  const hit = columnCache.get(run);
  if (hit && hit.n === run.metrics.length) return hit.cols.views();
  const cols = MetricColumns.from(run.metrics);
  columnCache.set(run, { n: run.metrics.length, cols });
  return cols.views();
}

/** Number of consecutive per-element columns `prefix.0`, `prefix.1`, … (e.g. MoE layers). */
export function countIndexed(v: ColumnViews, prefix: string, suffix = ''): number {
  let k = 0;
  while (v.has(`${prefix}.${k}${suffix}`)) k++;
  return k;
}
