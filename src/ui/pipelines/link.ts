// Share links of the Pipelines view. They live in the query string, so they never collide with
// the lab's own link in the hash:
//   ?view=pipelines&v=1&pp=8&mb=20&f=1&b=2&w=1&fb=3&comm=0&overlap=1
// - view=pipelines selects the view; v is the schema version (PIPELINES_LINK_VERSION);
// - pp: pipeline ranks (even); mb: micro-batches in total;
// - f, b, w, fb: forward, full backward, weight-gradient part of the backward, and an overlapped
//   forward+backward pair, in the same (arbitrary) time unit; comm: one transfer between ranks;
// - overlap: 1 when transfers run beside compute, 0 when a sending rank waits for them.
// Every field is optional (its default stands in). Decoding never throws: each bad entry is
// named in a problem and replaced by its default, and the rest of the link still applies.

import { z } from 'zod';

export const PIPELINES_LINK_VERSION = 1;
export const VIEW_KEY = 'view';
export const VIEW_NAME = 'pipelines';

export interface PipelinesState {
  pp: number;
  mb: number;
  F: number;
  B: number;
  W: number;
  FB: number;
  comm: number;
  overlap: boolean;
}

export const DEFAULT_STATE: PipelinesState = { pp: 8, mb: 20, F: 1, B: 2, W: 1, FB: 3, comm: 0, overlap: true };

export type NumericField = Exclude<keyof PipelinesState, 'overlap'>;

/** Link key, label and slider range of each numeric field. W's and F&B's real bounds depend on B and F (see normalize). */
export const FIELDS: Record<
  NumericField,
  { key: string; label: string; min: number; max: number; step: number; int?: boolean; even?: boolean }
> = {
  pp: { key: 'pp', label: 'Pipeline ranks (PP)', min: 2, max: 32, step: 2, int: true, even: true },
  mb: { key: 'mb', label: 'Micro-batches', min: 1, max: 64, step: 1, int: true },
  F: { key: 'f', label: 'F (forward chunk)', min: 0.1, max: 4, step: 0.05 },
  B: { key: 'b', label: 'B (full backward chunk)', min: 0.1, max: 4, step: 0.05 },
  W: { key: 'w', label: 'W (weight-gradient part of B)', min: 0, max: 4, step: 0.05 },
  FB: { key: 'fb', label: 'F&B (overlapped pair)', min: 0.1, max: 8, step: 0.05 },
  comm: { key: 'comm', label: 'Communication per transfer', min: 0, max: 2, step: 0.05 },
};
const ORDER: NumericField[] = ['pp', 'mb', 'F', 'B', 'W', 'FB', 'comm'];

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function fieldSchema(f: (typeof FIELDS)[NumericField]) {
  let num = z.number().min(f.min, `must be at least ${f.min}`).max(f.max, `must be at most ${f.max}`);
  if (f.int) num = num.int('must be a whole number');
  const base = z.string().trim().regex(NUMBER, 'is not a number').transform(Number).pipe(num);
  return f.even ? base.refine((n) => n % 2 === 0, 'must be even (DualPipe pairs rank r with rank PP−1−r)') : base;
}
const FIELD_SCHEMAS = Object.fromEntries(ORDER.map((k) => [k, fieldSchema(FIELDS[k])])) as Record<
  NumericField,
  ReturnType<typeof fieldSchema>
>;
const OVERLAP_SCHEMA = z
  .enum(['0', '1', 'true', 'false'], 'must be 0 or 1')
  .transform((v) => v === '1' || v === 'true');
const VERSION_SCHEMA = z
  .string()
  .regex(/^\d+$/, 'is not a schema version')
  .transform(Number)
  .pipe(
    z.number().max(PIPELINES_LINK_VERSION, `is newer than this page (${PIPELINES_LINK_VERSION}); reading what it can`),
  );

/** The relations between fields: W < B and max(F, B) ≤ F&B ≤ F + B. */
const STATE_SCHEMA = z.object({ F: z.number(), B: z.number(), W: z.number(), FB: z.number() }).superRefine((s, ctx) => {
  if (!(s.W < s.B))
    ctx.addIssue({ code: 'custom', path: ['W'], message: `must be below b = ${s.B} (W is part of the full backward)` });
  const lo = Math.max(s.F, s.B);
  const hi = s.F + s.B;
  if (s.FB < lo - 1e-9 || s.FB > hi + 1e-9)
    ctx.addIssue({
      code: 'custom',
      path: ['FB'],
      message: `must lie between max(F, B) = ${round6(lo)} and F + B = ${round6(hi)}`,
    });
});

