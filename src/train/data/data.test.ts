import { describe, expect, it } from 'vitest';
import { BatchSampler, splitTokens } from './batches';
import { generateCorpus, validateUserText } from './corpora';
import { CharTokenizer } from './tokenizer';

describe('data', () => {
  it('corpora are seeded', () => {
    for (const kind of ['grammar', 'arith'] as const) {
      expect(generateCorpus(kind, 2000, 5)).toBe(generateCorpus(kind, 2000, 5));
      expect(generateCorpus(kind, 2000, 5)).not.toBe(generateCorpus(kind, 2000, 6));
    }
  });

  it('arith lines are correct sums and differences', () => {
    for (const line of generateCorpus('arith', 5000, 1).trim().split('\n')) {
      const m = /^(\d+)([+-])(\d+)=(\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      const [a, op, b, c] = [Number(m![1]), m![2], Number(m![3]), Number(m![4])];
      expect(op === '+' ? a + b : a - b).toBe(c);
    }
  });

  it('tokenizer round-trips and rejects unknown characters', () => {
    const text = 'hello wörld 🙂\n';
    const tok = CharTokenizer.fromText(text);
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(() => tok.encode('z')).toThrow(/"z" is not in the vocabulary/);
  });

  it('batches are seeded windows with shifted targets', () => {
    const tokens = Int32Array.from({ length: 500 }, (_, i) => i);
    const a = new BatchSampler(tokens, 3, 8, 9).next();
    const b = new BatchSampler(tokens, 3, 8, 9).next();
    expect(a.inputs).toEqual(b.inputs);
    for (let i = 0; i < a.inputs.length; i++) expect(a.targets[i]).toBe(a.inputs[i] + 1);
    const { train, val } = splitTokens(tokens, 0.1);
    expect(train.length + val.length).toBe(500);
    expect(val[0]).toBe(450);
  });

  it('user text: clear errors for too short or too long', () => {
    expect(() => validateUserText('abc', 64, 0.1)).toThrow(/too short: 3 characters/);
    expect(() => validateUserText('x'.repeat(4_000_001), 64, 0.1)).toThrow(/limit is 4,000,000/);
    expect(() => validateUserText('ab'.repeat(2000), 64, 0.1)).not.toThrow();
  });
});
