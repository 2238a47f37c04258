// precision.compute: a run asks for the matmul kernel's tile precision. On an adapter with
// shader-f16 (lavapipe has it) f16 tiles run, the losses differ from the f32 run's in their low
// bits only, and the run reports the tiles it took; the CPU reference stays float64 and says f32;
// a stored config from before the field reads f32.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backends/cpu/backend';
import { kernelPaths } from '../backends/webgpu/device';
import { findPreset, validateConfig } from '../config';
import type { Backend } from '../engine/backend';
import { gpuBackend } from '../test/gpu';
import { markOf, readMetrics } from './metrics';
import { RunPipeline } from './pipeline';

async function losses(be: Backend, compute: 'f32' | 'f16', steps: number) {
  const base = findPreset('micro-dense')!.config;
  const cfg = validateConfig({ ...base, precision: { ...base.precision, compute } });
  const p = new RunPipeline(be, cfg, 3);
  try {
    const out: number[] = [];
    for (let i = 0; i < steps; i++) out.push((await readMetrics(p, await p.runStep(), markOf(p))).loss);
    return { tiles: p.matmulTiles, out };
  } finally {
    p.dispose();
  }
}

describe('precision.compute', () => {
  it('f16 tiles on a shader-f16 adapter: the run says so and tracks the f32 run closely', async () => {
    const gpu = await gpuBackend();
    expect(gpu.rt.features.shaderF16).toBe(true);
    const f32 = await losses(gpu, 'f32', 3);
    const f16 = await losses(gpu, 'f16', 3);
    expect(kernelPaths(gpu).matmul).toBe('f16');
    expect([f32.tiles, f16.tiles]).toEqual(['f32', 'f16']);
    // Inputs rounded to f16 (2^-11 relative): the losses move, by far less than a step's change.
    for (let i = 0; i < 3; i++) {
      expect(f16.out[i]).not.toBe(f32.out[i]);
      expect(Math.abs(f16.out[i] - f32.out[i])).toBeLessThan(1e-2);
    }
    gpu.matmulTiles('f32');
    expect(kernelPaths(gpu).matmul).toBe('f32');
  });

  it('the CPU reference computes in float64 whatever is asked', async () => {
    const cpu = new CpuBackend();
    expect(cpu.matmulTiles('f16')).toBe('f32');
    const r = await losses(cpu, 'f16', 1);
    expect(r.tiles).toBe('f32');
    expect(Number.isFinite(r.out[0])).toBe(true);
  });

  it('a stored config from before the field reads f32; a bad value names the field', () => {
    const base = findPreset('micro-dense')!.config;
    const { compute: _, ...old } = base.precision;
    expect(validateConfig({ ...base, precision: old }).precision.compute).toBe('f32');
    expect(() => validateConfig({ ...base, precision: { ...base.precision, compute: 'bf16' } })).toThrow(
      /precision\.compute/,
    );
  });
});
