import { describe, expect, it } from 'vitest';
import { findPreset } from '../lab/presets';
import { generateCorpus } from '../train/data/corpora';
import { BUILTIN_VOCAB, deriveFigures, distinctChars, estimateVocab } from './derived';

describe('derived figures', () => {
  it('the built-in vocab estimates match the generated corpora', () => {
    expect(distinctChars(generateCorpus('grammar', 50_000, 1))).toBe(BUILTIN_VOCAB.grammar);
    expect(distinctChars(generateCorpus('arith', 50_000, 1))).toBe(BUILTIN_VOCAB.arith);
  });

  it('counts code points, astral ones included', () => {
    expect(distinctChars('abcabc')).toBe(3);
    expect(distinctChars('a😀b😀😁')).toBe(4);
  });

  it('uses the known vocab for the same data, else an estimate', () => {
    const data = findPreset('micro-dense')!.config.data;
    expect(estimateVocab(data, { data, vocabSize: 30 }, () => 0)).toEqual({ size: 30, estimated: false });
    expect(estimateVocab(data, null, () => 0)).toEqual({ size: 27, estimated: true });
    expect(estimateVocab({ ...data, corpus: 'text', text: 'xyz' }, { data, vocabSize: 30 }, () => 3)).toEqual({ size: 3, estimated: true });
  });

  it('dense: active params = total params', () => {
    const f = deriveFigures(findPreset('micro-dense')!.config, { size: 27, estimated: true });
    expect(f.params).toBeGreaterThan(80_000);
    expect(f.activeParams).toBe(f.params);
    expect(f.kvBytesPerToken).toBe(2 * 2 * 64 * 4);
  });
});
