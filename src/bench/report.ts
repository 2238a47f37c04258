// The bench's result types, the JSON object `npm run bench -- --json` prints, and the text
// table. Pure (no GPU), shared by the node CLI and the browser page; tested in report.test.ts.

import type { KernelPath, Peaks, Roofline } from './roofline';
import type { TimingMethod } from './timer';

/** One side of a case (ours, the peer, or our naive floor): medians over the timed samples. */
export interface SideResult {
  name: string;
  /** Median time of one unit of work (one matmul, one attention pass, one training step). */
  ms: number;
  gflops: number;
  timing: TimingMethod;
  /** Median host wall time of one unit (includes host-side recording). */
  wall_ms: number;
  samples: number;
  /** Units of work per timed sample. */
  reps: number;
  /** Interquartile range of the samples relative to their median. */
  spread: number;
}

/** Dispatches and bytes of one training step, from a census of one (untimed) step. */
export interface StepCensus {
  dispatches: number;
  /** Buffer-to-buffer copies per step (gradients gathered into the optimizer's arena); not dispatches. */
  copies?: number;
  /** Queue submissions (command encoders) per step. */
  submits: number;
  /** Σ over dispatches of the sizes of the buffers (or ranges) each binds, plus 2× the bytes copied: an upper bound on bytes touched. */
  bound_bytes: number;
  /** Dispatches per phase of the step, in order (forward, backward, optimizer, …). */
  phases: Record<string, number>;
  /** Dispatches per kernel ("name:entry"), most frequent first. */
  kernels: Record<string, number>;
}

export interface CaseResult {
  name: string;
  group: string;
  /** The exact shape measured, in words. */
  shape: string;
  ms: number;
  gflops: number;
  peer: SideResult | null;
  /** Our speedup over the peer: peer.ms / ms (> 1: ours is faster). Null without a peer. */
  ratio: number | null;
  /** Our naive kernel as the floor, where that comparison is fair. */
  floor?: SideResult | null;
  /** floor.ms / ms. */
  floor_ratio?: number | null;
  /** Other paths of ours measured beside it (e.g. our f32 matmul beside the FP8 GEMM); ratio = their ms / ours. */
  also?: Array<SideResult & { ratio: number; dispatches?: number }>;
  timing: TimingMethod;
  wall_ms: number;
  samples: number;
  reps: number;
  spread: number;
  /** Counted FLOPs of one unit (see flops.ts). */
  flops: number;
  /** Bytes of one unit: compulsory traffic (each input read once, outputs written once) or, for training steps, bytes bound (census). */
  bytes: number;
  bytes_kind: 'compulsory' | 'bound';
  /** Implied bandwidth, bytes / ms, in GB/s. */
  gbps: number;
  tokens_per_s?: number;
  peer_tokens_per_s?: number;
  census?: StepCensus;
  /** The kernel path ours took (roofline.ts pathOf: from the WGSL of the kernels it dispatched). */
  path?: KernelPath;
  /** Against the adapter's measured peaks (when the report has them). */
  roofline?: Roofline;
  /** Training steps: GFLOP/s over the reference GEMM's (report.peaks.gemm_ref or matmul_f32_1024). */
  mfu?: number | null;
  mfu_ref?: string;
  peer_dispatches?: number;
  peer_bound_bytes?: number;
  note?: string;
}

export interface BenchReport {
  adapter: string;
  /** How times were taken: 'gpu-timestamp' (bracketed on the GPU clock), 'wall', or 'mixed'. */
  timing: TimingMethod | 'mixed';
  peer_library: string | null;
  features: string[];
  quick: boolean;
  filter: string | null;
  started: string;
  wall_s: number;
  cases: CaseResult[];
  errors: Array<{ name: string; error: string }>;
  /** This adapter's ceilings, measured by the probes of this run (absent when they did not run). */
  peaks?: Peaks;
  /** The probes' own results. */
  probes?: CaseResult[];
}

export const gflopsOf = (flops: number, ms: number) => (ms > 0 ? flops / (ms * 1e6) : 0);
export const gbpsOf = (bytes: number, ms: number) => (ms > 0 ? bytes / (ms * 1e6) : 0);

