// Chain sums (reasoning-gym's chain_sum): 2–6 terms joined by + and −. Problem "12+5-7",
// answer "10" (may be negative), plain line "12+5-7=10". Difficulty: 1: 2 terms of 1 digit;
// 2: 3 terms of 1 digit; 3: 3–4 terms of 1–2 digits; 4: 4–5 terms of 1–3 digits;
// 5: 5–6 terms of 1–4 digits (reasoning-gym's range).
// The worked solution keeps a running total:
//   "12+5=17,17-7=10</think><answer>10</answer>"
// maxLength (measured over 20k items per difficulty; solution chars with each tag counted as one
// token — add 22 for raw chars — / problem chars): d1 ≤ 11 / 3, d2 ≤ 21 / 5,
// d3 ≤ 41 / 11, d4 ≤ 67 / 19, d5 ≤ 97 / 29.

import type { Rng } from '../../engine/rng';
import type { Task, TaskItem } from './types';
import { alphabetOf, checkInteger, clampDifficulty, DIGITS, intWithDigits, makeVerify, withTemplate } from './common';

interface ChainSumData {
  /** signed terms; the first is never negative */
  terms: number[];
}

function generate(rng: Rng, difficulty: number): TaskItem {
  const d = clampDifficulty(difficulty);
  const [tLo, tHi, maxDigits] = [
    [2, 2, 1],
    [3, 3, 1],
    [3, 4, 2],
    [4, 5, 3],
    [5, 6, 4],
  ][d - 1];
  const n = rng.int(tLo, tHi);
  const terms: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = intWithDigits(rng, rng.int(1, maxDigits));
    terms.push(i > 0 && rng.next() < 0.5 ? -v : v);
  }
  const problem = terms.map((t, i) => (i === 0 ? String(t) : t < 0 ? `-${-t}` : `+${t}`)).join('');
  const answer = String(terms.reduce((s, t) => s + t, 0));
  return { id: `chain-sum/${d}/${problem}`, problem, answer, data: { terms } satisfies ChainSumData };
}

function solution(item: TaskItem): string {
  const { terms } = item.data as ChainSumData;
  const steps: string[] = [];
  let acc = terms[0];
  for (const t of terms.slice(1)) {
    const next = acc + t;
    steps.push(`${acc}${t < 0 ? '-' : '+'}${Math.abs(t)}=${next}`);
    acc = next;
  }
  return withTemplate(steps.join(','), item.answer);
}

export const chainSum: Task = {
  name: 'chain-sum',
  about: 'chain sums of 2–6 terms with + and − (reasoning-gym chain_sum)',
  alphabet: alphabetOf(DIGITS, '+-=,'),
  generate,
  plain: (item) => `${item.problem}=${item.answer}`,
  solution,
  verify: makeVerify((item, answer) => checkInteger(item.answer, answer)),
};
