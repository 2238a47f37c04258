// Task library tests: determinism, correct worked solutions, the reward facts (format, last
// answer, partial credit), alphabet coverage, Countdown's number rules and exact arithmetic,
// and a fuzz of random/hostile completions that must never throw and stay fast.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { canonicalInt, checkFormat, lastAnswer, MAX_COMPLETION_CHARS, TAGS } from './common';
import { countdown, makeCountdown, type CountdownData } from './countdown';
import { findTask, TASK_ALPHABET, TASKS } from './index';
import { formatRational, parseExpression } from './parse';
import type { Task, TaskItem, Verdict } from './types';

const wrap = (answer: string) => `</think><answer>${answer}</answer>`;
const stripTags = (s: string) => TAGS.reduce((acc, t) => acc.split(t).join(''), s);

/** A wrong answer of the task's own kind (near miss). */
function nearMiss(task: Task, item: TaskItem): string {
  if (task.name === 'sorting') {
    const xs = item.answer.split(',').map(Number);
    xs[xs.length - 1] += 1;
    return xs.join(',');
  }
  if (task.name === 'countdown') return `${item.answer}+1`;
  return String(BigInt(item.answer) + 1n);
}

function assertVerdictShape(v: Verdict): void {
  expect([0, 1]).toContain(v.accuracy);
  expect([0, 1]).toContain(v.format);
  expect(typeof v.partial).toBe('boolean');
  expect(v.answer === null || typeof v.answer === 'string').toBe(true);
  expect(typeof v.why).toBe('string');
  expect(v.why.length).toBeGreaterThan(0);
  expect(v.why.length).toBeLessThan(80);
  expect(v.why.startsWith('internal error')).toBe(false);
  if (v.accuracy === 1) expect(v.partial).toBe(false);
  if (v.answer === null) expect(v.partial).toBe(false);
}

describe('registry', () => {
  it('holds the six tasks by name', () => {
    expect(TASKS.map((t) => t.name)).toEqual([
      'addition',
      'multiplication',
      'countdown',
      'chain-sum',
      'sorting',
      'modular',
    ]);
    for (const t of TASKS) expect(findTask(t.name)).toBe(t);
    expect(findTask('nope')).toBeUndefined();
  });
  it('alphabets never need < or >', () => {
    expect(TASK_ALPHABET).not.toMatch(/[<>]/);
    for (const t of TASKS) expect([...t.alphabet].sort().join('')).toBe(t.alphabet);
  });
});

