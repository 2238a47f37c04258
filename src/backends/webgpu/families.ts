// Generated from src/backends/op-families.ts by `npm run gen:families`; edit that list, not this file.
// The WebGPU op families: WebGPUBackend gets every op they export (registry.ts).
export { ops as activation } from './activation';
export { ops as adamw } from './adamw';
export { ops as attention } from './attention';
export { ops as decode } from './decode';
export { ops as elementwise } from './elementwise';
export { ops as embedding } from './embedding';
export { ops as fp8 } from './fp8';
export { ops as fp8Gemm } from './fp8_gemm';
export { ops as grpo } from './grpo';
export { ops as layout } from './layout';
export { ops as matmul } from './matmul';
export { ops as mlaRope } from './mla_rope';
export { ops as moeAux } from './moe_aux';
export { ops as moeDispatch } from './moe_dispatch';
export { ops as moeRoute } from './moe_route';
export { ops as reduce } from './reduce';
export { ops as rmsnorm } from './rmsnorm';
export { ops as rope } from './rope';
export { ops as sample } from './sample';
export { ops as softmax } from './softmax';
export { ops as xent } from './xent';
