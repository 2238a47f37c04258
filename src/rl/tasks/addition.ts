// Multi-digit addition. Difficulty d = digits: one operand has exactly d digits, the other 1..d
// (their order is random). Problem "57+35", answer "92", plain line "57+35=92".
// The worked solution adds column by column from the right, carrying as "+1":
//   "7+5=12,5+3+1=9</think><answer>92</answer>"
// A missing digit of the shorter operand is written as 0.
// maxLength (measured over 20k items per difficulty; solution chars with each tag counted as one
// token — add 22 for raw chars — / problem chars): d1 ≤ 11 / 3, d2 ≤ 21 / 5,
// d3 ≤ 31 / 7, d4 ≤ 41 / 9, d5 ≤ 51 / 11.

import type { Rng } from '../../engine/rng';
import type { Task, TaskItem } from './types';
import { alphabetOf, checkInteger, clampDifficulty, DIGITS, intWithDigits, makeVerify, withTemplate } from './common';

interface AdditionData {
  a: number;
  b: number;
}

function generate(rng: Rng, difficulty: number): TaskItem {
  const d = clampDifficulty(difficulty);
  let a = intWithDigits(rng, d);
  let b = intWithDigits(rng, rng.int(1, d));
  if (rng.next() < 0.5) [a, b] = [b, a];
  const problem = `${a}+${b}`;
  return { id: `addition/${d}/${problem}`, problem, answer: String(a + b), data: { a, b } satisfies AdditionData };
}

function solution(item: TaskItem): string {
  const { a, b } = item.data as AdditionData;
  const da = String(a).split('').reverse();
  const db = String(b).split('').reverse();
  const steps: string[] = [];
  let carry = 0;
  for (let i = 0; i < Math.max(da.length, db.length); i++) {
    const x = Number(da[i] ?? 0);
    const y = Number(db[i] ?? 0);
    const s = x + y + carry;
    steps.push(carry ? `${x}+${y}+1=${s}` : `${x}+${y}=${s}`);
    carry = s >= 10 ? 1 : 0;
  }
  return withTemplate(steps.join(','), item.answer);
}

export const addition: Task = {
  name: 'addition',
  about: 'multi-digit addition; difficulty = digits of the longer operand',
  alphabet: alphabetOf(DIGITS, '+=,'),
  generate,
  plain: (item) => `${item.problem}=${item.answer}`,
  solution,
  verify: makeVerify((item, answer) => checkInteger(item.answer, answer)),
};