/** Keys every case carries (the acceptance's JSON shape); tests check each case against it. */
export const REQUIRED_CASE_KEYS = ['name', 'ms', 'gflops', 'peer', 'ratio'] as const;

/** The overall timing label of a report. */
export function overallTiming(cases: readonly CaseResult[]): BenchReport['timing'] {
  const all = new Set<TimingMethod>();
  for (const c of cases) {
    all.add(c.timing);
    if (c.peer) all.add(c.peer.timing);
  }
  return all.size === 1 ? [...all][0] : all.size === 0 ? 'wall' : 'mixed';
}

function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

const pad = (s: string, w: number, left = false) => (left ? s.padEnd(w) : s.padStart(w));

/** Rows of the table (header first) as arrays of cells: shared by the text table and the page. */
export function tableRows(r: BenchReport): string[][] {
  const rows: string[][] = [
    ['case', 'ms', 'GFLOP/s', 'GB/s', 'tok/s', 'peer', 'peer ms', 'peer GFLOP/s', '× peer', '× floor', 'disp/step'],
  ];
  for (const c of r.cases) {
    rows.push([
      c.name,
      fmt(c.ms, 3),
      fmt(c.gflops),
      fmt(c.gbps),
      c.tokens_per_s !== undefined ? fmt(c.tokens_per_s, 0) : '',
      c.peer ? c.peer.name : '',
      c.peer ? fmt(c.peer.ms, 3) : '',
      c.peer ? fmt(c.peer.gflops) : '',
      c.ratio !== null ? `${fmt(c.ratio)}×` : '',
      c.floor_ratio !== undefined && c.floor_ratio !== null ? `${fmt(c.floor_ratio)}×` : '',
      c.census ? `${c.census.dispatches}${c.peer_dispatches !== undefined ? ` vs ${c.peer_dispatches}` : ''}` : '',
    ]);
  }
  return rows;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '' : `${fmt(100 * x, 1)}%`);

/** The roofline table (header first): one row per case that has a path, roofline or MFU. */
export function rooflineRows(r: BenchReport): string[][] {
  const rows = [['case', 'path', 'FLOP/B', 'GFLOP/s', '% FMA', 'GB/s', '% BW', 'bound', '% roofline', 'MFU']];
  for (const c of r.cases) {
    if (!c.path && !c.roofline && c.mfu === undefined) continue;
    const f = c.roofline;
    rows.push([
      c.name,
      c.path ?? '',
      f ? fmt(f.intensity) : '',
      fmt(c.gflops),
      f ? pct(f.frac_fma) : '',
      `${fmt(c.gbps)}${c.bytes_kind === 'bound' ? ' ≤' : ''}`,
      f ? pct(f.frac_bw) : '',
      f ? f.bound : '',
      f ? pct(f.frac_roofline) : '',
      c.mfu !== undefined && c.mfu !== null ? `${pct(c.mfu)} of ${c.mfu_ref}` : '',
    ]);
  }
  return rows;
}

/** One line on the peaks the roofline table is measured against. */
export function peaksLine(r: BenchReport): string {
  const p = r.peaks;
  if (!p) return 'roofline: no probes in this run (peaks unknown)';
  const gemm = p.gemm_ref ? `; MFU reference ${p.gemm_ref} ${fmt(p.gemm_gflops)} GFLOP/s` : '';
  return `roofline: this adapter's probes: streaming bandwidth ${fmt(p.bandwidth_gbps)} GB/s, FMA throughput ${fmt(p.fma_gflops)} GFLOP/s${gemm}. GB/s marked ≤ count bytes bound (an upper bound on traffic).`;
}