describe.each(TASKS.map((t) => [t.name, t] as const))('%s', (_name, task) => {
  it('generate is deterministic per seed and varies with the seed', () => {
    for (let d = 1; d <= 5; d++) {
      const seen = new Set<string>();
      for (let s = 1; s <= 30; s++) {
        const a = task.generate(new Rng(s), d);
        const b = task.generate(new Rng(s), d);
        expect(b).toEqual(a);
        seen.add(a.problem);
      }
      expect(seen.size).toBeGreaterThan(10);
      // the same rng state gives the same item, mid-stream too
      const rng = new Rng(99);
      task.generate(rng, d);
      const st = rng.getState();
      const x = task.generate(rng, d);
      rng.setState(st);
      expect(task.generate(rng, d)).toEqual(x);
    }
  });

  it('clamps the difficulty', () => {
    for (const d of [0, -3, 6, 99, Number.NaN, 2.4]) {
      const item = task.generate(new Rng(5), d);
      expect(task.verify(item, task.solution(item)).accuracy).toBe(1);
    }
  });

  it('worked solutions and bare answers score accuracy 1, format 1', () => {
    for (let d = 1; d <= 5; d++) {
      const rng = new Rng(1000 + d);
      const n = d <= 3 ? 200 : 50;
      for (let i = 0; i < n; i++) {
        const item = task.generate(rng, d);
        const sol = task.solution(item);
        const v = task.verify(item, sol);
        expect(v, `${item.problem}: ${sol} (${v.why})`).toMatchObject({
          accuracy: 1,
          format: 1,
          partial: false,
          answer: item.answer,
        });
        expect(task.verify(item, wrap(item.answer))).toMatchObject({ accuracy: 1, format: 1, partial: false });
        // the solution ends with exactly one answer block, after one </think>
        expect(sol.endsWith(wrap(item.answer))).toBe(true);
        expect(sol.split('</think>').length).toBe(2);
        if (d <= 2) expect(sol.length).toBeLessThanOrEqual(80);
      }
    }
  });

  it('wrong answers in tags are partial; no tags is format 0, accuracy 0', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) {
      const item = task.generate(rng, 1 + (i % 5));
      for (const wrong of [nearMiss(task, item), '9999999', 'abc']) {
        const v = task.verify(item, wrap(wrong));
        expect(v, `${item.problem} ← ${wrong}`).toMatchObject({ accuracy: 0, partial: true, format: 1, answer: wrong });
      }
      const sol = task.solution(item);
      for (const c of [task.plain(item), stripTags(sol), item.answer, `${sol.split('</think>')[0]} ${item.answer}`]) {
        const v = task.verify(item, c);
        expect(v, c).toMatchObject({ accuracy: 0, format: 0, partial: false, answer: null, why: 'no <answer> tag' });
      }
    }
  });

  it('plain lines have no tags; all text stays in the alphabet', () => {
    const allowed = new Set(task.alphabet);
    for (let d = 1; d <= 5; d++) {
      const rng = new Rng(50 + d);
      for (let i = 0; i < 200; i++) {
        const item = task.generate(rng, d);
        const plain = task.plain(item);
        for (const t of TAGS) expect(plain).not.toContain(t);
        for (const s of [item.problem, item.answer, plain, stripTags(task.solution(item))]) {
          const outside = [...s].filter((ch) => !allowed.has(ch));
          expect(outside, JSON.stringify(s)).toEqual([]);
        }
      }
    }
  });

  it('reward facts: format shape, the last answer counts, trailing text, length cap', () => {
    const item = task.generate(new Rng(3), 2);
    const ok = item.answer;
    const bad = nearMiss(task, item);
    const cases: [string, Partial<Verdict>][] = [
      [`steps</think><answer>${ok}</answer>\n  `, { accuracy: 1, format: 1 }],
      [`steps</think> <answer> ${ok} </answer>`, { accuracy: 1, format: 1, answer: ok }],
      [`steps</think><answer>${ok}</answer>more`, { accuracy: 1, format: 0 }],
      [`<answer>${ok}</answer>`, { accuracy: 1, format: 0 }],
      [`a<think>b</think><answer>${ok}</answer>`, { accuracy: 1, format: 0 }],
      [`</think><answer>${bad}</answer><answer>${ok}</answer>`, { accuracy: 1, format: 0 }],
      [`</think><answer>${ok}</answer><answer>${bad}</answer>`, { accuracy: 0, format: 0, partial: true }],
      [`</think><answer>${ok}</answer><answer>${bad}`, { accuracy: 1, format: 0 }],
      [`</think><answer>${ok}`, { accuracy: 0, format: 0, partial: false, answer: null }],
      [`</think><answer></answer>`, { accuracy: 0, format: 0, partial: false, why: 'empty answer' }],
      [`</think><answer><answer>${ok}</answer></answer>`, { accuracy: 1, format: 0 }],
      [`</think></think><answer>${ok}</answer>`, { accuracy: 1, format: 0 }],
      [`x</think>y<answer>${ok}</answer>`, { accuracy: 1, format: 0 }],
      [
        `x</think><answer>${ok}</answer>`.padStart(MAX_COMPLETION_CHARS + 1, ' '),
        { accuracy: 0, format: 0, answer: null },
      ],
      [`x</think><answer>${ok}</answer>`.padStart(MAX_COMPLETION_CHARS, ' '), { accuracy: 1, format: 1 }],
    ];
    for (const [c, want] of cases) expect(task.verify(item, c), c.slice(0, 80)).toMatchObject(want);
    expect(task.verify(item, undefined as unknown as string).accuracy).toBe(0);
    expect(task.verify(item, 12 as unknown as string).accuracy).toBe(0);
  });

  it('fuzz: random and hostile completions never throw and finish quickly', () => {
    const rng = new Rng(4242);
    const items = Array.from({ length: 20 }, (_, i) => task.generate(rng, 1 + (i % 5)));
    const big = 'a'.repeat(1 << 20);
    const hostile: string[] = [
      '',
      ' ',
      big,
      '<answer>'.repeat(100_000),
      '<answer>1</answer>'.repeat(100_000),
      '</think><answer>' + '9'.repeat(1 << 20) + '</answer>',
      '<answer>'.repeat(200) + '1' + '</answer>'.repeat(200),
      '</think><answer>1' + '0'.repeat(400) + '</answer>',
      '</think><answer>-' + '9'.repeat(3000) + '</answer>',
      '</think><answer>' + '('.repeat(1000) + '1' + ')'.repeat(1000) + '</answer>',
      '</think><answer>' + '('.repeat(33) + '1' + ')'.repeat(33) + '</answer>',
      '</think><answer>' + '1+'.repeat(99) + '1</answer>',
      '</think><answer>' + '9'.repeat(12) + '*9'.repeat(16) + '</answer>',
      '</think><answer>' + '1/(2-2)' + '</answer>',
      '</think><answer>' + '0/0' + '</answer>',
      '</think><answer>process.exit()</answer>',
      '</think><answer>constructor</answer>',
      '</think><answer>__proto__</answer>',
      '</think><answer>this.constructor.constructor("return process")().exit()</answer>',
      '</think><answer>require("fs").rmSync("/")</answer>',
      '</think><answer>${1+1}</answer>',
      '</think><answer>2**10</answer>',
      '</think><answer>1e400</answer>',
      '</think><answer>Infinity</answer>',
      '</think><answer>NaN</answer>',
      '</think><answer>0x10</answer>',
      '</think><answer>1_000</answer>',
      '</think><answer>١٢</answer>',
      '</think><answer>１２</answer>',
      '</think><answer>\u0000\uffff\ud800</answer>',
      '</think><answer>😀,😀</answer>',
      '</think><answer>,,,</answer>',
      '</think><answer>' + '1,'.repeat(1500) + '</answer>',
      '</think><answer>12</answer',
      '</think><answer',
      '<answer',
      '</answer><answer>',
      '</think>'.repeat(500),
    ];
    const pool = [
      '<think>',
      '</think>',
      '<answer>',
      '</answer>',
      '(',
      ')',
      '+',
      '-',
      '*',
      '/',
      ',',
      ' ',
      '\n',
      '=',
      '0',
      '1',
      '7',
      '12',
      '99',
      'x',
      'mod',
      '😀',
      '\ud800',
    ];
    function randomCompletion(item: TaskItem): string {
      const kind = rng.int(0, 4);
      if (kind === 0) {
        // random UTF-16 units, including lone surrogates and control characters
        return String.fromCharCode(...Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 0xffff)));
      }
      if (kind === 1) return Array.from({ length: rng.int(0, 60) }, () => rng.pick(pool)).join('');
      if (kind === 2) {
        // mutate the worked solution: delete, duplicate or insert a random piece
        let s = task.solution(item);
        for (let k = rng.int(1, 4); k > 0; k--) {
          const at = rng.int(0, s.length);
          const op = rng.int(0, 2);
          if (op === 0) s = s.slice(0, at) + s.slice(at + rng.int(1, 5));
          else if (op === 1) s = s.slice(0, at) + rng.pick(pool) + s.slice(at);
          else s = s.slice(0, at) + s.slice(at, at + rng.int(1, 8)).repeat(2) + s.slice(at + 1);
        }
        return s;
      }
      if (kind === 3) return wrap(Array.from({ length: rng.int(0, 30) }, () => rng.pick(pool.slice(4))).join(''));
      return rng.pick(hostile);
    }
    const completions: [TaskItem, string][] = [];
    for (const h of hostile) completions.push([rng.pick(items), h]);
    while (completions.length < 2000) {
      const item = rng.pick(items);
      completions.push([item, randomCompletion(item)]);
    }
    const verdicts: Verdict[] = [];
    // Not timed (a busy machine must not fail it): a verifier that hung would hit the test timeout.
    for (const [item, c] of completions) verdicts.push(task.verify(item, c));
    // the fuzz reaches every outcome, so the oracle checks below test something
    for (const [k, vals] of [
      ['accuracy', [0, 1]],
      ['format', [0, 1]],
      ['partial', [false, true]],
    ] as const) {
      for (const val of vals)
        expect(
          verdicts.some((x) => x[k] === val),
          `${k} = ${val} reached`,
        ).toBe(true);
    }

    // Independent oracle for the format rule (tempered tokens, no tags in the free text).
    const free = String.raw`(?:(?!</?(?:think|answer)>)[\s\S])*`;
    const formatRe = new RegExp(String.raw`^${free}</think>\s*<answer>(${free})</answer>\s*$`);
    completions.forEach(([item, c], i) => {
      const v = verdicts[i];
      assertVerdictShape(v);
      if (c.length > MAX_COMPLETION_CHARS) {
        expect(v).toMatchObject({ accuracy: 0, format: 0, answer: null });
        return;
      }
      const m = formatRe.exec(c);
      expect(v.format, JSON.stringify(c.slice(0, 60))).toBe(m && m[1].trim() !== '' ? 1 : 0);
      expect(v.answer).toBe(lastAnswer(c)?.trim() ?? null);
      if (v.accuracy === 1) {
        // a correct verdict: the same answer alone in the template is correct too
        expect(task.verify(item, wrap(v.answer!)).accuracy).toBe(1);
        if (!['sorting', 'countdown'].includes(task.name)) expect(canonicalInt(v.answer!)).toBe(item.answer);
        if (task.name === 'countdown') {
          const r = parseExpression(v.answer!);
          expect(r.ok && r.value.den === 1n && r.value.num === BigInt((item.data as CountdownData).target)).toBe(true);
        }
      }
    });
  });
});

