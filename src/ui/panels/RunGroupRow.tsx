// A seed group's row in the runs table: runs that differ only in their seed, summarized as the
// mean ± standard deviation across seeds (min–max in the tooltip), with a checkbox that draws the
// group on the charts as its mean with min/max lines.

import type { RunRecord } from '../../lab/runfile';
import type { Spread } from '../../run/seeds';
import { fmtLoss } from '../format';
import { finalLoss } from '../runs';
import { groupLabel, groupSpread, type SeedGroup } from '../seed-groups';
import { lastHeldout } from '../stages';
import { useLab } from '../store';

/** The last held-out greedy accuracy of a run, or null. */
export const finalHeldout = (r: RunRecord) => lastHeldout(r.metrics)?.value ?? null;

function fmtSpread(s: Spread, fmt: (v: number) => string): { text: string; title: string } {
  if (!s.n) return { text: '–', title: '' };
  return {
    text: s.n > 1 ? `${fmt(s.mean)} ± ${fmt(s.sd)}` : fmt(s.mean),
    title: `mean ± standard deviation over ${s.n} run${s.n === 1 ? '' : 's'}; min ${fmt(s.min)}, max ${fmt(s.max)}`,
  };
}

/** "3 done", "2 done · 1 running". */
function statusSummary(runs: readonly RunRecord[]): string {
  const n = new Map<string, number>();
  for (const r of runs) n.set(r.status, (n.get(r.status) ?? 0) + 1);
  return [...n].map(([s, k]) => `${k} ${s}`).join(' · ');
}

export function RunGroupRow({ group, heldoutColumn }: { group: SeedGroup; heldoutColumn: boolean }) {
  const drawn = useLab((s) => s.bandGroupIds.includes(group.id));
  const toggleBand = useLab((s) => s.toggleBand);
  const label = groupLabel(group);
  const loss = fmtSpread(groupSpread(group, finalLoss), (v) => fmtLoss(v));
  const heldout = fmtSpread(groupSpread(group, finalHeldout), (v) => v.toFixed(3));
  return (
    <tr className="runs-group" data-testid={`runs-group-${group.id}`}>
      <td>
        <input
          type="checkbox"
          aria-label={`draw ${label} as mean with min/max`}
          title="draw the group on the charts: mean across seeds, with min and max lines"
          data-testid={`group-band-${group.id}`}
          checked={drawn}
          onChange={() => toggleBand(group.id)}
        />
      </td>
      <td />
      <td data-col="name">
        <strong>{label}</strong>
      </td>
      <td data-col="preset">{group.runs[0].preset}</td>
      <td data-col="seed" className="num">
        {group.seeds.join(', ')}
      </td>
      <td data-col="status">{statusSummary(group.runs)}</td>
      <td data-col="final-loss" className="num" title={loss.title}>
        {loss.text}
      </td>
      {heldoutColumn && (
        <td data-col="heldout" className="num" title={heldout.title}>
          {heldout.text}
        </td>
      )}
      <td data-col="steps" />
      <td data-col="diff" className="diff">
        <span className="muted small">same config, different seeds</span>
      </td>
      <td />
    </tr>
  );
}
