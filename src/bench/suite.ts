// The bench runner: for each case, warm every side up (pipelines compiled, buffers pooled),
// estimate one unit's time, plan repeats (stats.ts), then take the timed samples of all sides
// interleaved — ours, peer, floor, ours, peer, floor, … — so load from other processes falls on
// all of them alike, and report medians. Runs in node (main.ts) and in the browser (page/).

import type { WebGPUBackend } from '../backends/webgpu/backend';
import { buildCases, type CaseDef, type CaseEntry, onPaths, type Runner } from './cases';
import { PROBE_BANDWIDTH, PROBE_FMA, PROBE_GEMM, probeCases } from './probes';
import { mfuOf, pathOf, type Peaks, rooflineOf } from './roofline';
import { gbpsOf, gflopsOf, overallTiming, type BenchReport, type CaseResult, type SideResult } from './report';
import { DEFAULT_PLAN, median, planRepeats, QUICK_PLAN, relativeSpread, type PlanOptions } from './stats';
import type { TfjsPeer } from './tfjs';
import { GpuTimer, type Sample } from './timer';

export interface SuiteOptions {
  quick?: boolean;
  filter?: (name: string) => boolean;
  filterSpec?: string | null;
  /** Progress lines (stderr in node, a status line on the page). */
  log?: (msg: string) => void;
  /** Called with each finished case (the page fills its table as they come). */
  onCase?: (c: CaseResult) => void;
  /** After this many ms of running, remaining cases switch to the quick plan (keeps the whole suite bounded). */
  deadlineMs?: number;
  /** After this many ms, remaining cases are skipped (listed in errors). */
  limitMs?: number;
  /** Run the roofline probes (bandwidth, FMA; a GEMM when needed) first and place every case against them. */
  probes?: boolean;
  /** Peaks measured earlier (the page probes once, then runs the cases one by one): used when `probes` is off. */
  peaks?: Peaks | null;
  /** Cases finished in earlier runs of this report (a training step's MFU reads matmul_f32_1024 from them). */
  earlier?: readonly CaseResult[];
  plan?: PlanOptions;
}

export interface SuiteContext {
  be: WebGPUBackend;
  tfjs: TfjsPeer | null;
  ourTimer: GpuTimer;
  peerTimer: GpuTimer | null;
}

interface Timed {
  samples: Sample[];
  reps: number;
}

/**
 * Warm up (pipelines compiled, pools filled), estimate one unit's time, plan. A slow first unit
 * is its own estimate (compilation is a small part of it), which saves a unit of a slow case.
 */
async function warm(r: Runner, timer: GpuTimer, plan: PlanOptions): Promise<{ reps: number; samples: number }> {
  let est = await timer.measure(
    () => r.run(1),
    () => r.finish(),
  );
  if (est.wallMs < plan.singleWarmupMs)
    est = await timer.measure(
      () => r.run(1),
      () => r.finish(),
    );
  const p = planRepeats(est.ms, plan);
  const minReps = est.ms < plan.singleWarmupMs ? (r.minReps ?? 1) : 1;
  return { reps: Math.max(p.reps, minReps), samples: p.samples };
}

function summarize(name: string, t: Timed, flops: number): SideResult {
  // Mixed methods (a stamp rejected in some sample) fall back to wall time for every sample.
  const stamped = t.samples.every((s) => s.method === 'gpu-timestamp');
  const per = t.samples.map((s) => (stamped ? s.ms : s.wallMs) / t.reps);
  const ms = median(per);
  return {
    name,
    ms,
    gflops: gflopsOf(flops, ms),
    timing: stamped ? 'gpu-timestamp' : 'wall',
    wall_ms: median(t.samples.map((s) => s.wallMs / t.reps)),
    samples: t.samples.length,
    reps: t.reps,
    spread: relativeSpread(per),
  };
}

