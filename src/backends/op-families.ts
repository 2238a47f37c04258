// The op families, one line each: the one registry line a new family needs. Each name is a file
// stem: shaders/<name>.wgsl, backends/webgpu/<name>.ts, backends/cpu/<name>.ts, check/<name>.ts.
// The three registries the code imports (backends/cpu/families.ts, backends/webgpu/families.ts,
// check/families.ts) are generated from this list by `npm run gen:families` (families-gen.ts);
// src/backends/registry.test.ts fails, naming that command, when they differ from it.
export const OP_FAMILIES = [
  'activation',
  'adamw',
  'attention',
  'decode',
  'elementwise',
  'embedding',
  'fp8',
  'fp8_gemm',
  'grpo',
  'layout',
  'matmul',
  'mla_rope',
  'moe_aux',
  'moe_dispatch',
  'moe_route',
  'reduce',
  'rmsnorm',
  'rope',
  'sample',
  'softmax',
  'xent',
] as const;
