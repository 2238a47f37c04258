import { describe, expect, it } from 'vitest';
import { parseArgs } from './args';
import { fmaFlops, mfuOf, pathOf, rooflineOf, streamBytes } from './roofline';
import { formatMarkdown, formatTable, peaksLine, rooflineRows, type BenchReport, type CaseResult } from './report';
import { annotate } from './suite';

const peaks = { bandwidth_gbps: 10, fma_gflops: 100, gemm_gflops: null, gemm_ref: null };

function fake(over: Partial<CaseResult>): CaseResult {
  return {
    name: 'c',
    group: 'matmul',
    shape: '',
    ms: 1,
    gflops: 0,
    peer: null,
    ratio: null,
    timing: 'wall',
    wall_ms: 1,
    samples: 1,
    reps: 1,
    spread: 0,
    flops: 0,
    bytes: 0,
    bytes_kind: 'compulsory',
    gbps: 0,
    ...over,
  };
}

describe('roofline math', () => {
  it('places a memory-bound case under the bandwidth roof', () => {
    // 2 FLOP/B · 10 GB/s = 20 GFLOP/s attainable, below the FMA roof of 100.
    const r = rooflineOf({ flops: 2e9, bytes: 1e9, gflops: 10, gbps: 5 }, peaks);
    expect(r.intensity).toBe(2);
    expect(r.attainable_gflops).toBe(20);
    expect(r.bound).toBe('memory');
    expect(r.frac_roofline).toBeCloseTo(0.5, 12);
    expect(r.frac_fma).toBeCloseTo(0.1, 12);
    expect(r.frac_bw).toBeCloseTo(0.5, 12);
  });

  it('places a compute-bound case under the FMA roof; the ridge is fma / bandwidth', () => {
    const r = rooflineOf({ flops: 50e9, bytes: 1e9, gflops: 80, gbps: 1.6 }, peaks);
    expect(r.bound).toBe('compute');
    expect(r.attainable_gflops).toBe(100);
    expect(r.frac_roofline).toBeCloseTo(0.8, 12);
    const ridge = rooflineOf({ flops: 10e9, bytes: 1e9, gflops: 1, gbps: 0.1 }, peaks);
    expect(ridge.attainable_gflops).toBe(100);
    expect(ridge.bound).toBe('compute');
  });

  it('a case without bytes is compute-bound at any speed; zero peaks give zero fractions', () => {
    const r = rooflineOf({ flops: 1e9, bytes: 0, gflops: 5, gbps: 0 }, peaks);
    expect(r.intensity).toBe(Number.POSITIVE_INFINITY);
    expect(r.bound).toBe('compute');
    expect(rooflineOf({ flops: 1, bytes: 1, gflops: 1, gbps: 1 }, { bandwidth_gbps: 0, fma_gflops: 0 }).frac_fma).toBe(
      0,
    );
  });

  it('MFU is GFLOP/s over the reference GEMM, null without one', () => {
    expect(mfuOf(1.58, 4.3)).toBeCloseTo(0.3674, 4);
    expect(mfuOf(1, null)).toBeNull();
    expect(mfuOf(1, 0)).toBeNull();
  });

  it('probe counts: 32 bytes per vec4 copied, 64 FLOP per invocation and round', () => {
    expect(streamBytes(1)).toBe(32);
    expect(fmaFlops(2, 3)).toBe(2 * 3 * 64);
  });

  it('path from the kernels WGSL: the most specialised enable wins, plain f32 otherwise', () => {
    expect(pathOf([])).toBe('f32');
    expect(pathOf(['fn main() {}'])).toBe('f32');
    expect(pathOf(['enable subgroups;\nfn a() {}', 'fn b() {}'])).toBe('subgroup');
    expect(pathOf(['enable f16;', 'enable subgroups;'])).toBe('f16');
    expect(pathOf(['// where the device has it: enable f16; alias AT = f16;\nalias AT = f32;'])).toBe('f32'); // comments do not count
    expect(pathOf(['enable f16;', 'enable chromium_experimental_subgroup_matrix;'])).toBe('subgroup-matrix');
    // A comment that mentions f16 is not an enable directive.
    expect(pathOf(['// no f16 here\nfn a() {}'])).toBe('f32');
  });

  it('annotate: roofline with peaks; training steps take MFU from matmul_f32_1024, else the GEMM probe', () => {
    const mm = fake({ name: 'matmul_f32_1024', gflops: 4, flops: 8e9, bytes: 1e8, gbps: 0.05 });
    const step = fake({ name: 'train_step_x', group: 'train_step', gflops: 1, flops: 1e9, bytes: 1e9, gbps: 1 });
    annotate(step, { ...peaks, gemm_gflops: 2, gemm_ref: 'probe_gemm_1024' }, [mm]);
    expect(step.mfu).toBeCloseTo(0.25, 12);
    expect(step.mfu_ref).toBe('matmul_f32_1024');
    expect(step.roofline?.bound).toBe('memory');
    const alone = fake({ name: 'train_step_y', group: 'train_step', gflops: 1 });
    annotate(alone, { ...peaks, gemm_gflops: 2, gemm_ref: 'probe_gemm_1024' }, []);
    expect(alone.mfu).toBeCloseTo(0.5, 12);
    expect(alone.mfu_ref).toBe('probe_gemm_1024');
    const none = fake({ name: 'train_step_z', group: 'train_step', gflops: 1 });
    annotate(none, null, []);
    expect(none.mfu).toBeUndefined();
    expect(none.roofline).toBeUndefined();
  });

  it('report: the roofline table and the peaks line, in text and Markdown; --no-probes parses', () => {
    const c = fake({ name: 'matmul_f32_1024', gflops: 50, gbps: 1, flops: 50e9, bytes: 1e9, path: 'f32' });
    annotate(c, peaks, []);
    const r: BenchReport = {
      adapter: 'a',
      timing: 'wall',
      peer_library: null,
      features: [],
      quick: true,
      filter: null,
      started: '',
      wall_s: 1,
      cases: [c],
      errors: [],
      peaks,
    };
    const rows = rooflineRows(r);
    expect(rows[1]).toEqual([
      'matmul_f32_1024',
      'f32',
      '50.00',
      '50.00',
      '50.0%',
      '1.00',
      '10.0%',
      'compute',
      '50.0%',
      '',
    ]);
    expect(peaksLine(r)).toContain('bandwidth 10.00 GB/s, FMA throughput 100.0 GFLOP/s');
    expect(formatTable(r)).toContain('% roofline');
    expect(formatMarkdown(r)).toContain('| matmul_f32_1024 | f32 | 50.00 |');
    expect(peaksLine({ ...r, peaks: undefined })).toMatch(/no probes/);
    expect(parseArgs(['--no-probes']).noProbes).toBe(true);
    expect(parseArgs([]).noProbes).toBe(false);
  });
});
