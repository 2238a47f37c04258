// The op registry at run time (the compiler checks the rest: registry.ts): both backends install
// the same ops, every op family has checks, and a table that names an op twice fails at load.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as checkFamilies from '../check/families';
import { CpuBackend, CpuBackendCore } from './cpu/backend';
import * as cpuFamilies from './cpu/families';
import { camelName, renderRegistries } from './families-gen';
import { OP_FAMILIES } from './op-families';
import { withOps } from './registry';
import * as webgpuFamilies from './webgpu/families';

const opsOf = (families: Record<string, object>) => Object.values(families).flatMap((f) => Object.keys(f));

describe('op registry', () => {
  it('the three registries are the ones op-families.ts generates', () => {
    const root = new URL('../../', import.meta.url);
    for (const { path, text } of renderRegistries()) {
      const stale = readFileSync(new URL(path, root), 'utf8') !== text;
      expect(stale ? `${path} differs from src/backends/op-families.ts: run npm run gen:families` : 'same').toBe(
        'same',
      );
    }
    expect(Object.keys(cpuFamilies)).toEqual(OP_FAMILIES.map(camelName));
    expect(camelName('fp8_gemm')).toBe('fp8Gemm');
  });

  it('the CPU and WebGPU backends have the same families and ops, each op once', () => {
    expect(Object.keys(webgpuFamilies)).toEqual(Object.keys(cpuFamilies));
    const cpuOps = opsOf(cpuFamilies);
    expect(new Set(cpuOps).size).toBe(cpuOps.length);
    expect(opsOf(webgpuFamilies).sort()).toEqual([...cpuOps].sort());
  });

  it('every op family has checks', () => {
    expect(Object.keys(checkFamilies).sort()).toEqual(Object.keys(cpuFamilies).sort());
    for (const checks of Object.values(checkFamilies)) expect(checks.length).toBeGreaterThan(0);
  });

  it('an installed op calls its family function with the backend first', async () => {
    const be = new CpuBackend();
    const y = be.add(be.fromArray([1, 2], [2]), be.fromArray([3, 4], [2]));
    expect(Array.from(await y.read())).toEqual([4, 6]);
    expect(typeof CpuBackend.prototype.matmul).toBe('function');
  });

  it('a table with an op in two families fails at load time', () => {
    class Scratch extends CpuBackendCore {}
    const twice = { a: cpuFamilies.elementwise, b: { add: cpuFamilies.elementwise.add } };
    // @ts-expect-error the compiler rejects it too (and an incomplete table)
    expect(() => withOps('scratch', Scratch, twice)).toThrow(/op "add" in families a and b/);
  });
});
