// Modular arithmetic, '*' multiplies and '^' is a power; "mod m" applies to the whole
// expression before it. Problems: "7+5 mod 9", "7*5 mod 9", "7*5+3 mod 11", "3^4 mod 7";
// answer the residue in 0..m−1; plain line "7*5+3 mod 11=5".
// Difficulty: 1: a+b mod m (a, b ≤ 9, m 2..9); 2: a*b mod m (a, b 2..9, m 2..9);
// 3: a*b+c mod m (a, b 2..12, c ≤ 20, m 3..13); 4: a*b+c mod m or a^k mod m (a 2..9, k 2..4,
// m 3..13), half each; 5: as 4 with a*b+c up to 30·30+50 mod 3..31 or a^k with a ≤ 20,
// k ≤ 6, m 3..23.
// The worked solution computes step by step and reduces by subtracting the largest multiple
// of m ("38-33=5"); a power multiplies the reduced base in one factor at a time:
//   "7*5=35,35+3=38,38-33=5</think><answer>5</answer>"
//   "3*3=9,9-7=2,2*3=6,6*3=18,18-14=4</think><answer>4</answer>"
// maxLength (measured over 20k items per difficulty; solution chars with each tag counted as one
// token — add 22 for raw chars — / problem chars): d1 ≤ 18 / 9, d2 ≤ 18 / 9,
// d3 ≤ 36 / 15, d4 ≤ 50 / 15, d5 ≤ 109 / 15.

import type { Rng } from '../../engine/rng';
import type { Task, TaskItem } from './types';
import { alphabetOf, checkInteger, clampDifficulty, DIGITS, makeVerify, withTemplate } from './common';

type ModularData =
  | { kind: 'sum'; a: number; b: number; m: number }
  | { kind: 'product'; a: number; b: number; m: number }
  | { kind: 'affine'; a: number; b: number; c: number; m: number }
  | { kind: 'pow'; a: number; k: number; m: number };

function generate(rng: Rng, difficulty: number): TaskItem {
  const d = clampDifficulty(difficulty);
  let data: ModularData;
  if (d === 1) data = { kind: 'sum', a: rng.int(0, 9), b: rng.int(0, 9), m: rng.int(2, 9) };
  else if (d === 2) data = { kind: 'product', a: rng.int(2, 9), b: rng.int(2, 9), m: rng.int(2, 9) };
  else if (d === 3 || rng.next() < 0.5) {
    const [abHi, cHi, mHi] = d === 5 ? [30, 50, 31] : [12, 20, 13];
    data = { kind: 'affine', a: rng.int(2, abHi), b: rng.int(2, abHi), c: rng.int(0, cHi), m: rng.int(3, mHi) };
  } else {
    const [aHi, kHi, mHi] = d === 4 ? [9, 4, 13] : [20, 6, 23];
    data = { kind: 'pow', a: rng.int(2, aHi), k: rng.int(2, kHi), m: rng.int(3, mHi) };
  }
  const problem = `${expression(data)} mod ${data.m}`;
  return { id: `modular/${d}/${problem}`, problem, answer: String(residue(data)), data };
}

function expression(x: ModularData): string {
  switch (x.kind) {
    case 'sum':
      return `${x.a}+${x.b}`;
    case 'product':
      return `${x.a}*${x.b}`;
    case 'affine':
      return `${x.a}*${x.b}+${x.c}`;
    case 'pow':
      return `${x.a}^${x.k}`;
  }
}

function residue(x: ModularData): number {
  switch (x.kind) {
    case 'sum':
      return (x.a + x.b) % x.m;
    case 'product':
      return (x.a * x.b) % x.m;
    case 'affine':
      return (x.a * x.b + x.c) % x.m;
    case 'pow': {
      let r = 1 % x.m;
      for (let i = 0; i < x.k; i++) r = (r * x.a) % x.m;
      return r;
    }
  }
}

/** Push "v-qm=r" when v ≥ m; return v mod m. */
function reduce(v: number, m: number, steps: string[]): number {
  if (v < m) return v;
  const r = v % m;
  steps.push(`${v}-${v - r}=${r}`);
  return r;
}

function solution(item: TaskItem): string {
  const x = item.data as ModularData;
  const steps: string[] = [];
  if (x.kind === 'pow') {
    const base = reduce(x.a, x.m, steps);
    let v = base;
    for (let i = 1; i < x.k; i++) {
      steps.push(`${v}*${base}=${v * base}`);
      v = reduce(v * base, x.m, steps);
    }
  } else {
    let v: number;
    if (x.kind === 'sum') {
      v = x.a + x.b;
      steps.push(`${x.a}+${x.b}=${v}`);
    } else {
      v = x.a * x.b;
      steps.push(`${x.a}*${x.b}=${v}`);
      if (x.kind === 'affine') {
        steps.push(`${v}+${x.c}=${v + x.c}`);
        v += x.c;
      }
    }
    reduce(v, x.m, steps);
  }
  return withTemplate(steps.join(','), item.answer);
}

export const modular: Task = {
  name: 'modular',
  about: "modular arithmetic: a+b, a*b, a*b+c or a^k mod m ('*' multiplies, '^' is a power)",
  alphabet: alphabetOf(DIGITS, '+-*^=, mod'),
  generate,
  plain: (item) => `${item.problem}=${item.answer}`,
  solution,
  verify: makeVerify((item, answer) => checkInteger(item.answer, answer)),
};
