// One generate call's state and its host-side bookkeeping, for the generation engine
// (generate.ts): request checks, the KV caches it holds, emitting tokens (and finishing
// sequences on a stop token or their budget), settling speculative drafts, and the stats.

import type { Tensor } from '../engine/tensor';
import type { ModelConfig } from './config';
import type { GeneratedSequence, GenerateOptions, GenerateStats, SamplingSpec } from './generate';

/** One layer's KV cache: [B, C, W] per sequence slot (W per the header of generate.ts). */
export interface LayerCache {
  /** MHA: keys [B, C, Hkv·hd]; MLA: the latent [B, C, dc + dr]. */
  k: Tensor;
  /** MHA: values [B, C, Hkv·hd]; MLA: the same tensor as k. */
  v: Tensor;
}

/** Throws unless temperature ≥ 0, topK an integer ≥ 0 and topP in (0, 1]. */
function validateSampling(s: SamplingSpec): void {
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0))
    throw new Error(`generate: temperature ${s.temperature} must be ≥ 0`);
  if (!(Number.isInteger(s.topK) && s.topK >= 0))
    throw new Error(`generate: topK ${s.topK} must be an integer ≥ 0 (0 = off)`);
  if (!(Number.isFinite(s.topP) && s.topP > 0 && s.topP <= 1))
    throw new Error(`generate: topP ${s.topP} must be in (0, 1]`);
}

/** One value per sequence: a list of B as given, or a single value repeated B times. */
function perSequence<T>(v: T | T[], B: number, what: string, isList: (x: T | T[]) => x is T[]): T[] {
  if (isList(v)) {
    if (v.length !== B) throw new Error(`generate: ${v.length} ${what} for ${B} prompts`);
    return v;
  }
  return Array.from({ length: B }, () => v);
}

/** The state of one generate call: its checked inputs, KV caches, outputs so far and counters. */
export interface Run {
  opts: GenerateOptions;
  B: number;
  V: number;
  budget: number[];
  stops: Set<number>[];
  speculative: boolean;
  /** Prompt lengths and the longest one (the prefill's padded width). */
  lens: number[];
  Pmax: number;
  /** B uniforms [B] from the seeded host generator: one per sequence per draw, in a fixed order. */
  uniforms: () => Tensor;
  out: GeneratedSequence[];
  /** Whether each sequence still decodes (no stop token yet, budget left). */
  active: boolean[];
  totalBudget: number;
  emitted: number;
  caches: LayerCache[];
  mtpCache: LayerCache | null;
  emb: Tensor;
  /** Per sequence: the position of the next token fed to the main model, and that token (cur). */
  pos: number[];
  cur: number[];
  q: Tensor | null; // draft distributions [B, V]
  draft: Tensor | null; // draft tokens i32 [B]
  forwards: number;
  drafted: number;
  accepted: number;
}

/** What one speculative verification read back, per sequence, and the main hidden states [B, 2, d] it ran on. */
export interface Verdict {
  h: Tensor;
  /** specAccept's (token, accepted) pairs, flattened: sequence b's draft is kept where dec[2b + 1] = 1. */
  dec: ArrayLike<number>;
  /** The drafts and the bonus tokens, with their log-probs. */
  drs: ArrayLike<number>;
  lpd: ArrayLike<number>;
  bs: ArrayLike<number>;
  lpb: ArrayLike<number>;
  /** The token emitted instead of a rejected draft (from the residual, or from p when it is empty), with its log-prob. */
  rs: number[];
  lpr: number[];
  /** With keepLogits: the main logits [B, V] at positions P and P+1. */
  lg0: Float64Array | null;
  lg1: Float64Array | null;
}

/** What the MTP module consumes after a verification. */
export interface DrafterInput {
  /** Per sequence, the tokens after positions P and P+1. */
  ids: number[][];
  /** Per sequence, which of the two rows drafts (1 when the draft was accepted). */
  draftRow: number[];
  /** Positions P before the step. */
  before: number[];
}

