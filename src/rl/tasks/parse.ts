// A small recursive-descent parser and exact evaluator for Countdown answers. Text is never
// evaluated as code: the grammar below is all that is understood.
//
//   expr   := term   (('+' | '-') term)*
//   term   := factor (('*' | '/') factor)*
//   factor := integer | '(' expr ')'
//   integer: decimal digits, no sign, no leading zero (like Python 3), at most 12 digits
//
// Whitespace may appear between tokens. There is no unary minus: Countdown combines the given
// numbers with binary + − * / only. Arithmetic is exact over the rationals (bigint numerator
// and denominator, kept reduced with a positive denominator), so 7/2*4 = 14 exactly; division
// by zero makes the expression invalid. Work is bounded: input over 200 chars or parentheses
// nested deeper than 32 are rejected before evaluating anything deep (so at most ~100 literals
// of ≤ 12 digits: every intermediate stays a few thousand bits at worst).

export const MAX_EXPR_CHARS = 200;
export const MAX_EXPR_DEPTH = 32;
export const MAX_LITERAL_DIGITS = 12;

/** num/den in lowest terms, den > 0. */
export interface Rational {
  num: bigint;
  den: bigint;
}

export type ParseResult =
  | { ok: true; value: Rational /** integer literals in order of appearance */; numbers: number[] }
  | { ok: false; error: string };

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function rat(num: bigint, den: bigint): Rational {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

export function formatRational(r: Rational): string {
  return r.den === 1n ? r.num.toString() : `${r.num}/${r.den}`;
}

/** Thrown inside the parser only; parseExpression turns it into { ok: false }. */
class ExprError extends Error {}

class Parser {
  private pos = 0;
  private depth = 0;
  readonly numbers: number[] = [];

  constructor(private readonly s: string) {}

  private skipSpace(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos])) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.pos < this.s.length ? this.s[this.pos] : '';
  }

  private unexpected(): never {
    const c = this.peek();
    throw new ExprError(c === '' ? 'expression ends early' : `unexpected ${JSON.stringify(c)}`);
  }

  parseAll(): Rational {
    if (this.peek() === '') throw new ExprError('empty expression');
    const v = this.expr();
    if (this.peek() !== '') this.unexpected();
    return v;
  }

  private expr(): Rational {
    let v = this.term();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.pos++;
      const w = this.term();
      v =
        op === '+'
          ? rat(v.num * w.den + w.num * v.den, v.den * w.den)
          : rat(v.num * w.den - w.num * v.den, v.den * w.den);
    }
    return v;
  }

  private term(): Rational {
    let v = this.factor();
    for (let op = this.peek(); op === '*' || op === '/'; op = this.peek()) {
      this.pos++;
      const w = this.factor();
      if (op === '*') v = rat(v.num * w.num, v.den * w.den);
      else {
        if (w.num === 0n) throw new ExprError('division by zero');
        v = rat(v.num * w.den, v.den * w.num);
      }
    }
    return v;
  }

  private factor(): Rational {
    const c = this.peek();
    if (c === '(') {
      if (++this.depth > MAX_EXPR_DEPTH) throw new ExprError(`nested deeper than ${MAX_EXPR_DEPTH}`);
      this.pos++;
      const v = this.expr();
      if (this.peek() !== ')') this.unexpected();
      this.pos++;
      this.depth--;
      return v;
    }
    if (c >= '0' && c <= '9') {
      const start = this.pos;
      while (this.pos < this.s.length && this.s[this.pos] >= '0' && this.s[this.pos] <= '9') this.pos++;
      const lit = this.s.slice(start, this.pos);
      if (lit.length > MAX_LITERAL_DIGITS) throw new ExprError(`number longer than ${MAX_LITERAL_DIGITS} digits`);
      if (lit.length > 1 && lit[0] === '0') throw new ExprError(`leading zero in ${lit}`);
      this.numbers.push(Number(lit));
      return { num: BigInt(lit), den: 1n };
    }
    return this.unexpected();
  }
}

/** Parse and evaluate a Countdown expression exactly; never throws. */
export function parseExpression(text: string): ParseResult {
  if (typeof text !== 'string') return { ok: false, error: 'not a string' };
  if (text.length > MAX_EXPR_CHARS) return { ok: false, error: `longer than ${MAX_EXPR_CHARS} chars` };
  // Cheap pre-checks, so hostile input fails before any recursion.
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (depth > MAX_EXPR_DEPTH) return { ok: false, error: `nested deeper than ${MAX_EXPR_DEPTH}` };
    if (!/[0-9+\-*/()\s]/.test(ch)) return { ok: false, error: `unexpected ${JSON.stringify(ch)}` };
  }
  const p = new Parser(text);
  try {
    const value = p.parseAll();
    return { ok: true, value, numbers: p.numbers };
  } catch (e) {
    if (e instanceof ExprError) return { ok: false, error: e.message };
    return { ok: false, error: 'invalid expression' };
  }
}
