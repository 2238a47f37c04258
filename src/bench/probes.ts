// The roofline probes (kernels/probe_stream.wgsl, kernels/probe_fma.wgsl), as bench cases of
// group 'probe' run by the suite before the cases: this adapter's streaming bandwidth and FMA
// throughput, measured like every case (warm-up, planned repeats, median), and when a report
// has training steps but no matmul_f32_1024, our 1024³ GEMM for their MFU. Sizes: 64 MiB in and
// 64 MiB out (past any cache), and 2¹⁸ invocations × 128 rounds of 8 vec4 FMAs (2.1 GFLOP).

import fmaSrc from './kernels/probe_fma.wgsl?raw';
import streamSrc from './kernels/probe_stream.wgsl?raw';
import type { WebGPUBackend } from '../backends/webgpu/backend';
import type { Kernel } from '../backends/webgpu/pipelines';
import { grid1d, packUniforms } from '../backends/webgpu/runtime';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { type CaseDef, OURS, type Runner } from './case_types';
import { matmulBytes, matmulFlops } from './flops';
import { fmaFlops, streamBytes } from './roofline';

const STREAM: Kernel = { name: 'bench_probe_stream', code: streamSrc, entry: 'main' };
const FMA: Kernel = { name: 'bench_probe_fma', code: fmaSrc, entry: 'main' };
const WG = 256;

export const PROBE_BANDWIDTH = 'probe_bandwidth';
export const PROBE_FMA = 'probe_fma';
export const PROBE_GEMM = 'probe_gemm_1024';

function runner(be: WebGPUBackend, owned: Tensor[], unit: () => void): Runner {
  return {
    name: OURS,
    run(reps) {
      for (let i = 0; i < reps; i++) unit();
    },
    finish: () => be.flush(),
    teardown() {
      for (const t of owned) t.dispose();
    },
  };
}

function bandwidthProbe(be: WebGPUBackend): CaseDef {
  const max = Math.min(be.rt.limits.maxStorageBufferBindingSize, be.rt.limits.maxBufferSize);
  const bytes = Math.min(64 * 2 ** 20, 2 ** Math.floor(Math.log2(max)));
  const vec4s = bytes / 16;
  return {
    name: PROBE_BANDWIDTH,
    group: 'probe',
    shape: `y = x over ${bytes / 2 ** 20} MiB (vec4 loads and stores, coalesced)`,
    flops: 0,
    bytes: streamBytes(vec4s),
    ours: () => {
      const x = be.zeros([bytes / 4]);
      const y = be.empty([bytes / 4]);
      return runner(be, [x, y], () =>
        be.rt.record({
          kernel: STREAM,
          overrides: { WG },
          buffers: [be.buf(x), be.buf(y)],
          uniform: packUniforms('u', [vec4s]),
          workgroups: grid1d(vec4s, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
        }),
      );
    },
  };
}

function fmaProbe(be: WebGPUBackend): CaseDef {
  const n = 2 ** 18;
  const iters = 128;
  return {
    name: PROBE_FMA,
    group: 'probe',
    shape: `${n} invocations × ${iters} rounds of 8 independent vec4 FMAs`,
    flops: fmaFlops(n, iters),
    bytes: 16 * n,
    ours: () => {
      const out = be.empty([4 * n]);
      return runner(be, [out], () =>
        be.rt.record({
          kernel: FMA,
          overrides: { WG },
          buffers: [be.buf(out)],
          uniform: packUniforms('uu', [n, iters]),
          workgroups: grid1d(n, WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
        }),
      );
    },
  };
}

/** Our f32 matmul at 1024³ (the reference of training steps' MFU when matmul_f32_1024 did not run). */
function gemmProbe(be: WebGPUBackend): CaseDef {
  const n = 1024;
  return {
    name: PROBE_GEMM,
    group: 'probe',
    shape: `C[${n}×${n}] = A · B, f32 (our matmul)`,
    flops: matmulFlops(n, n, n),
    bytes: matmulBytes(n, n, n),
    ours: () => {
      const rng = new Rng(n);
      const a = be.fromArray(rng.normalArray(n * n), [n, n]);
      const b = be.fromArray(rng.normalArray(n * n), [n, n]);
      return runner(be, [a, b], () => be.matmul(a, b, {}).dispose());
    },
  };
}

export function probeCases(be: WebGPUBackend, withGemm: boolean): CaseDef[] {
  return [bandwidthProbe(be), fmaProbe(be), ...(withGemm ? [gemmProbe(be)] : [])];
}
