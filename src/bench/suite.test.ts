// End to end: `npm run bench -- --json --quick --filter …` in a child process (the CLI exactly as
// a user runs it: dawn.node, tfjs in the same process), one matmul case, the f16-tile matmul and
// the micro-dense training step with its census. stdout must be one JSON object in the
// acceptance shape, and each case reports the kernel path it took (lavapipe has shader-f16 and
// subgroups).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REQUIRED_CASE_KEYS, type BenchReport } from './report';
import { SLOW_MS } from '../test/timeouts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run bench (quick, filtered)', () => {
  it('times ours against tfjs and prints one JSON object', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './scripts/register-raw.mjs',
        'src/bench/main.ts',
        '--json',
        '--quick',
        '--filter',
        'matmul_f32_256,matmul_f16_1024,train_step_micro-dense',
      ],
      { cwd: ROOT, maxBuffer: 1 << 24, timeout: SLOW_MS },
    );
    const report = JSON.parse(stdout) as BenchReport; // the whole of stdout: one object
    expect(report.errors).toEqual([]);
    expect(typeof report.adapter).toBe('string');
    expect(report.peer_library).toMatch(/tfjs-backend-webgpu/);
    expect(report.cases.map((c) => c.name)).toEqual(['matmul_f32_256', 'matmul_f16_1024', 'train_step_micro-dense']);
    for (const c of report.cases) {
      for (const k of REQUIRED_CASE_KEYS) expect(c).toHaveProperty(k);
      expect(c.ms).toBeGreaterThan(0);
      expect(c.gflops).toBeGreaterThan(0);
      expect(c.peer!.name).toBe('tfjs-webgpu');
      expect(c.ratio).toBeCloseTo(c.peer!.ms / c.ms, 9);
      expect(['gpu-timestamp', 'wall']).toContain(c.timing);
    }
    const [mm, mm16, step] = report.cases;
    expect(mm.floor?.name).toBe('ours naive');
    expect(mm.flops).toBe(2 * 256 ** 3);
    // The step's census: one submission, forward/backward/optimizer phases, matmuls in it.
    const census = step.census!;
    expect(census.submits).toBe(1);
    expect(Object.keys(census.phases)).toEqual(['forward', 'backward', 'optimizer']);
    expect(census.dispatches).toBe(Object.values(census.phases).reduce((a, b) => a + b, 0));
    // Matmul kernels: the single-product one and the multi-product ones (a linear's backward, the
    // SwiGLU down projection).
    const matmuls = Object.entries(census.kernels)
      .filter(([k]) => k.startsWith('matmul:') || k.startsWith('matmul_multi'))
      .reduce((n, [, v]) => n + v, 0);
    expect(matmuls).toBeGreaterThan(10);
    expect(census.kernels['matmul:main_vec4']).toBeGreaterThan(0); // every micro-dense dim is a multiple of 4
    expect(step.peer_dispatches).toBeGreaterThan(census.dispatches);
    expect(step.tokens_per_s).toBeGreaterThan(0);
    // The multi-tensor optimizer: a segmented norm pass, its tree, two AdamW dispatches, and the
    // gradients gathered by copies; beside it the per-tensor optimizer, one pass and one AdamW each.
    expect(census.phases.optimizer).toBeLessThanOrEqual(4);
    expect(census.copies).toBeGreaterThan(10);
    expect(step.also?.[0].name).toBe('ours, per-tensor optimizer');
    expect(step.also?.[0].dispatches).toBe(census.dispatches - census.phases.optimizer + 2 * census.copies! + 1);
    // The roofline readout: measured peaks, a path and a roofline per case, the step's MFU.
    expect(report.peaks!.bandwidth_gbps).toBeGreaterThan(0);
    expect(report.peaks!.fma_gflops).toBeGreaterThan(0);
    expect(report.peaks!.gemm_ref).toBe('probe_gemm_1024');
    for (const c of report.cases) expect(c.roofline!.frac_fma).toBeCloseTo(c.gflops / report.peaks!.fma_gflops, 9);
    // Paths: the f32 matmul; the f16-tile twin (our f32 tiles beside it); the step's reductions
    // and softmax finish with subgroup shuffles.
    expect(report.features).toEqual(expect.arrayContaining(['shaderF16', 'subgroups']));
    expect(mm.path).toBe('f32');
    expect(mm16.path).toBe('f16');
    expect(mm16.flops).toBe(2 * 1024 ** 3);
    expect(mm16.also?.[0].name).toBe('ours, f32 tiles');
    expect(step.path).toBe('subgroup');
    expect(Object.keys(census.kernels)).toContain('reduce_subgroup:main_subgroup');
    expect(step.mfu).toBeCloseTo(step.gflops / report.peaks!.gemm_gflops!, 9);
  });
});