/** Two sides timed by different methods compare on wall time. */
function comparable(a: SideResult, b: SideResult, flops: number): [SideResult, SideResult] {
  if (a.timing === b.timing) return [a, b];
  const w = (s: SideResult): SideResult => ({
    ...s,
    ms: s.wall_ms,
    gflops: gflopsOf(flops, s.wall_ms),
    timing: 'wall',
  });
  return [w(a), w(b)];
}

export async function runCase(def: CaseDef, ctx: SuiteContext, plan: PlanOptions): Promise<CaseResult> {
  const sides: Array<{ role: 'ours' | 'peer' | 'floor' | 'also'; runner: Runner; timer: GpuTimer }> = [];
  try {
    sides.push({ role: 'ours', runner: await def.ours(), timer: ctx.ourTimer });
    if (def.peer && def.peerIsOurs) sides.push({ role: 'peer', runner: await def.peer(), timer: ctx.ourTimer });
    else if (def.peer && ctx.tfjs && ctx.peerTimer)
      sides.push({ role: 'peer', runner: await def.peer(), timer: ctx.peerTimer });
    if (def.floor) sides.push({ role: 'floor', runner: await def.floor(), timer: ctx.ourTimer });
    for (const a of def.also ?? []) sides.push({ role: 'also', runner: await a(), timer: ctx.ourTimer });

    const plans = [];
    // The kernels ours dispatches while warming up decide its path (f32 / f16 / subgroup …).
    const codes = new Set<string>();
    const rt = ctx.be.rt;
    const record = rt.record;
    rt.record = (d) => {
      codes.add(d.kernel.code);
      return record.call(rt, d);
    };
    try {
      plans.push(await warm(sides[0].runner, sides[0].timer, plan));
    } finally {
      rt.record = record;
      delete (rt as { record?: unknown }).record;
    }
    for (const s of sides.slice(1)) plans.push(await warm(s.runner, s.timer, plan));
    const timed: Timed[] = plans.map((p) => ({ samples: [], reps: p.reps }));
    const rounds = Math.max(...plans.map((p) => p.samples));
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < sides.length; j++) {
        if (i >= plans[j].samples) continue;
        const { runner, timer } = sides[j];
        timed[j].samples.push(
          await timer.measure(
            () => runner.run(timed[j].reps),
            () => runner.finish(),
          ),
        );
      }
    }
    const results = sides.map((s, j) => summarize(s.runner.name, timed[j], def.flops));
    let ours = results[0];
    const peerIdx = sides.findIndex((s) => s.role === 'peer');
    const floorIdx = sides.findIndex((s) => s.role === 'floor');
    let peer: SideResult | null = null;
    if (peerIdx >= 0) [ours, peer] = comparable(results[0], results[peerIdx], def.flops);
    let floor: SideResult | null = null;
    let floorOurs = results[0];
    if (floorIdx >= 0) [floorOurs, floor] = comparable(results[0], results[floorIdx], def.flops);
    const also = sides
      .map((s, j) => (s.role === 'also' ? results[j] : null))
      .filter((x): x is SideResult => x !== null);

    const extra = def.extra ? await def.extra() : {};
    const bytes = extra.bytes ?? def.bytes;
    const out: CaseResult = {
      name: def.name,
      group: def.group,
      shape: def.shape,
      ms: ours.ms,
      gflops: ours.gflops,
      peer: peer ? { ...peer } : null,
      ratio: peer ? peer.ms / ours.ms : null,
      ...(def.floor ? { floor, floor_ratio: floor ? floor.ms / floorOurs.ms : null } : {}),
      ...(also.length
        ? {
            also: also.map((a, i) => ({
              ...a,
              ratio: a.ms / results[0].ms,
              ...(extra.alsoDispatches?.[i] !== undefined ? { dispatches: extra.alsoDispatches[i] } : {}),
            })),
          }
        : {}),
      path: pathOf(codes),
      timing: ours.timing,
      wall_ms: ours.wall_ms,
      samples: ours.samples,
      reps: ours.reps,
      spread: ours.spread,
      flops: def.flops,
      bytes,
      bytes_kind: extra.bytes !== undefined ? 'bound' : 'compulsory',
      gbps: gbpsOf(bytes, ours.ms),
      ...(def.tokens ? { tokens_per_s: def.tokens / (ours.ms / 1e3) } : {}),
      ...(def.tokens && peer ? { peer_tokens_per_s: def.tokens / (peer.ms / 1e3) } : {}),
      ...(extra.census ? { census: extra.census } : {}),
      ...(extra.peerDispatches !== undefined
        ? { peer_dispatches: extra.peerDispatches, peer_bound_bytes: extra.peerBoundBytes }
        : {}),
      ...(def.note || extra.note ? { note: [def.note, extra.note].filter(Boolean).join(' ') } : {}),
    };
    return out;
  } finally {
    for (const s of sides) s.runner.teardown();
  }
}

