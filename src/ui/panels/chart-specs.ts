// What the charts panel draws: one chart per entry of CHARTS (any numeric StepMetrics field has
// a column, so a later capability adds a chart by adding an entry here), and the series of each:
// the current run, its per-layer lines, the runs overlaid from the runs table (dashed) and seed
// groups drawn as their mean with min/max lines.
// RL pipeline runs put the LM loss and the GRPO surrogate objective on separate charts.

import type { LiveChange } from '../../lab/api';
import type { ChartMarker, ChartSeries } from '../charts/MetricChart';
import { countIndexed, type ColumnViews } from '../columns';
import { fieldKey } from '../format';
import { seedBand } from '../seed-groups';
import { GRPO_OBJECTIVE, seBounds } from '../stages';
import { layerName, MTP_LOSS_NOTE } from '../teaching';

export interface ChartSpec {
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
  /** A teaching note under the chart, where its numbers surprise. */
  note?: string;
  /** Shown only when a drawn run has this field (e.g. MoE metrics). */
  optional?: boolean;
  /** Per-layer columns `<perLayer>.<k>` of the current run, drawn as thin extra lines (MoE layers). */
  perLayer?: string;
  /** An RL chart: drawn in the panel's RL group, under the policy-health notice. */
  rl?: boolean;
  /** The title while an RL pipeline run is drawn. */
  stagedTitle?: string;
  /** An accuracy over the held-out prompts: the current run's line gets ±1 standard error lines. */
  se?: boolean;
}

export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'loss',
    title: 'Loss',
    stagedTitle: 'LM loss (pretraining and SFT steps; val: held-out text)',
    field: 'loss',
    label: 'train',
    val: true,
    log: true,
    smooth: true,
    wide: true,
  },
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
    title: 'MTP loss (mean over depths, unweighted)',
    note: MTP_LOSS_NOTE,
    field: 'mtp_loss',
    label: 'MTP',
    log: true,
    smooth: true,
    optional: true,
  },
  // RL pipeline runs (GRPO steps; held-out accuracy at eval steps and stage ends).
  {
    id: 'grpo-objective',
    title: 'GRPO objective (surrogate, not a loss)',
    field: GRPO_OBJECTIVE,
    label: 'surrogate',
    smooth: true,
    optional: true,
    rl: true,
  },
  { id: 'reward', rl: true, title: 'GRPO mean reward', field: 'reward', label: 'reward', smooth: true, optional: true },
  {
    id: 'accuracy',
    rl: true,
    title: 'Rollout accuracy',
    field: 'accuracy',
    label: 'accuracy',
    smooth: true,
    optional: true,
  },
  {
    id: 'format',
    rl: true,
    title: 'Rollout format rate',
    field: 'format_rate',
    label: 'format',
    smooth: true,
    optional: true,
  },
  {
    id: 'heldout',
    se: true,
    rl: true,
    title: 'Held-out accuracy (greedy, ±1 SE)',
    field: 'heldout_greedy',
    label: 'greedy',
    optional: true,
  },
  {
    id: 'passk',
    se: true,
    rl: true,
    title: 'Held-out pass@k (±1 SE)',
    field: 'heldout_pass_k',
    label: 'pass@k',
    optional: true,
  },
  {
    id: 'resplen',
    rl: true,
    title: 'Response length (tokens)',
    field: 'response_len',
    label: 'length',
    smooth: true,
    optional: true,
  },
  { id: 'kl', rl: true, title: 'KL to the reference (k3)', field: 'kl', label: 'KL', smooth: true, optional: true },
  { id: 'clip', rl: true, title: 'Clip fraction', field: 'clip_frac', label: 'clipped', smooth: true, optional: true },
  {
    id: 'entropy',
    rl: true,
    title: 'Entropy (−mean log-prob)',
    field: 'entropy',
    label: 'entropy',
    smooth: true,
    optional: true,
  },
  {
    id: 'advstd',
    rl: true,
    title: 'Advantage spread (std)',
    field: 'adv_std',
    label: 'std',
    smooth: true,
    optional: true,
  },
  {
    id: 'rolloutspeed',
    rl: true,
    title: 'Rollout tokens/s',
    field: 'rollout_tokens_per_s',
    label: 'tokens/s',
    smooth: true,
    optional: true,
  },
];

const LAYER_COLORS = ['#94a3b8', '#f59e0b', '#14b8a6', '#f43f5e', '#a3a3a3', '#84cc16'];

/** What the charts draw besides the chart specs: the runs and groups, and the current run's shape. */
export interface DrawnRuns {
  current: ColumnViews;
  /** Runs overlaid from the runs table (dashed). */
  overlays: Array<{ name: string; v: ColumnViews; color: string }>;
  /** Seed groups drawn as their mean with min/max lines across seeds. */
  groups: Array<{ name: string; cols: ColumnViews[]; color: string }>;
  /** Absolute index of the first per-layer column's layer (MoE layers start after the dense ones). */
  layerOffset: number;
  /** The main model's layers (model.num_hidden_layers): later ones are the MTP module's. */
  mainLayers?: number;
  /** The current run's held-out prompts (rl.eval_prompts), for the standard error of `se` charts. */
  evalPrompts: number;
}

/** Whether an optional chart has anything to draw. */
export function hasData(spec: ChartSpec, d: DrawnRuns): boolean {
  const f = spec.field;
  return d.current.has(f) || d.overlays.some((o) => o.v.has(f)) || d.groups.some((g) => g.cols.some((c) => c.has(f)));
}

export function seriesFor(spec: ChartSpec, d: DrawnRuns): ChartSeries[] {
  const { current, evalPrompts } = d;
  const f = current.field(spec.field);
  const out: ChartSeries[] = [{ label: spec.label, x: f.x, y: f.y, color: 'var(--train)' }];
  if (spec.se && evalPrompts > 0 && f.x.length) {
    const { lo, hi } = seBounds(f.y, evalPrompts);
    out.push(
      { label: '+1 SE', x: f.x, y: hi, color: 'var(--train)', dashed: true, thin: true },
      { label: '−1 SE', x: f.x, y: lo, color: 'var(--train)', dashed: true, thin: true },
    );
  }
  if (spec.val) out.push({ label: 'val', x: current.valStep, y: current.valLoss, color: 'var(--val)', points: true });
  if (spec.perLayer) {
    const n = countIndexed(current, spec.perLayer);
    for (let k = 0; k < n; k++) {
      const l = current.field(`${spec.perLayer}.${k}`);
      const label = layerName(d.layerOffset + k, d.mainLayers ?? Infinity);
      out.push({ label, x: l.x, y: l.y, color: LAYER_COLORS[k % LAYER_COLORS.length] });
    }
  }
  for (const { name, v, color } of d.overlays) {
    const o = v.field(spec.field);
    out.push({ label: spec.val ? `${name} train` : name, x: o.x, y: o.y, color, dashed: true });
    if (spec.val && v.valStep.length)
      out.push({ label: `${name} val`, x: v.valStep, y: v.valLoss, color, dashed: true, points: true });
  }
  for (const { name, cols, color } of d.groups) {
    const b = seedBand(cols, spec.field);
    out.push(
      { label: `${name}: mean`, x: b.x, y: b.mean, color },
      { label: `${name}: min`, x: b.x, y: b.min, color, thin: true },
      { label: `${name}: max`, x: b.x, y: b.max, color, thin: true },
    );
  }
  return out;
}

export function markersOf(changes: readonly LiveChange[]): ChartMarker[] {
  return changes.map((c) => ({ x: c.step, label: `${fieldKey(c.path)}=${String(c.value)}` }));
}
