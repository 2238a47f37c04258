// Generated from src/backends/op-families.ts by `npm run gen:families`; edit that list, not this file.
// The op families' checks: OP_CHECKS (index.ts) holds them all, so `npm run lab -- check`
// and src/check/ops.test.ts run a new family's checks from its line in op-families.ts.
export { activationChecks as activation } from './activation';
export { adamwChecks as adamw } from './adamw';
export { attentionChecks as attention } from './attention';
export { decodeChecks as decode } from './decode';
export { elementwiseChecks as elementwise } from './elementwise';
export { embeddingChecks as embedding } from './embedding';
export { fp8Checks as fp8 } from './fp8';
export { fp8GemmChecks as fp8Gemm } from './fp8_gemm';
export { grpoChecks as grpo } from './grpo';
export { layoutChecks as layout } from './layout';
export { matmulChecks as matmul } from './matmul';
export { mlaRopeChecks as mlaRope } from './mla_rope';
export { moeAuxChecks as moeAux } from './moe_aux';
export { moeDispatchChecks as moeDispatch } from './moe_dispatch';
export { moeRouteChecks as moeRoute } from './moe_route';
export { reduceChecks as reduce } from './reduce';
export { rmsnormChecks as rmsnorm } from './rmsnorm';
export { ropeChecks as rope } from './rope';
export { sampleChecks as sample } from './sample';
export { softmaxChecks as softmax } from './softmax';
export { xentChecks as xent } from './xent';
