// Every check, in one list: `npm run lab -- check --op NAME|all` and the tests use it.
import * as families from './families';
import { mlaChecks } from './mla';
import { moeChecks } from './moe';
import { mtpChecks } from './mtp';
import type { OpCheck } from './types';

/** The op families' checks (families.ts), family by family. */
export const FAMILY_CHECKS: readonly OpCheck[] = Object.values(families).flat();

/** Whole modules built from ops (the MoE layer, MLA, MTP), checked like one op. */
export const MODULE_CHECKS: readonly OpCheck[] = [...moeChecks, ...mlaChecks, ...mtpChecks];

export const OP_CHECKS: readonly OpCheck[] = [...FAMILY_CHECKS, ...MODULE_CHECKS];

export function findCheck(name: string): OpCheck | undefined {
  return OP_CHECKS.find((c) => c.name === name);
}

/** The checks `--op NAME` selects: 'all'; an exact name; or a family — 'moe' runs moe, moeRoute, moePlan, …. */
export function selectChecks(name: string): OpCheck[] {
  if (name === 'all') return [...OP_CHECKS];
  // snake_case names work too: grpo_loss → grpoLoss.
  if (name.includes('_') && !OP_CHECKS.some((c) => c.name === name))
    name = name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
  const exact = OP_CHECKS.filter((c) => c.name === name);
  const family = OP_CHECKS.filter(
    (c) => c.name !== name && c.name.startsWith(name) && /[A-Z_]/.test(c.name[name.length] ?? ''),
  );
  return [...exact, ...family];
}
