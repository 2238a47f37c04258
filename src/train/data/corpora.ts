// Built-in synthetic corpora, generated from a seed, and the user-text corpus.
//  - grammar: sentences from a small probabilistic grammar (subject, verb, object, optional
//    prepositional phrase). Char-level, the spelling of a small lexicon and the word order are
//    learnable; the word choices are the irreducible entropy.
//  - arith: lines "a+b=c" and "a-b=c" with 1–3 digit operands. The operands are random; the
//    answers are a function of them, so loss on answer digits measures arithmetic learned.

import { Rng } from '../../engine/rng';
import { MAX_TEXT_CHARS } from '../../config';

const DETS = ['the', 'a', 'every', 'one'];
const ADJS = ['small', 'red', 'quiet', 'old', 'bright', 'lazy'];
const NOUNS = ['cat', 'dog', 'bird', 'robot', 'child', 'river', 'teacher', 'garden'];
const VERBS = ['sees', 'likes', 'follows', 'finds', 'draws', 'helps'];
const PREPS = ['near', 'under', 'behind', 'with'];

function nounPhrase(rng: Rng): string {
  const det = rng.pick(DETS);
  return rng.next() < 0.4 ? `${det} ${rng.pick(ADJS)} ${rng.pick(NOUNS)}` : `${det} ${rng.pick(NOUNS)}`;
}

function sentence(rng: Rng): string {
  let s = `${nounPhrase(rng)} ${rng.pick(VERBS)} ${nounPhrase(rng)}`;
  if (rng.next() < 0.3) s += ` ${rng.pick(PREPS)} ${nounPhrase(rng)}`;
  return `${s}.\n`;
}

function arithLine(rng: Rng): string {
  const digits = () => rng.int(1, 3);
  const num = (d: number) => rng.int(d === 1 ? 0 : 10 ** (d - 1), 10 ** d - 1);
  const a = num(digits());
  const b = num(digits());
  if (rng.next() < 0.5) return `${a}+${b}=${a + b}\n`;
  const [x, y] = a >= b ? [a, b] : [b, a];
  return `${x}-${y}=${x - y}\n`;
}

export function generateCorpus(kind: 'grammar' | 'arith', chars: number, seed: number): string {
  const rng = new Rng(seed ^ 0x5eed);
  const line = kind === 'grammar' ? sentence : arithLine;
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const s = line(rng);
    parts.push(s);
    n += s.length;
  }
  return parts.join('');
}

/** Check a user-supplied text before training on it; the message says what is wrong. */
export function validateUserText(text: string, seqLen: number, valFraction: number): void {
  if (text.length > MAX_TEXT_CHARS) {
    throw new Error(
      `text corpus is ${text.length.toLocaleString('en-US')} characters; the limit is ${MAX_TEXT_CHARS.toLocaleString('en-US')}`,
    );
  }
  const need = Math.ceil((seqLen + 1) / valFraction) + seqLen + 1;
  if (Array.from(text).length < need) {
    throw new Error(
      `text corpus is too short: ${Array.from(text).length} characters, need at least ${need} for seq_len ${seqLen} with val_fraction ${valFraction}`,
    );
  }
}
