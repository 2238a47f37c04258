// Per-adapter tuning of the f32 matmul (shaders/matmul.wgsl): which thread grids (tile sizes)
// to use, how many workgroups to aim for before shrinking tiles, which K-tile depths to try, and
// whether to take the vec4 path. A small table keyed by the adapter's vendor / architecture
// (as named in its label) and by its limits, with a default for everything else.
//
// What the table may change, and what it may not: tile sizes, K depth and the vec4 path change
// how tiles travel, never the order each thread adds its products in — every entry gives
// bit-identical results. Split-K (which does change the order) depends on the shape alone and is
// not here (matmul.ts splitOf: splitKPlan over the default tuning's tiles, whatever grid the
// dispatch then takes), so a product sums the same way on every adapter.
//
// Entries are only as good as their measurements: run `npm run bench -- --filter matmul_tiles`
// (or /bench.html?filter=matmul_tiles) on an adapter to sweep the candidates and compare.
// `V3LAB_MATMUL_TUNING` (a JSON object of MatmulTuning fields, from the environment in node or
// globalThis in a page) overrides the table for experiments.

export interface MatmulTuning {
  /** The table entry (or 'default' / 'override') this came from. */
  entry: string;
  /** Largest threads per tile dimension: 16 (tiles up to 128 × 128, 256 threads) or 8 (64 × 64). */
  maxThreads: 8 | 16;
  /** While a product would launch fewer workgroups than this, halve the larger tile dimension. */
  minGroups: number;
  /** K-tile depths to try, deepest first; the deepest whose workgroup memory fits is used. */
  tk: number[];
  /** Take the vec4 path (main_vec4) when M, N and K are multiples of 4. */
  vec4: boolean;
}

export const DEFAULT_TUNING: MatmulTuning = {
  entry: 'default',
  maxThreads: 16,
  minGroups: 64,
  tk: [32, 16, 8],
  vec4: true,
};

export interface TuningEntry {
  entry: string;
  /** Matched against the adapter label (vendor / architecture / device / description), lower-cased. */
  match: RegExp;
  why: string;
  tuning: Partial<Omit<MatmulTuning, 'entry'>>;
}

/**
 * Vendor entries. The default (128 × 128 tiles of 256 threads, 8 × 8 outputs per thread, the
 * deepest K tile that fits) is the register-blocked shape that desktop GPUs of every vendor run
 * well. Mobile GPUs get the smaller tile: 16 vec4 accumulators plus operands take ~80 registers
 * a thread, which on those GPUs costs occupancy, and their workgroup memory is often the 16 KiB
 * minimum; with 64 × 64 tiles a product also spreads over 4× as many workgroups.
 */
export const TUNING_TABLE: readonly TuningEntry[] = [
  {
    entry: 'mobile',
    match: /\b(arm|mali|qualcomm|adreno|powervr|imagination)\b/,
    why: 'mobile GPUs: fewer registers per thread and often 16 KiB of workgroup memory',
    tuning: { maxThreads: 8, minGroups: 32, tk: [16, 8] },
  },
];

export interface TuningLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
}

function override(): Partial<MatmulTuning> | null {
  const g = globalThis as { V3LAB_MATMUL_TUNING?: unknown; process?: { env?: Record<string, string | undefined> } };
  const raw = g.V3LAB_MATMUL_TUNING ?? g.process?.env?.V3LAB_MATMUL_TUNING;
  if (raw === undefined || raw === null || raw === '') return null;
  const o = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Partial<MatmulTuning>;
  if (o.maxThreads !== undefined && o.maxThreads !== 8 && o.maxThreads !== 16)
    throw new Error('V3LAB_MATMUL_TUNING.maxThreads must be 8 or 16');
  if (o.tk !== undefined && (!Array.isArray(o.tk) || o.tk.some((t) => ![8, 16, 32].includes(t))))
    throw new Error('V3LAB_MATMUL_TUNING.tk must list depths among 8, 16, 32');
  return o;
}

/** The tuning for an adapter: the default, the first matching table entry, the limits, then any override. */
export function matmulTuning(adapterLabel: string, limits: TuningLimits): MatmulTuning {
  const label = adapterLabel.toLowerCase();
  const hit = TUNING_TABLE.find((e) => e.match.test(label));
  let t: MatmulTuning = hit ? { ...DEFAULT_TUNING, ...hit.tuning, entry: hit.entry } : { ...DEFAULT_TUNING };
  const o = override();
  if (o) t = { ...t, ...o, entry: 'override' };
  // Limits win over everything: 16 × 16 threads need 256 invocations and 16 per dimension.
  if (
    limits.maxComputeInvocationsPerWorkgroup < 256 ||
    limits.maxComputeWorkgroupSizeX < 16 ||
    limits.maxComputeWorkgroupSizeY < 16
  )
    t.maxThreads = 8;
  return t;
}
