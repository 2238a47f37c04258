// Sort a short list of small numbers ascending (duplicates allowed). Problem "sort 5,3,9",
// answer "3,5,9" (comma-separated; spaces around commas are accepted when verifying), plain
// line "sort 5,3,9: 3,5,9". Difficulty: 1: 3 numbers 0..9; 2: 4 numbers 0..9;
// 3: 5 numbers 0..20; 4: 6 numbers 0..99; 5: 8 numbers 0..99.
// The worked solution is an insertion-sort trace: each input number in turn is inserted into
// the sorted prefix, and each prefix is written out (space-separated):
//   "5 3,5 3,5,9</think><answer>3,5,9</answer>"
// maxLength (measured over 20k items per difficulty; solution chars with each tag counted as one
// token — add 22 for raw chars — / problem chars): d1 ≤ 19 / 10, d2 ≤ 29 / 12,
// d3 ≤ 61 / 19, d4 ≤ 82 / 22, d5 ≤ 133 / 28.

import type { Rng } from '../../engine/rng';
import type { Task, TaskItem } from './types';
import { alphabetOf, clampDifficulty, clip, DIGITS, makeVerify, withTemplate, type Check } from './common';

interface SortingData {
  values: number[];
}

function generate(rng: Rng, difficulty: number): TaskItem {
  const d = clampDifficulty(difficulty);
  const [n, hi] = [
    [3, 9],
    [4, 9],
    [5, 20],
    [6, 99],
    [8, 99],
  ][d - 1];
  const values = Array.from({ length: n }, () => rng.int(0, hi));
  const problem = `sort ${values.join(',')}`;
  const answer = [...values].sort((x, y) => x - y).join(',');
  return { id: `sorting/${d}/${values.join(',')}`, problem, answer, data: { values } satisfies SortingData };
}

function solution(item: TaskItem): string {
  const { values } = item.data as SortingData;
  const prefix: number[] = [];
  const states: string[] = [];
  for (const v of values) {
    let i = prefix.length;
    while (i > 0 && prefix[i - 1] > v) i--;
    prefix.splice(i, 0, v);
    states.push(prefix.join(','));
  }
  return withTemplate(states.join(' '), item.answer);
}

function check(item: TaskItem, answer: string): Check {
  const parts = answer.split(',').map((p) => p.trim());
  if (!parts.every((p) => /^\d{1,6}$/.test(p))) return { ok: false, why: `not a list of numbers: ${clip(answer)}` };
  const got = parts.map(Number);
  const want = item.answer.split(',').map(Number);
  const key = (xs: number[]) => [...xs].sort((x, y) => x - y).join(',');
  if (key(got) !== key(want))
    return {
      ok: false,
      why: got.length !== want.length ? `${got.length} numbers, not ${want.length}` : 'numbers differ from the list',
    };
  if (got.join(',') !== want.join(',')) return { ok: false, why: 'not in ascending order' };
  return { ok: true, why: 'correct' };
}

export const sorting: Task = {
  name: 'sorting',
  about: 'sort a short list of small numbers ascending; answer comma-separated',
  alphabet: alphabetOf(DIGITS, ', :sort'),
  generate,
  plain: (item) => `${item.problem}: ${item.answer}`,
  solution,
  verify: makeVerify(check),
};