/** Checks a request and spreads budgets and stop lists to one per sequence; throws on bad input. */
export function checkRequest(
  opts: GenerateOptions,
  c: ModelConfig,
): { B: number; budget: number[]; stops: Set<number>[]; speculative: boolean } {
  const B = opts.prompts.length;
  if (B < 1) throw new Error('generate: no prompts');
  validateSampling(opts.sampling);
  const V = c.vocab_size;
  for (const [b, pr] of opts.prompts.entries()) {
    if (pr.length < 1) throw new Error(`generate: prompt ${b} is empty (each sequence needs at least one token)`);
    const bad = pr.find((t) => !Number.isInteger(t) || t < 0 || t >= V);
    if (bad !== undefined)
      throw new Error(`generate: prompt ${b} holds token ${bad}, outside the vocabulary [0, ${V})`);
  }
  const budget = perSequence(opts.maxNewTokens, B, 'token budgets', Array.isArray);
  for (const m of budget)
    if (!Number.isInteger(m) || m < 1) throw new Error(`generate: maxNewTokens ${m} must be an integer ≥ 1`);
  const stops = perSequence<number[]>(
    opts.stopTokens ?? [],
    B,
    'stop lists',
    (x): x is number[][] => Array.isArray(x) && x.length > 0 && Array.isArray(x[0]),
  ).map((s) => new Set(s));
  const speculative = opts.speculative ?? false;
  if (speculative && c.num_nextn_predict_layers < 1)
    throw new Error(
      'generate: speculative decoding drafts with the MTP module, but this model has none (model.num_nextn_predict_layers = 0)',
    );
  return { B, budget, stops, speculative };
}

/** Row r [V] of logits read back as [R, V]. */
export function rowOf(data: Float64Array, r: number, V: number): Float64Array {
  return data.slice(r * V, (r + 1) * V);
}

/** Appends a token to sequence b, which finishes on a stop token or at its budget; returns whether it goes on. */
export function emit(run: Run, b: number, tok: number, lp: number, logits: Float64Array | null): boolean {
  const s = run.out[b];
  s.tokens.push(tok);
  s.logprobs.push(lp);
  if (logits) s.logits!.push(logits);
  run.emitted++;
  if (run.stops[b].has(tok)) {
    s.finish = 'stop';
    run.active[b] = false;
  } else if (s.tokens.length >= run.budget[b]) {
    run.active[b] = false;
  }
  return run.active[b];
}

/** Emits each active sequence's verified tokens (draft + bonus, or the replacement) and advances it; returns the drafter's next input. */
export function settleDrafts(run: Run, v: Verdict): DrafterInput {
  const { B, V } = run;
  // What the MTP module consumes next: per sequence, the tokens after positions P and P+1, and which row drafts.
  const ids: number[][] = [];
  const draftRow: number[] = [];
  const before = run.pos.slice();
  for (let b = 0; b < B; b++) {
    if (!run.active[b]) {
      ids.push([0, 0]);
      draftRow.push(0);
      continue;
    }
    run.drafted++;
    if (v.dec[2 * b + 1] === 1) {
      run.accepted++;
      const goOn = emit(run, b, v.drs[b], v.lpd[b], v.lg0 ? rowOf(v.lg0, b, V) : null);
      if (goOn) emit(run, b, v.bs[b], v.lpb[b], v.lg1 ? rowOf(v.lg1, b, V) : null);
      ids.push([v.drs[b], v.bs[b]]);
      draftRow.push(1);
      run.cur[b] = v.bs[b];
      run.pos[b] += 2;
    } else {
      emit(run, b, v.rs[b], v.lpr[b], v.lg0 ? rowOf(v.lg0, b, V) : null);
      ids.push([v.rs[b], 0]);
      draftRow.push(0);
      run.cur[b] = v.rs[b];
      run.pos[b] += 1;
    }
  }
  return { ids, draftRow, before };
}

/** The decoding figures of a finished call that took ms milliseconds. */
export function statsOf(run: Run, ms: number): GenerateStats {
  const { emitted, forwards, drafted, accepted, speculative } = run;
  return {
    mode: speculative ? 'speculative' : 'plain',
    tokens: emitted,
    forwards,
    ms,
    tokensPerSecond: ms > 0 ? (emitted * 1000) / ms : 0,
    drafted,
    accepted,
    acceptanceRate: speculative && drafted > 0 ? accepted / drafted : null,
  };
}

/** Frees one layer's cache (MLA's k and v are the same tensor). */
export function disposeCache(L: LayerCache): void {
  L.k.dispose();
  if (L.k !== L.v) L.v.dispose();
}