/** Largest W allowed with this B (one slider step below it). */
export const maxW = (B: number) => round6(Math.max(0, B - FIELDS.W.step));

/**
 * Make a state consistent: round to 1e-6 (so links round-trip exactly), keep W below B (one
 * slider step below it when it was not) and F&B within [max(F, B), F + B].
 */
export function normalize(s: PipelinesState): PipelinesState {
  const out = { ...s };
  for (const k of ORDER) out[k] = round6(out[k]);
  if (!(out.W < out.B)) out.W = maxW(out.B);
  out.FB = round6(Math.min(Math.max(out.FB, Math.max(out.F, out.B)), out.F + out.B));
  return out;
}

/**
 * Change F or B and carry F&B along: it keeps its place between max(F, B) (perfect overlap) and
 * F + B (no overlap gain), rounded to the slider step.
 */
export function withTimes(s: PipelinesState, change: Partial<Pick<PipelinesState, 'F' | 'B'>>): PipelinesState {
  const lo = Math.max(s.F, s.B);
  const span = s.F + s.B - lo;
  const frac = span > 0 ? (s.FB - lo) / span : 1;
  const next = { ...s, ...change };
  const lo2 = Math.max(next.F, next.B);
  const step = FIELDS.FB.step;
  next.FB = lo2 + Math.round((frac * (next.F + next.B - lo2)) / step) * step;
  return normalize(next);
}

export function isPipelinesSearch(search: string): boolean {
  return new URLSearchParams(search).get(VIEW_KEY) === VIEW_NAME;
}

export function encodePipelinesLink(state: PipelinesState): string {
  const s = normalize(state);
  const parts = [`${VIEW_KEY}=${VIEW_NAME}`, `v=${PIPELINES_LINK_VERSION}`];
  for (const k of ORDER) parts.push(`${FIELDS[k].key}=${s[k]}`);
  parts.push(`overlap=${s.overlap ? 1 : 0}`);
  return parts.join('&');
}

export interface DecodedPipelinesLink {
  state: PipelinesState;
  /** One message per problem, each naming the link key, e.g. 'pp: "7" must be even; using 8'. */
  problems: string[];
}

/** Accepts a full URL, a '?…' query string, or the bare 'view=pipelines&…' string. */
export function decodePipelinesLink(input: string): DecodedPipelinesLink {
  let query = input.trim();
  const q = query.indexOf('?');
  if (q >= 0) query = query.slice(q + 1);
  const h = query.indexOf('#');
  if (h >= 0) query = query.slice(0, h);
  const problems: string[] = [];
  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent((eq < 0 ? '' : part.slice(eq + 1)).replace(/\+/g, ' '));
    } catch {
      problems.push(`${key}: value is not valid URL encoding`);
      continue;
    }
    if (eq < 0) {
      problems.push(`${key}: has no value (expected ${key}=…)`);
      continue;
    }
    if (params.has(key)) problems.push(`${key}: given twice; using the last`);
    params.set(key, value);
  }

  const state: PipelinesState = { ...DEFAULT_STATE };
  const issue = (key: string, raw: string, message: string, using: string | number | boolean) =>
    problems.push(`${key}: ${raw === '' ? 'empty' : `"${raw}"`} ${message}; using ${using}`);
  const fieldByKey = new Map(ORDER.map((k) => [FIELDS[k].key, k]));
  for (const [key, raw] of params) {
    if (key === VIEW_KEY) continue;
    if (key === 'v') {
      const r = VERSION_SCHEMA.safeParse(raw);
      if (!r.success) problems.push(`v: "${raw}" ${r.error.issues[0].message}`);
      continue;
    }
    if (key === 'overlap') {
      const r = OVERLAP_SCHEMA.safeParse(raw);
      if (r.success) state.overlap = r.data;
      else issue(key, raw, r.error.issues[0].message, DEFAULT_STATE.overlap ? 1 : 0);
      continue;
    }
    const field = fieldByKey.get(key);
    if (!field) {
      problems.push(`${key}: not a setting of the Pipelines view (ignored)`);
      continue;
    }
    const r = FIELD_SCHEMAS[field].safeParse(raw);
    if (r.success) state[field] = r.data;
    else issue(key, raw, r.error.issues[0].message, DEFAULT_STATE[field]);
  }

  // Relations between fields: report each, then let normalize() repair them.
  const rel = STATE_SCHEMA.safeParse(state);
  const fixed = normalize(state);
  if (!rel.success)
    for (const i of rel.error.issues) {
      const field = i.path[0] as NumericField;
      problems.push(`${FIELDS[field].key}: ${state[field]} ${i.message}; using ${fixed[field]}`);
    }
  return { state: fixed, problems };
}