/**
 * Cases also timed on the f16-tile path (precision.compute = f16): matmul_f32_1024 →
 * matmul_f16_1024, attention_mha_fwdbwd_512 → attention_mha_fwdbwd_512_f16.
 */
export const F16_TWINS = ['matmul_f32_1024', 'attention_mha_fwdbwd_512'];

/** The twin's name: `_f32_` → `_f16_` where the name has it, else `_f16` appended. */
export const f16TwinName = (name: string) => (name.includes('_f32_') ? name.replace('_f32_', '_f16_') : `${name}_f16`);

/**
 * The f16-tile twin of a case: the same work and peer, ours recorded on the f16 path (f16 tiles in
 * workgroup memory, f32 accumulation: shaders/matmul_f16.wgsl, and the attention kernels' AT = f16;
 * its path reads f16 from the kernels' WGSL, or f32 where the adapter lacks shader-f16), our f32
 * path beside it.
 */
function f16Twin(be: WebGPUBackend, entry: CaseEntry): CaseEntry {
  const name = f16TwinName(entry.name);
  return {
    name,
    make: () => {
      const d = entry.make();
      return {
        ...d,
        name,
        shape: /, f32$/.test(d.shape)
          ? d.shape.replace(/, f32$/, ', f16 tiles, f32 accumulation')
          : `${d.shape}; f16 tiles, f32 accumulation`,
        floor: undefined,
        ours: async () => onPaths(be, await d.ours(), { matmul: 'f16' }),
        also: [async () => onPaths(be, await d.ours(), { matmul: 'f32' }, 'ours, f32 tiles')],
      };
    },
  };
}

/** Every case in run order: buildCases's, with each F16_TWINS case followed by its f16 twin. */
export function suiteCases(ctx: SuiteContext): CaseEntry[] {
  return buildCases(ctx).flatMap((e) => (F16_TWINS.includes(e.name) ? [e, f16Twin(ctx.be, e)] : [e]));
}

/** Run every case the filter selects; errors are collected per case, the suite goes on. */
export async function runSuite(ctx: SuiteContext, o: SuiteOptions = {}): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const filter = o.filter ?? (() => true);
  const t0 = performance.now();
  const started = new Date().toISOString();
  const base = o.quick ? QUICK_PLAN : (o.plan ?? DEFAULT_PLAN);
  const cases: CaseResult[] = [];
  const errors: BenchReport['errors'] = [];
  const spec = o.filterSpec ?? '';
  const defs = suiteCases(ctx).filter((d) => filter(d.name) && (!d.optIn || spec.includes(d.optIn)));
  const probed = o.probes ? await runProbes(ctx, defs, base, log, errors) : null;
  const peaks = probed?.peaks ?? o.peaks ?? null;
  for (const [i, entry] of defs.entries()) {
    if (o.limitMs !== undefined && performance.now() - t0 > o.limitMs) {
      errors.push({
        name: entry.name,
        error: `skipped: the suite passed its time limit (${(o.limitMs / 1e3).toFixed(0)} s)`,
      });
      continue;
    }
    const late = o.deadlineMs !== undefined && performance.now() - t0 > o.deadlineMs;
    const plan = late ? QUICK_PLAN : base;
    const c0 = performance.now();
    log(`[${i + 1}/${defs.length}] ${entry.name}${late ? ' (past the deadline: quick plan)' : ''} …`);
    try {
      const r = await runCase(entry.make(), ctx, plan);
      annotate(r, peaks, [...(o.earlier ?? []), ...cases]);
      cases.push(r);
      o.onCase?.(r);
      const vs = r.peer ? `, ${r.peer.name} ${r.peer.ms.toFixed(2)} ms → ×${r.ratio!.toFixed(2)}` : '';
      log(
        `    ${r.ms.toFixed(2)} ms, ${r.gflops.toFixed(2)} GFLOP/s${vs} (${((performance.now() - c0) / 1e3).toFixed(1)} s)`,
      );
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      errors.push({ name: entry.name, error: msg });
      log(`    failed: ${msg}`);
      if (ctx.be.rt.isLost) break;
    }
  }
  const features = Object.entries(ctx.be.rt.features)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return {
    adapter: ctx.be.deviceLabel,
    timing: overallTiming(cases),
    peer_library: ctx.tfjs ? `@tensorflow/tfjs-backend-webgpu ${ctx.tfjs.version}` : null,
    features,
    quick: !!o.quick,
    filter: o.filterSpec ?? null,
    started,
    wall_s: (performance.now() - t0) / 1e3,
    cases,
    errors,
    ...(probed ? { peaks: probed.peaks, probes: probed.results } : {}),
  };
}

