// The Findings view's link: ?view=findings[&finding=NAME][&seeds=N][&quick=1] (query string, so
// the lab's hash link is untouched). `finding` shows one card; seeds and quick say what its Run
// button runs, so a shared card reproduces the experiment. A bad value is named and dropped.

import { FINDING_NAMES } from '../../findings';

export const FINDINGS_VIEW = 'findings';
export const DEFAULT_SEEDS = 3;
export const MAX_PAGE_SEEDS = 16;

export interface FindingsLinkState {
  finding: string | null;
  seeds: number;
  quick: boolean;
}

export const FINDINGS_DEFAULTS: FindingsLinkState = { finding: null, seeds: DEFAULT_SEEDS, quick: false };

export function decodeFindingsLink(search: string): { state: FindingsLinkState; problems: string[] } {
  const q = new URLSearchParams(search);
  const state = { ...FINDINGS_DEFAULTS };
  const problems: string[] = [];
  const f = q.get('finding');
  if (f !== null) {
    if (FINDING_NAMES.includes(f)) state.finding = f;
    else problems.push(`finding: "${f}" is not one of ${FINDING_NAMES.join(', ')}; showing them all`);
  }
  const s = q.get('seeds');
  if (s !== null) {
    const n = Number(s);
    if (/^\d+$/.test(s) && n >= 1 && n <= MAX_PAGE_SEEDS) state.seeds = n;
    else problems.push(`seeds: "${s}" is not an integer in [1, ${MAX_PAGE_SEEDS}]; using ${DEFAULT_SEEDS}`);
  }
  const quick = q.get('quick');
  if (quick !== null) {
    if (quick === '1' || quick === '0') state.quick = quick === '1';
    else problems.push(`quick: "${quick}" is not 0 or 1; using 0`);
  }
  return { state, problems };
}

export function encodeFindingsLink(s: FindingsLinkState): string {
  const parts = [`view=${FINDINGS_VIEW}`];
  if (s.finding) parts.push(`finding=${encodeURIComponent(s.finding)}`);
  if (s.seeds !== DEFAULT_SEEDS) parts.push(`seeds=${s.seeds}`);
  if (s.quick) parts.push('quick=1');
  return `?${parts.join('&')}`;
}
