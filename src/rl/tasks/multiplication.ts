// Small multiplication, '*' is the multiplication sign. Problem "47*6", answer "282", plain
// line "47*6=282". Difficulty: 1: 1-digit × 1-digit (2..9); 2: 10..29 × 1-digit;
// 3: 2-digit × 1-digit; 4: 3-digit × 1-digit; 5: 2-digit × 2-digit.
// The worked solution splits the first operand into place values, multiplies each by the
// second, then adds the partial products (zero digits are skipped):
//   "40*6=240,7*6=42,240+42=282</think><answer>282</answer>"
// maxLength (measured over 20k items per difficulty; solution chars with each tag counted as one
// token — add 22 for raw chars — / problem chars): d1 ≤ 11 / 3, d2 ≤ 32 / 4,
// d3 ≤ 32 / 4, d4 ≤ 50 / 5, d5 ≤ 40 / 5.

import type { Rng } from '../../engine/rng';
import type { Task, TaskItem } from './types';
import { alphabetOf, checkInteger, clampDifficulty, DIGITS, makeVerify, withTemplate } from './common';

interface MultiplicationData {
  a: number;
  b: number;
}

function generate(rng: Rng, difficulty: number): TaskItem {
  const d = clampDifficulty(difficulty);
  const [aLo, aHi, bLo, bHi] = [
    [2, 9, 2, 9],
    [10, 29, 2, 9],
    [10, 99, 2, 9],
    [100, 999, 2, 9],
    [10, 99, 10, 99],
  ][d - 1];
  const a = rng.int(aLo, aHi);
  const b = rng.int(bLo, bHi);
  const problem = `${a}*${b}`;
  return {
    id: `multiplication/${d}/${problem}`,
    problem,
    answer: String(a * b),
    data: { a, b } satisfies MultiplicationData,
  };
}

function solution(item: TaskItem): string {
  const { a, b } = item.data as MultiplicationData;
  if (a < 10) return withTemplate(`${a}*${b}=${a * b}`, item.answer);
  const s = String(a);
  const parts: number[] = [];
  const steps: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const place = Number(s[i]) * 10 ** (s.length - 1 - i);
    if (place === 0) continue;
    parts.push(place * b);
    steps.push(`${place}*${b}=${place * b}`);
  }
  if (parts.length > 1) steps.push(`${parts.join('+')}=${a * b}`);
  return withTemplate(steps.join(','), item.answer);
}

export const multiplication: Task = {
  name: 'multiplication',
  about: "small multiplication ('*'): 1-digit × 1-digit up to 2-digit × 2-digit",
  alphabet: alphabetOf(DIGITS, '*+=,'),
  generate,
  plain: (item) => `${item.problem}=${item.answer}`,
  solution,
  verify: makeVerify((item, answer) => checkInteger(item.answer, answer)),
};
