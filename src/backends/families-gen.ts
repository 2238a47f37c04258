// Renders the three family registries from OP_FAMILIES (op-families.ts). Why three generated files
// and not one imported list: a single module importing every family's CPU code, WebGPU code and
// checks would make the CPU backend load the WebGPU code and its shaders, and the backends cannot
// import the checks (a layer cycle). So the list is written once and the registries follow from it.
import { OP_FAMILIES } from './op-families';

export interface RegistryFile {
  /** Path from the repository root. */
  readonly path: string;
  readonly text: string;
}

/** 'fp8_gemm' → 'fp8Gemm'. */
export const camelName = (stem: string) => stem.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const GENERATED =
  '// Generated from src/backends/op-families.ts by `npm run gen:families`; edit that list, not this file.';

function registry(path: string, purpose: string[], line: (stem: string) => string): RegistryFile {
  const lines = [GENERATED, ...purpose.map((p) => `// ${p}`), ...OP_FAMILIES.map(line)];
  return { path, text: `${lines.join('\n')}\n` };
}

export function renderRegistries(): RegistryFile[] {
  const backend = (kind: string, cls: string) =>
    registry(
      `src/backends/${kind}/families.ts`,
      [`The ${kind === 'cpu' ? 'CPU' : 'WebGPU'} op families: ${cls} gets every op they export (registry.ts).`],
      (s) => `export { ops as ${camelName(s)} } from './${s}';`,
    );
  return [
    backend('cpu', 'CpuBackend'),
    backend('webgpu', 'WebGPUBackend'),
    registry(
      'src/check/families.ts',
      [
        "The op families' checks: OP_CHECKS (index.ts) holds them all, so `npm run lab -- check`",
        "and src/check/ops.test.ts run a new family's checks from its line in op-families.ts.",
      ],
      (s) => `export { ${camelName(s)}Checks as ${camelName(s)} } from './${s}';`,
    ),
  ];
}