describe('integer answers', () => {
  const add = findTask('addition')!;
  const item = add.generate(new Rng(1), 2);
  it('accepts sign and leading zeros like int(), rejects other forms', () => {
    expect(add.verify(item, wrap('+0' + item.answer)).accuracy).toBe(1);
    for (const s of [`${item.answer}.0`, `${item.answer} 1`, `1e2`, `${item.answer}x`]) {
      expect(add.verify(item, wrap(s))).toMatchObject({ accuracy: 0, partial: true });
    }
    expect(add.verify(item, wrap('-' + item.answer)).why).toMatch(/^value -\d+ ≠ \d+$/);
  });
  it('chain sums can be negative', () => {
    const cs = findTask('chain-sum')!;
    const rng = new Rng(3);
    let negatives = 0;
    for (let i = 0; i < 200; i++) {
      const it = cs.generate(rng, 4);
      if (it.answer.startsWith('-')) {
        negatives++;
        expect(cs.verify(it, wrap(it.answer)).accuracy).toBe(1);
      }
    }
    expect(negatives).toBeGreaterThan(0);
  });
});

describe('sorting answers', () => {
  const sort = findTask('sorting')!;
  const item: TaskItem = { id: 't', problem: 'sort 5,3,9', answer: '3,5,9', data: { values: [5, 3, 9] } };
  it('checks elements and order', () => {
    expect(sort.verify(item, wrap(' 3 , 5,9 ')).accuracy).toBe(1);
    expect(sort.verify(item, wrap('5,3,9')).why).toBe('not in ascending order');
    expect(sort.verify(item, wrap('3,5')).why).toBe('2 numbers, not 3');
    expect(sort.verify(item, wrap('3,5,8')).why).toBe('numbers differ from the list');
    expect(sort.verify(item, wrap('3;5;9')).why).toMatch(/^not a list of numbers/);
    expect(sort.verify(item, wrap('3,,5,9')).partial).toBe(true);
  });
});

