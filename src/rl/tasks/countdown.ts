// Countdown (TinyZero rules): combine the given numbers with + − * / and parentheses to reach
// the target; '*' multiplies and '/' divides. Problem "make 46 from 3 7 25", canonical answer
// "7*3+25", plain line "make 46 from 3 7 25: 7*3+25".
//
// Use of the numbers: TinyZero's scorer requires the sorted integers in the answer to EQUAL the
// sorted given numbers, i.e. each number used exactly once; the registered `countdown` task
// does the same (TinyZero-compatible). `makeCountdown({ useAll: false })` builds the
// at-most-once variant (the classic game's rule) for experiments; generation is the same.
// Answers are parsed by ./parse.ts (never evaluated as code) and valued exactly over the
// rationals: a non-integer intermediate such as 7/2*4 is fine when the final value equals the
// target exactly. Numbers-used is checked before the value, like TinyZero.
//
// Difficulty: 1: 2 numbers 1..9; 2: 3 numbers 1..9; 3: 3–4 numbers 1..20; 4: 3–4 numbers
// 1..50; 5: 4 numbers 1..99 (TinyZero's Countdown-Tasks-3to4 range). Targets are 1..100
// when possible (d1: 1..81). Every instance is solvable: generate draws the numbers, then
// builds a random expression tree over all of them (repeatedly combining two pool entries
// with an op that keeps every intermediate a positive integer: a−b only for a > b, a/b only
// when b > 1 divides a), and the tree's value is the target; the tree printed with minimal
// parentheses is the canonical answer.
// The worked solution lists the tree's steps in evaluation order:
//   "7*3=21,21+25=46</think><answer>7*3+25</answer>"
// maxLength (measured over 20k items per difficulty; solution chars with each tag counted as one
// token — add 22 for raw chars — / problem chars): d1 ≤ 12 / 16, d2 ≤ 24 / 19,
// d3 ≤ 46 / 25, d4 ≤ 50 / 25, d5 ≤ 58 / 30.

import type { Rng } from '../../engine/rng';
import type { Task, TaskItem } from './types';
import { alphabetOf, clampDifficulty, clip, DIGITS, makeVerify, withTemplate, type Check } from './common';
import { formatRational, parseExpression } from './parse';

export interface CountdownData {
  numbers: number[];
  target: number;
  /** the generator's solution steps, e.g. ["7*3=21", "21+25=46"] */
  steps: string[];
}

type Op = '+' | '-' | '*' | '/';
type Node = { value: number; text: string; prec: number };

const PREC: Record<Op, number> = { '+': 1, '-': 1, '*': 2, '/': 2 };

/** Combine two subtrees, parenthesizing only where the precedence needs it. */
function combine(x: Node, op: Op, y: Node): Node {
  const p = PREC[op];
  const left = x.prec < p ? `(${x.text})` : x.text;
  // a−(b±c) and a/(b*c) need parentheses; a+(b−c) and a*(b/c) do not (exact arithmetic).
  const right = y.prec < p || (y.prec === p && (op === '-' || op === '/')) ? `(${y.text})` : y.text;
  const value =
    op === '+'
      ? x.value + y.value
      : op === '-'
        ? x.value - y.value
        : op === '*'
          ? x.value * y.value
          : x.value / y.value;
  return { value, text: `${left}${op}${right}`, prec: p };
}

function build(rng: Rng, numbers: number[]): { node: Node; steps: string[] } {
  const pool: Node[] = numbers.map((n) => ({ value: n, text: String(n), prec: 3 }));
  const steps: string[] = [];
  while (pool.length > 1) {
    const i = rng.int(0, pool.length - 1);
    let x = pool.splice(i, 1)[0];
    const j = rng.int(0, pool.length - 1);
    let y = pool.splice(j, 1)[0];
    if (x.value < y.value) [x, y] = [y, x];
    const ops: Op[] = ['+', '*'];
    if (x.value > y.value) ops.push('-');
    if (y.value > 1 && x.value % y.value === 0) ops.push('/');
    const op = rng.pick(ops);
    const z = combine(x, op, y);
    steps.push(`${x.value}${op}${y.value}=${z.value}`);
    pool.push(z);
  }
  return { node: pool[0], steps };
}

function generate(rng: Rng, difficulty: number): TaskItem {
  const d = clampDifficulty(difficulty);
  const [nLo, nHi, hi] = [
    [2, 2, 9],
    [3, 3, 9],
    [3, 4, 20],
    [3, 4, 50],
    [4, 4, 99],
  ][d - 1];
  const numbers = Array.from({ length: rng.int(nLo, nHi) }, () => rng.int(1, hi));
  // Retry the tree until the target lands in 1..100; the last try is kept regardless (its
  // value is still a positive integer, so the item stays solvable).
  let best = build(rng, numbers);
  for (let tries = 0; tries < 30 && best.node.value > 100; tries++) best = build(rng, numbers);
  const target = best.node.value;
  const problem = `make ${target} from ${numbers.join(' ')}`;
  return {
    id: `countdown/${d}/${problem}`,
    problem,
    answer: best.node.text,
    data: { numbers, target, steps: best.steps } satisfies CountdownData,
  };
}

function countOf(xs: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function times(n: number): string {
  return n === 2 ? 'twice' : `${n} times`;
}

function makeCheck(useAll: boolean): (item: TaskItem, answer: string) => Check {
  return (item, answer) => {
    const { numbers, target } = item.data as CountdownData;
    const r = parseExpression(answer);
    if (!r.ok) return { ok: false, why: `bad expression: ${r.error}` };
    const given = countOf(numbers);
    const used = countOf(r.numbers);
    for (const [n, k] of used) {
      const g = given.get(n) ?? 0;
      if (g === 0) return { ok: false, why: `uses ${clip(String(n))}, not given` };
      if (k > g)
        return { ok: false, why: g === 1 ? `uses ${n} ${times(k)}` : `uses ${n} ${times(k)}, given ${times(g)}` };
    }
    if (useAll) {
      for (const [n, g] of given) {
        const k = used.get(n) ?? 0;
        if (k < g)
          return {
            ok: false,
            why: k === 0 ? `does not use ${n}` : `uses ${n} ${k === 1 ? 'once' : times(k)}, given ${times(g)}`,
          };
      }
    }
    if (r.value.den !== 1n || r.value.num !== BigInt(target))
      return { ok: false, why: `value ${clip(formatRational(r.value), 24)} ≠ ${target}` };
    return { ok: true, why: 'correct' };
  };
}

export function makeCountdown(opts: { useAll: boolean } = { useAll: true }): Task {
  return {
    name: opts.useAll ? 'countdown' : 'countdown-at-most-once',
    about: opts.useAll
      ? "Countdown (TinyZero): reach the target using each given number exactly once with + - * / ('*' multiplies, '/' divides)"
      : "Countdown: reach the target using each given number at most once with + - * / ('*' multiplies, '/' divides)",
    alphabet: alphabetOf(DIGITS, '+-*/()=,: makefrom'),
    generate,
    plain: (item) => `${item.problem}: ${item.answer}`,
    solution: (item) => withTemplate((item.data as CountdownData).steps.join(','), item.answer),
    verify: makeVerify(makeCheck(opts.useAll)),
  };
}

export const countdown: Task = makeCountdown({ useAll: true });
