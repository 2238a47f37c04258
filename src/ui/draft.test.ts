import { describe, expect, it } from 'vitest';
import { MAX_TEXT_CHARS } from '../config';
import { findPreset } from '../config';
import { draftDiff, draftFromConfig, draftWith, evaluateDraft, parseSeed } from './draft';

const base = findPreset('micro-dense')!.config;

describe('evaluateDraft', () => {
  it('turns a preset draft back into the same config', () => {
    const r = evaluateDraft(draftFromConfig(base));
    expect(r.errors).toEqual({});
    expect(r.config).toEqual(base);
  });

  it('marks each bad field with its reason, without the path prefix', () => {
    const r = evaluateDraft(
      draftWith(draftFromConfig(base), { 'optim.lr': 'abc', 'data.seq_len': '1', 'model.hidden_size': '2.5' }),
    );
    expect(r.config).toBeNull();
    expect(r.errors['optim.lr']).toBe('"abc" is not a number');
    expect(r.errors['data.seq_len']).toMatch(/out of range/);
    expect(r.errors['model.hidden_size']).toMatch(/not an integer/);
    expect(Object.keys(r.errors)).toHaveLength(3);
  });

  it('attributes cross-field rules to the field they name', () => {
    const r = evaluateDraft(draftWith(draftFromConfig(base), { 'model.num_attention_heads': 5 }));
    expect(r.config).toBeNull();
    expect(r.errors['model.num_attention_heads']).toMatch(/does not divide model.hidden_size/);
  });

  it('enforces the text size limit and needs a text for corpus "text"', () => {
    const empty = evaluateDraft(draftWith(draftFromConfig(base), { 'data.corpus': 'text' }));
    expect(empty.errors['data.text']).toMatch(/empty/);
    const big = evaluateDraft(
      draftWith(draftFromConfig(base), { 'data.corpus': 'text', 'data.text': 'a'.repeat(MAX_TEXT_CHARS + 1) }),
    );
    expect(big.errors['data.text']).toMatch(/the limit is 4,000,000/);
  });
});

describe('draftDiff', () => {
  it('lists only values that differ from the preset, skipping invalid ones and the text', () => {
    const d = draftWith(draftFromConfig(base), {
      'optim.lr': '0.002',
      'data.seq_len': 'x',
      'data.text': 'hello',
      'train.steps': '300',
    });
    expect(draftDiff(base, d)).toEqual({ 'optim.lr': 0.002 });
  });
});

describe('parseSeed', () => {
  it.each(['0', '42', ' 7 ', String(2 ** 32 - 1)])('accepts %j', (t) => expect('seed' in parseSeed(t)).toBe(true));
  it.each(['', '-1', '1.5', 'zz', String(2 ** 32)])('rejects %j', (t) => expect('error' in parseSeed(t)).toBe(true));
});