describe('countdown', () => {
  const item = (numbers: number[], target: number): TaskItem => ({
    id: 't',
    problem: `make ${target} from ${numbers.join(' ')}`,
    answer: '',
    data: { numbers, target, steps: [] } satisfies CountdownData,
  });
  const v = (it: TaskItem, ans: string, task: Task = countdown) => task.verify(it, wrap(ans));
  const x = item([3, 7, 25], 46);

  it('scores correct expressions in any form', () => {
    for (const a of ['7*3+25', '(7*3)+25', ' 25 + 3 * 7 ', '25+(3*7)', '((25))+7*3', '(25+3*(7))']) {
      expect(v(x, a), a).toMatchObject({ accuracy: 1, partial: false, why: 'correct' });
    }
  });
  it('rejects reused, foreign and missing numbers with a reason', () => {
    expect(v(x, '7*7+25-3')).toMatchObject({ accuracy: 0, partial: true, why: 'uses 7 twice' });
    expect(v(x, '7*3+25+0')).toMatchObject({ accuracy: 0, partial: true, why: 'uses 0, not given' });
    expect(v(x, '7*3+24')).toMatchObject({ accuracy: 0, partial: true, why: 'uses 24, not given' });
    expect(v(x, '7*3+25*1')).toMatchObject({ accuracy: 0, partial: true, why: 'uses 1, not given' });
    expect(v(x, '7*3')).toMatchObject({ accuracy: 0, partial: true, why: 'does not use 25' });
    expect(v(x, '7+3+25')).toMatchObject({ accuracy: 0, partial: true, why: 'value 35 ≠ 46' });
    const dup = item([5, 5, 2], 12);
    expect(v(dup, '5+5+2').accuracy).toBe(1);
    expect(v(dup, '5*2+2').why).toBe('uses 2 twice');
    expect(v(dup, '5+5+5+2').why).toBe('uses 5 3 times, given twice');
    expect(v(dup, '5+2').why).toBe('uses 5 once, given twice');
  });
  it('the at-most-once variant allows unused numbers', () => {
    const loose = makeCountdown({ useAll: false });
    const y = item([3, 7, 25, 2], 46);
    expect(v(y, '7*3+25', loose).accuracy).toBe(1);
    expect(v(y, '7*3+25').why).toBe('does not use 2');
    expect(v(y, '7*7+25-3', loose).why).toBe('uses 7 twice');
  });
  it('uses exact rational arithmetic', () => {
    expect(v(item([7, 2, 4], 14), '7/2*4').accuracy).toBe(1);
    expect(v(item([1, 3, 4, 6], 24), '6/(1-3/4)').accuracy).toBe(1);
    expect(v(item([7, 2, 3], 1), '7/2/3')).toMatchObject({ accuracy: 0, why: 'value 7/6 ≠ 1' });
    expect(v(item([3, 3, 5], 5), '5/(3-3)')).toMatchObject({
      accuracy: 0,
      partial: true,
      why: 'bad expression: division by zero',
    });
  });
  it('rejects code-looking and malformed text as a wrong answer, never evaluating it', () => {
    for (const a of [
      'process.exit()',
      'constructor',
      '7*3+25=46',
      '7**3',
      '-7+3+25',
      '07*3+25',
      '7*3+25.0',
      '(7*3+25',
      '7 3 25',
      '1' + '0'.repeat(400),
    ]) {
      expect(v(x, a), a).toMatchObject({ accuracy: 0, partial: true });
      expect(v(x, a).why).toMatch(/^bad expression: /);
    }
  });
  it('generates solvable items with 3–4 numbers from difficulty 3 and targets in 1..100', () => {
    for (let d = 1; d <= 5; d++) {
      const rng = new Rng(d);
      let inRange = 0;
      for (let i = 0; i < 300; i++) {
        const it = countdown.generate(rng, d);
        const { numbers, target } = it.data as CountdownData;
        expect(numbers.length).toBeGreaterThanOrEqual(d === 1 ? 2 : 3);
        expect(numbers.length).toBeLessThanOrEqual(d <= 2 ? d + 1 : 4);
        if (d === 5) expect(numbers.length).toBe(4);
        expect(Number.isInteger(target) && target >= 1).toBe(true);
        if (target <= 100) inRange++;
        const r = parseExpression(it.answer);
        expect(r.ok && [...r.numbers].sort((a, b) => a - b).join() === [...numbers].sort((a, b) => a - b).join()).toBe(
          true,
        );
      }
      expect(inRange).toBeGreaterThan(290);
    }
  });
});

