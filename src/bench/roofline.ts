// The roofline readout (pure; unit-tested in roofline.test.ts). The bench measures this adapter's
// own ceilings with two probes (probes.ts): streaming bandwidth (GB/s) and FMA throughput
// (GFLOP/s). Each case is then placed against them:
//
//   intensity   = flops / bytes                      (FLOP per byte; bytes as the case counts them)
//   attainable  = min(fma, intensity · bandwidth)    (the roofline at that intensity)
//   frac_fma    = gflops / fma;  frac_bw = gbps / bandwidth;  frac_roofline = gflops / attainable
//   bound       = 'memory' where intensity · bandwidth < fma, else 'compute'
//
// A training step also gets its MFU against this adapter's own GEMM: its GFLOP/s over
// matmul_f32_1024's (the case, when it ran in the same report; else the bench's own 1024³ GEMM
// probe). Training steps count bytes as the census's bytes *bound* (an upper bound on traffic),
// so their GB/s and frac_bw are upper bounds too.
//
// `path` says which kernel path a case took, from the WGSL of the kernels it dispatched:
// subgroup-matrix (chromium_experimental_subgroup_matrix), f16 (enable f16), subgroup (enable
// subgroups), else f32.

export interface Peaks {
  /** Streaming copy probe: bytes read + written per second, GB/s. */
  bandwidth_gbps: number;
  /** FMA probe: GFLOP/s (2 per fused multiply-add). */
  fma_gflops: number;
  /** GFLOP/s of the reference GEMM for training steps' MFU, and where it comes from. */
  gemm_gflops: number | null;
  gemm_ref: string | null;
}

export interface Roofline {
  intensity: number;
  attainable_gflops: number;
  frac_fma: number;
  frac_bw: number;
  frac_roofline: number;
  bound: 'compute' | 'memory';
}

export type KernelPath = 'f32' | 'f16' | 'subgroup' | 'subgroup-matrix';

/** Where a case with these counts and this speed sits against the peaks. */
export function rooflineOf(
  c: { flops: number; bytes: number; gflops: number; gbps: number },
  p: Pick<Peaks, 'bandwidth_gbps' | 'fma_gflops'>,
): Roofline {
  const intensity = c.bytes > 0 ? c.flops / c.bytes : Number.POSITIVE_INFINITY;
  const memRoof = intensity * p.bandwidth_gbps;
  const attainable = Math.min(p.fma_gflops, memRoof);
  return {
    intensity,
    attainable_gflops: attainable,
    frac_fma: p.fma_gflops > 0 ? c.gflops / p.fma_gflops : 0,
    frac_bw: p.bandwidth_gbps > 0 ? c.gbps / p.bandwidth_gbps : 0,
    frac_roofline: attainable > 0 ? c.gflops / attainable : 0,
    bound: memRoof < p.fma_gflops ? 'memory' : 'compute',
  };
}

/** A training step's GFLOP/s as a fraction of the reference GEMM's. */
export function mfuOf(gflops: number, gemmGflops: number | null): number | null {
  return gemmGflops && gemmGflops > 0 ? gflops / gemmGflops : null;
}

/** The path of a case from the WGSL of the kernels it dispatched (the most specialised one wins). */
export function pathOf(codes: Iterable<string>): KernelPath {
  let path: KernelPath = 'f32';
  const rank: Record<KernelPath, number> = { f32: 0, subgroup: 1, f16: 2, 'subgroup-matrix': 3 };
  const take = (p: KernelPath) => {
    if (rank[p] > rank[path]) path = p;
  };
  for (const text of codes) {
    const code = text.replace(/\/\/.*$/gm, ''); // directives only, not comments that name them
    if (/\benable\s+chromium_experimental_subgroup_matrix\b/.test(code)) take('subgroup-matrix');
    if (/\benable\s+f16\b/.test(code)) take('f16');
    if (/\benable\s+subgroups\b/.test(code)) take('subgroup');
  }
  return path;
}

/** Bytes and FLOPs of the probes, per unit (what probes.ts dispatches). */
export const streamBytes = (vec4s: number) => 2 * 16 * vec4s;
export const fmaFlops = (invocations: number, iters: number) => invocations * iters * 8 * 4 * 2;
