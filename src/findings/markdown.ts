// The README's findings table, written from results (`lab findings --markdown`), so the table
// cannot drift from the code that measured it.

import { FINDINGS, type JudgedResult } from './index';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const MARK: Record<JudgedResult['verdict'], string> = {
  reproduced: '✅ reproduced',
  'not reproduced': '❌ not reproduced',
  inconclusive: '❔ inconclusive',
};

/** One row of the table: a finding's figure and verdict as a run printed them. */
export interface TableRow {
  finding: string;
  labFigure: string;
  verdict: JudgedResult['verdict'];
  quick: boolean;
  seconds: number;
}

export const rowOf = (r: JudgedResult): TableRow => {
  const f = FINDINGS.find((x) => x.name === r.finding);
  return {
    finding: r.finding,
    labFigure: f ? f.labFigure(r) : '',
    verdict: r.verdict,
    quick: r.quick,
    seconds: r.seconds,
  };
};

/** The table from finished results (`lab findings --markdown`). */
export function findingsMarkdown(results: readonly JudgedResult[], opts: { adapter: string; date: string }): string {
  return findingsTable(results.map(rowOf), opts);
}

/**
 * The table: one row per finding run, with a line saying how and where it was measured. From
 * results (above) or from the rows a `--json` run printed (`lab findings --table FILE…`), so a
 * full run can be made one card at a time and still give one table.
 */
export function findingsTable(rows: readonly TableRow[], opts: { adapter: string; date: string }): string {
  const quick = rows.some((r) => r.quick);
  const lines = [
    `| Finding | Paper | Paper's figure | Lab's figure (mean ± sd over seeds) | Verdict |`,
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const f = FINDINGS.find((x) => x.name === r.finding);
    if (!f) continue;
    lines.push(
      `| ${cell(f.title)} | ${cell(f.paper)} | ${cell(f.paperFigure)} | ${cell(r.labFigure)} | ${MARK[r.verdict]} |`,
    );
  }
  const k = rows.filter((r) => r.verdict === 'reproduced').length;
  const seconds = rows.reduce((a, r) => a + r.seconds, 0);
  lines.push(
    '',
    `${quick ? '**Quick run** (`--quick`: fewer seeds and steps; a full run is what to quote)' : 'Full run'} on ${opts.adapter}, ${opts.date}: ${k} of ${rows.length} reproduced, ${Math.round(seconds)} s. Each rule is on its card (\`?view=findings\`) and in \`npm run lab -- findings --json\`.`,
  );
  return lines.join('\n');
}