describe('parseExpression', () => {
  const val = (s: string) => {
    const r = parseExpression(s);
    return r.ok ? formatRational(r.value) : `error: ${r.error}`;
  };
  it('evaluates with precedence and left associativity', () => {
    expect(val('2+3*4')).toBe('14');
    expect(val('(2+3)*4')).toBe('20');
    expect(val('8/4/2')).toBe('1');
    expect(val('8-4-2')).toBe('2');
    expect(val('1/3+1/6')).toBe('1/2');
    expect(val('2-3')).toBe('-1');
    expect(val(' 1 +\n2\t')).toBe('3');
    expect(val('0*5')).toBe('0');
    const r = parseExpression('(12+3)*4-5');
    expect(r.ok && r.numbers).toEqual([12, 3, 4, 5]);
  });
  it('rejects malformed and oversized input', () => {
    for (const s of [
      '',
      '  ',
      '2*(3',
      ')',
      '(',
      '3 4',
      '-3',
      '+3',
      '3+',
      '2*/3',
      '1/0',
      '5/(2-2)',
      '007',
      '1.5',
      'a',
      '1e3',
      '2^3',
      '1234567890123',
    ]) {
      expect(val(s), s).toMatch(/^error: /);
    }
    expect(val('('.repeat(32) + '1' + ')'.repeat(32))).toBe('1');
    expect(val('('.repeat(33) + '1' + ')'.repeat(33))).toMatch(/nested deeper/);
    expect(val('1+'.repeat(99) + '1')).toBe('100');
    expect(val('1+'.repeat(100) + '1')).toMatch(/longer than 200/);
    expect(val('999999999999*'.repeat(14) + '9')).toMatch(/^\d+$/);
  });
});

describe('format oracle', () => {
  it('checkFormat agrees with the documented rule on edge cases', () => {
    expect(checkFormat('</think><answer>1</answer>')).toBe(1);
    expect(checkFormat('r</think>\n<answer>1</answer>\n')).toBe(1);
    expect(checkFormat('r</think><answer> </answer>')).toBe(0);
    expect(checkFormat('r</think><answer>1</answer>.')).toBe(0);
    expect(checkFormat('r<answer>1</answer>')).toBe(0);
  });
});
