// Shared pieces of the task verifiers: the tags, the format check, answer extraction, and a
// wrapper that turns a task's answer check into a total, bounded `verify`.
//
// Reward facts encoded here (spec §5–§6):
// - format = 1 iff the completion (the text after the prompt's prefilled "<think>") is
//     reasoning (no tags) · "</think>" · optional whitespace · "<answer>" · answer (no tags,
//     not blank) · "</answer>" · nothing but whitespace.
//   The optional whitespace between "</think>" and "<answer>" follows R1's own template text
//   ("</think> <answer>", which Dr. GRPO's reward looks for); the worked solutions emit none.
// - accuracy looks at the LAST <answer>…</answer> pair, like TinyZero, even when format is 0:
//   the answer is the text after the last "<answer>" that has a "</answer>" after it, up to
//   the first "</answer>" after it. (TinyZero also keeps only the completion's last line;
//   we do not, since our answers never span lines.) Dr. GRPO's strict reward is
//   `accuracy && format`; TinyZero's is 1 / 0.1 (partial) / 0.
// - partial = an answer was found, is not blank, and is wrong (TinyZero's 0.1 credit). A blank
//   answer is not partial, so "<answer></answer>" earns nothing.
// - Bounded work: a completion longer than MAX_COMPLETION_CHARS scores 0 without being
//   scanned (a tiny model's completions are ~100 chars; Dr. GRPO also gives truncated output 0).

import type { TaskItem, Verdict } from './types';

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';
export const ANSWER_OPEN = '<answer>';
export const ANSWER_CLOSE = '</answer>';
export const TAGS = [THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE] as const;

/** Completions longer than this (UTF-16 code units) score 0 and are not looked at. */
export const MAX_COMPLETION_CHARS = 4096;

export const DIGITS = '0123456789';

export function hasTag(s: string): boolean {
  return TAGS.some((t) => s.includes(t));
}

/** 1 iff the completion follows the template (see the header). */
export function checkFormat(c: string): 0 | 1 {
  const i = c.indexOf(THINK_CLOSE);
  if (i < 0 || hasTag(c.slice(0, i))) return 0;
  let j = i + THINK_CLOSE.length;
  while (j < c.length && /\s/.test(c[j])) j++;
  if (!c.startsWith(ANSWER_OPEN, j)) return 0;
  j += ANSWER_OPEN.length;
  const k = c.indexOf(ANSWER_CLOSE, j);
  if (k < 0) return 0;
  const content = c.slice(j, k);
  if (hasTag(content) || content.trim() === '') return 0;
  return c.slice(k + ANSWER_CLOSE.length).trim() === '' ? 1 : 0;
}

/** The raw text of the last <answer>…</answer> pair (see the header), or null. */
export function lastAnswer(c: string): string | null {
  const lastClose = c.lastIndexOf(ANSWER_CLOSE);
  if (lastClose < 0) return null;
  const s = c.lastIndexOf(ANSWER_OPEN, lastClose - ANSWER_OPEN.length);
  if (s < 0) return null;
  const e = c.indexOf(ANSWER_CLOSE, s + ANSWER_OPEN.length);
  return c.slice(s + ANSWER_OPEN.length, e);
}

/** Difficulty as an integer 1..5 (non-numbers give 1). */
export function clampDifficulty(d: number): number {
  if (!Number.isFinite(d)) return 1;
  return Math.min(5, Math.max(1, Math.round(d)));
}

/** A string cut to n chars for a `why` message. */
export function clip(s: string, n = 16): string {
  return s.length <= n ? s : s.slice(0, n) + '…';
}

/** reasoning steps + the answer in the template body. */
export function withTemplate(reasoning: string, answer: string): string {
  return `${reasoning}${THINK_CLOSE}${ANSWER_OPEN}${answer}${ANSWER_CLOSE}`;
}

/** The sorted set of characters in the given strings. */
export function alphabetOf(...parts: string[]): string {
  return [...new Set(parts.join(''))].sort().join('');
}

/** Integer in [lo, hi] with exactly n decimal digits (n = 1 gives lo..9). */
export function intWithDigits(rng: { int(lo: number, hi: number): number }, n: number, lo1 = 0): number {
  return n <= 1 ? rng.int(lo1, 9) : rng.int(10 ** (n - 1), 10 ** n - 1);
}

export interface Check {
  ok: boolean;
  why: string;
}

/** Canonical decimal text of an integer answer ("+007" → "7", "-0" → "0"), or null. */
export function canonicalInt(s: string): string | null {
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (!m) return null;
  const digits = m[2].replace(/^0+(?=\d)/, '');
  return digits === '0' || m[1] !== '-' ? digits : '-' + digits;
}

/** Compare an integer answer with the canonical one. */
export function checkInteger(expected: string, answer: string): Check {
  const got = canonicalInt(answer);
  if (got === null) return { ok: false, why: `not an integer: ${clip(answer)}` };
  return got === expected ? { ok: true, why: 'correct' } : { ok: false, why: `value ${clip(got)} ≠ ${expected}` };
}

/** Turn an answer check into a total `verify`: any input gives a Verdict, nothing throws. */
export function makeVerify(
  check: (item: TaskItem, answer: string) => Check,
): (item: TaskItem, completion: string) => Verdict {
  return (item, completion) => {
    const zero = (why: string): Verdict => ({ accuracy: 0, partial: false, format: 0, answer: null, why });
    if (typeof completion !== 'string') return zero('completion is not a string');
    if (completion.length > MAX_COMPLETION_CHARS) return zero(`completion longer than ${MAX_COMPLETION_CHARS} chars`);
    try {
      const format = checkFormat(completion);
      const raw = lastAnswer(completion);
      if (raw === null) return { ...zero('no <answer> tag'), format };
      const answer = raw.trim();
      if (answer === '') return { accuracy: 0, partial: false, format, answer, why: 'empty answer' };
      const r = check(item, answer);
      return { accuracy: r.ok ? 1 : 0, partial: !r.ok, format, answer, why: r.why };
    } catch (e) {
      // Only a bug (or a malformed item) gets here; score 0 rather than crash a rollout.
      return zero(`internal error: ${clip(String(e), 40)}`);
    }
  };
}