/** The report as a fixed-width text table with a header block. */
export function formatTable(r: BenchReport): string {
  const rows = tableRows(r);
  const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
  const line = (row: string[]) => row.map((cell, j) => pad(cell, widths[j], j === 0 || j === 5)).join('  ');
  const out = [
    `adapter: ${r.adapter}`,
    `timing: ${r.timing}${r.timing === 'gpu-timestamp' ? ' (GPU timestamps bracketing each sample)' : r.timing === 'wall' ? ' (host wall time to onSubmittedWorkDone)' : ' (see each case)'}; peer: ${r.peer_library ?? 'none'}; ${r.quick ? 'quick; ' : ''}${r.wall_s.toFixed(0)} s`,
    "× peer = peer ms / our ms (> 1: ours faster); × floor = our naive kernel's ms / our ms",
    '',
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ];
  const roof = rooflineRows(r);
  if (roof.length > 1) {
    const w = roof[0].map((_, j) => Math.max(...roof.map((row) => row[j].length)));
    const rline = (row: string[]) => row.map((cell, j) => pad(cell, w[j], j <= 1 || j === 7 || j === 9)).join('  ');
    out.push('', peaksLine(r), rline(roof[0]), w.map((x) => '-'.repeat(x)).join('  '), ...roof.slice(1).map(rline));
  }
  const notes = formatNotes(r);
  if (notes) out.push('', notes);
  return out.join('\n');
}

/** The table in Markdown (for docs/bench.md): a header line naming the adapter, then the table. */
export function formatMarkdown(r: BenchReport): string {
  const rows = tableRows(r);
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const align = rows[0].map((_, j) => (j === 0 || j === 5 ? ':--' : '--:'));
  return [
    `Adapter: **${r.adapter}**; timing: ${r.timing}; peer: ${r.peer_library ?? 'none'}; ${r.cases.length} cases in ${r.wall_s.toFixed(0)} s${r.quick ? ' (quick)' : ''}.`,
    '',
    `| ${rows[0].map(esc).join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows.slice(1).map((row) => `| ${row.map(esc).join(' | ')} |`),
    ...markdownRoofline(r, esc),
  ].join('\n');
}

function markdownRoofline(r: BenchReport, esc: (c: string) => string): string[] {
  const roof = rooflineRows(r);
  if (roof.length <= 1) return [];
  const align = roof[0].map((_, j) => (j <= 1 || j === 7 || j === 9 ? ':--' : '--:'));
  return [
    '',
    peaksLine(r),
    '',
    `| ${roof[0].map(esc).join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...roof.slice(1).map((row) => `| ${row.map(esc).join(' | ')} |`),
  ];
}

/** Per-case notes under the table: exact shapes, step censuses, peers' definitions, errors. */
export function formatNotes(r: BenchReport): string {
  const out: string[] = [];
  for (const c of r.cases) {
    out.push(`${c.name}: ${c.shape}`);
    if (c.census) {
      const phases = Object.entries(c.census.phases)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const peer =
        c.peer_dispatches !== undefined
          ? `; the peer: ${c.peer_dispatches} dispatches, ${((c.peer_bound_bytes ?? 0) / 2 ** 20).toFixed(1)} MiB bound`
          : '';
      const copies = c.census.copies ? ` and ${c.census.copies} buffer copies` : '';
      out.push(
        `  ${c.census.dispatches} dispatches${copies} in ${c.census.submits} submit(s) per step (dispatches: ${phases}); ${(c.census.bound_bytes / 2 ** 20).toFixed(1)} MiB bound${peer}`,
      );
      const top = Object.entries(c.census.kernels)
        .slice(0, 8)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
      out.push(`  kernels: ${top}${Object.keys(c.census.kernels).length > 8 ? ' …' : ''}`);
    }
    for (const a of c.also ?? [])
      out.push(
        `  also: ${a.name} ${fmt(a.ms, 3)} ms, ${fmt(a.gflops)} GFLOP/s (${fmt(a.ratio)}× our time)${a.dispatches !== undefined ? `, ${a.dispatches} dispatches per step` : ''}`,
      );
    if (c.note) out.push(`  ${c.note}`);
  }
  if (r.errors.length) {
    out.push('errors:');
    for (const e of r.errors) out.push(`  ${e.name}: ${e.error}`);
  }
  return out.join('\n');
}

/** Turn a --filter value into a case-name predicate: comma-separated substrings, or /regex/. */
export function makeFilter(spec: string | null | undefined): (name: string) => boolean {
  if (!spec) return () => true;
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const tests = parts.map((p) => {
    if (p.length > 2 && p.startsWith('/') && p.endsWith('/')) {
      const re = new RegExp(p.slice(1, -1));
      return (n: string) => re.test(n);
    }
    return (n: string) => n.includes(p);
  });
  return (name) => tests.some((t) => t(name));
}
