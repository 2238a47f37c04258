// Runs that differ only in their seed: one seed proves nothing, so the runs table gathers such
// runs under a group row ("3 seeds") and the charts can draw a group as its mean with the min/max
// spread across seeds at each step (run/seeds.ts's spread). Pure functions over RunRecord.

import { canonicalConfig } from '../config';
import type { RunRecord } from '../lab/runfile';
import { type Spread, spread } from '../run/seeds';
import type { ColumnViews } from './columns';

export interface SeedGroup {
  /** Stable while the group's first run exists: that run's id. */
  id: string;
  runs: RunRecord[];
  /** Distinct seeds, ascending. */
  seeds: number[];
}

/** FNV-1a of a string, so a long text corpus enters the key as a few characters. */
function textHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return `${s.length}:${(h >>> 0).toString(36)}`;
}

/** Everything about a run but its seed: preset, every config field, live changes. */
export function seedGroupKey(run: RunRecord): string {
  const cfg = canonicalConfig(run.config);
  const text = cfg.data.text;
  cfg.data = { ...cfg.data, text: textHash(text) };
  return JSON.stringify([run.preset, cfg, run.changes.map((c) => [c.step, c.path, c.value])]);
}

/** Groups of two or more runs that differ only in seed, in the order of their first run in `runs`. */
export function seedGroups(runs: readonly RunRecord[]): SeedGroup[] {
  const byKey = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = seedGroupKey(r);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  return [...byKey.values()]
    .filter((rs) => rs.length > 1)
    .map((rs) => ({ id: rs[0].id, runs: rs, seeds: [...new Set(rs.map((r) => r.seed))].sort((a, b) => a - b) }));
}

/** "3 seeds", or "4 runs, 3 seeds" when a seed was run twice. */
export function groupLabel(g: SeedGroup): string {
  const s = `${g.seeds.length} seed${g.seeds.length === 1 ? '' : 's'}`;
  return g.runs.length === g.seeds.length ? s : `${g.runs.length} runs, ${s}`;
}

/** A group's figure across its runs (the runs that have one). */
export function groupSpread(g: SeedGroup, value: (r: RunRecord) => number | null): Spread {
  return spread(g.runs.map(value).filter((v): v is number => v !== null && Number.isFinite(v)));
}

export interface SeedBand {
  x: Float64Array;
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Runs that logged each step. */
  n: Uint16Array;
}

/**
 * Mean and min/max over the runs of a group at every step any of them logged `field` (each run's
 * columns; a step counts the runs that have a finite value there).
 */
export function seedBand(columns: readonly ColumnViews[], field: string): SeedBand {
  const at = new Map<number, number[]>();
  for (const c of columns) {
    const { x, y } = c.field(field);
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(y[i])) continue;
      const list = at.get(x[i]);
      if (list) list.push(y[i]);
      else at.set(x[i], [y[i]]);
    }
  }
  const steps = [...at.keys()].sort((a, b) => a - b);
  const band: SeedBand = {
    x: Float64Array.from(steps),
    mean: new Float64Array(steps.length),
    min: new Float64Array(steps.length),
    max: new Float64Array(steps.length),
    n: new Uint16Array(steps.length),
  };
  steps.forEach((s, i) => {
    const sp = spread(at.get(s)!);
    band.mean[i] = sp.mean;
    band.min[i] = sp.min;
    band.max[i] = sp.max;
    band.n[i] = sp.n;
  });
  return band;
}

export type TableRow = { kind: 'run'; run: RunRecord; group: SeedGroup | null } | { kind: 'group'; group: SeedGroup };

/**
 * The runs table's rows: runs in the given order, except that a seed group's runs follow its
 * group row, which stands where the group's first run would.
 */
export function tableRows(runs: readonly RunRecord[], groups: readonly SeedGroup[]): TableRow[] {
  const groupOf = new Map<string, SeedGroup>();
  for (const g of groups) for (const r of g.runs) groupOf.set(r.id, g);
  const out: TableRow[] = [];
  const placed = new Set<SeedGroup>();
  for (const run of runs) {
    const g = groupOf.get(run.id);
    if (!g) out.push({ kind: 'run', run, group: null });
    else if (!placed.has(g)) {
      placed.add(g);
      out.push({ kind: 'group', group: g }, ...g.runs.map((r) => ({ kind: 'run' as const, run: r, group: g })));
    }
  }
  return out;
}