/**
 * The probes, run like cases: peaks from their GB/s and GFLOP/s. The GEMM probe runs only when
 * training steps are selected without matmul_f32_1024 (their MFU reference).
 */
export async function runProbes(
  ctx: SuiteContext,
  defs: Array<{ name: string }>,
  plan: PlanOptions,
  log: (m: string) => void,
  errors: BenchReport['errors'],
): Promise<{ peaks: Peaks; results: CaseResult[] } | null> {
  const needGemm = defs.some((d) => d.name.startsWith('train_step_')) && !defs.some((d) => d.name === GEMM_CASE);
  const results: CaseResult[] = [];
  for (const def of probeCases(ctx.be, needGemm)) {
    log(`[probe] ${def.name} …`);
    try {
      const r = await runCase(def, ctx, plan);
      results.push(r);
      log(`    ${r.ms.toFixed(2)} ms, ${r.gflops.toFixed(2)} GFLOP/s, ${r.gbps.toFixed(2)} GB/s`);
    } catch (e) {
      errors.push({ name: def.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  const get = (n: string) => results.find((r) => r.name === n);
  const bw = get(PROBE_BANDWIDTH);
  const fma = get(PROBE_FMA);
  if (!bw || !fma) return null;
  const gemm = get(PROBE_GEMM);
  return {
    peaks: {
      bandwidth_gbps: bw.gbps,
      fma_gflops: fma.gflops,
      gemm_gflops: gemm ? gemm.gflops : null,
      gemm_ref: gemm ? PROBE_GEMM : null,
    },
    results,
  };
}

/** The case the training steps' MFU is measured against when it ran in the same report. */
export const GEMM_CASE = 'matmul_f32_1024';

/** Roofline fields of a finished case (with peaks), and a training step's MFU. */
export function annotate(r: CaseResult, peaks: Peaks | null, earlier: readonly CaseResult[]): void {
  if (peaks) r.roofline = rooflineOf(r, peaks);
  if (r.group !== 'train_step') return;
  const gemm = earlier.find((c) => c.name === GEMM_CASE);
  const ref = gemm
    ? { gflops: gemm.gflops, name: GEMM_CASE }
    : peaks?.gemm_ref
      ? { gflops: peaks.gemm_gflops, name: peaks.gemm_ref }
      : null;
  if (!ref) return;
  r.mfu = mfuOf(r.gflops, ref.gflops);
  r.mfu_ref = ref.name;
}

export function makeContext(be: WebGPUBackend, tfjs: TfjsPeer | null): SuiteContext {
  return { be, tfjs, ourTimer: new GpuTimer(be.rt.device), peerTimer: tfjs ? new GpuTimer(tfjs.device) : null };
}
