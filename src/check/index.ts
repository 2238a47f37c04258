// Every op check, in one list: `npm run lab -- check --op NAME|all` and src/check/ops.test.ts use it.
import { activationChecks } from './activation';
import { adamwChecks } from './adamw';
import { attentionChecks } from './attention';
import { elementwiseChecks } from './elementwise';
import { embeddingChecks } from './embedding';
import { layoutChecks } from './layout';
import { matmulChecks } from './matmul';
import { mlaChecks } from './mla';
import { reduceChecks } from './reduce';
import { rmsnormChecks } from './rmsnorm';
import { ropeChecks } from './rope';
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
  ...softmaxChecks,
  ...layoutChecks,
  ...xentChecks,
  ...adamwChecks,
  ...mlaChecks,
];

export function findCheck(name: string): OpCheck | undefined {
  return OP_CHECKS.find((c) => c.name === name);
}
