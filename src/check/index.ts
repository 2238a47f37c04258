// Every op check, in one list: `npm run lab -- check --op NAME|all` and src/check/ops.test.ts use it.
import { activationChecks } from './activation';
import { adamwChecks } from './adamw';
import { attentionChecks } from './attention';
import { decodeChecks } from './decode';
import { elementwiseChecks } from './elementwise';
import { embeddingChecks } from './embedding';
import { fp8Checks } from './fp8';
import { fp8GemmChecks } from './fp8_gemm';
import { grpoChecks } from './grpo';
import { layoutChecks } from './layout';
import { matmulChecks } from './matmul';
import { mlaChecks } from './mla';
import { mtpChecks } from './mtp';
import { moeChecks } from './moe';
import { moeAuxChecks } from './moe_aux';
import { moeDispatchChecks } from './moe_dispatch';
import { moeRouteChecks } from './moe_route';
import { reduceChecks } from './reduce';
import { rmsnormChecks } from './rmsnorm';
import { ropeChecks } from './rope';
import { sampleChecks } from './sample';
import { softmaxChecks } from './softmax';
import type { OpCheck } from './types';
import { xentChecks } from './xent';

export const OP_CHECKS: readonly OpCheck[] = [
  ...matmulChecks,
  ...elementwiseChecks,
  ...reduceChecks,
  ...embeddingChecks,
  ...rmsnormChecks,
  ...ropeChecks,
  ...activationChecks,
  ...attentionChecks,
  ...decodeChecks,
  ...softmaxChecks,
  ...layoutChecks,
  ...xentChecks,
  ...adamwChecks,
  ...moeRouteChecks,
  ...moeDispatchChecks,
  ...moeAuxChecks,
  ...moeChecks,
  ...mlaChecks,
  ...mtpChecks,
  ...fp8Checks,
  ...fp8GemmChecks,
  ...sampleChecks,
  ...grpoChecks,
];

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
