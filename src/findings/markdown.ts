// The README's findings table, written from results (`lab findings --markdown`), so the table
// cannot drift from the code that measured it.

import { FINDINGS, type JudgedResult } from './index';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const MARK: Record<JudgedResult['verdict'], string> = {
  reproduced: '✅ reproduced',
  'not reproduced': '❌ not reproduced',
  inconclusive: '❔ inconclusive',
};

/** The table: one row per finding run, with a line saying how and where it was measured. */
export function findingsMarkdown(results: readonly JudgedResult[], opts: { adapter: string; date: string }): string {
  const quick = results.some((r) => r.quick);
  const lines = [
    `| Finding | Paper | Paper's figure | Lab's figure (mean ± sd over seeds) | Verdict |`,
    '|---|---|---|---|---|',
  ];
  for (const r of results) {
    const f = FINDINGS.find((x) => x.name === r.finding);
    if (!f) continue;
    lines.push(
      `| ${cell(f.title)} | ${cell(f.paper)} | ${cell(f.paperFigure)} | ${cell(f.labFigure(r))} | ${MARK[r.verdict]} |`,
    );
  }
  const k = results.filter((r) => r.verdict === 'reproduced').length;
  const seconds = results.reduce((a, r) => a + r.seconds, 0);
  lines.push(
    '',
    `${quick ? '**Quick run** (`--quick`: fewer seeds and steps; a full run is what to quote)' : 'Full run'} on ${opts.adapter}, ${opts.date}: ${k} of ${results.length} reproduced, ${Math.round(seconds)} s. Each rule is on its card (\`?view=findings\`) and in \`npm run lab -- findings --json\`.`,
  );
  return lines.join('\n');
}
