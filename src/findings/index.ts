// The findings: every claim of the DeepSeek-V3 / R1 reports the lab can test, in the order a
// lecture meets them. One module per finding; this table is the one list the CLI
// (`lab findings`) and the page's Findings view read.

import type { Backend } from '../engine/backend';
import { accumulation } from './accumulation';
import { balance } from './balance';
import { coldstart } from './coldstart';
import { distill } from './distill';
import { dualpipe } from './dualpipe';
import { fp8 } from './fp8';
import { grpo } from './grpo';
import { mla } from './mla';
import { mtp } from './mtp';
import type { Finding, FindingResult, Progress, Verdict } from './types';

export type * from './types';
export { VERDICTS } from './types';

export const FINDINGS: readonly Finding[] = [mla, balance, mtp, fp8, accumulation, dualpipe, grpo, coldstart, distill];

export const FINDING_NAMES = FINDINGS.map((f) => f.name);

export function findFinding(name: string): Finding | undefined {
  return FINDINGS.find((f) => f.name === name);
}

/** The seeds of a run: 1 … n, n the finding's default at that size unless given. */
export function seedsFor(f: Finding, quick: boolean, n?: number): number[] {
  const k = n ?? (quick ? f.sizes.quick.seeds : f.sizes.full.seeds);
  return Array.from({ length: k }, (_, i) => i + 1);
}

/** A finding's result with its verdict. */
export interface JudgedResult extends FindingResult {
  verdict: Verdict;
}

/** Run a finding and judge it by its rule. */
export async function runFinding(
  be: Backend,
  f: Finding,
  opts: { seeds: number[]; quick: boolean; onProgress?: (p: Progress) => void },
): Promise<JudgedResult> {
  const r = await f.run(be, opts);
  return { ...r, verdict: f.rule(r) };
}

/** The `--set` overrides of an arm as CLI flags. */
export function setFlags(set: Record<string, string | number | boolean>): string {
  return Object.entries(set)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
}

/** The command line that reruns a finding. */
export function findingCommand(f: Finding, quick: boolean, seeds: number): string {
  return `npm run lab -- findings --only ${f.name} --seeds ${seeds}${quick ? ' --quick' : ''}`;
}

/** One finding's JSON line (`lab findings --json`). */
export function findingLine(f: Finding, r: JudgedResult) {
  return {
    finding: f.name,
    claim: f.claim,
    paper: f.paper,
    paper_figure: f.paperFigure,
    lab: r.lab,
    lab_figure: f.labFigure(r),
    rule: f.ruleText,
    verdict: r.verdict,
    seeds: r.seeds,
    quick: r.quick,
    notes: r.notes,
    adapter: r.adapter,
    seconds: Math.round(r.seconds * 10) / 10,
  };
}
