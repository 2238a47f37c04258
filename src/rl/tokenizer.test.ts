import { describe, expect, it } from 'vitest';
import { taskVocabulary } from './corpus';
import { findTask } from './tasks';
import { TaggedTokenizer } from './tokenizer';

describe('TaggedTokenizer', () => {
  const tok = new TaggedTokenizer(Array.from(taskVocabulary(findTask('addition')!)));
  it('makes each tag one token and round-trips text with the tags spelled out', () => {
    const text = 'Q:7+4\nA:<think>7+4=11</think><answer>11</answer>';
    const ids = tok.encode(text);
    expect(ids.length).toBe(Array.from(text).length - (7 + 8 + 8 + 9) + 4); // the four tags' 32 characters are 4 tokens
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode(tok.encode('</answer>'))).toBe('</answer>');
    expect(tok.encode('</answer>')).toHaveLength(1);
  });
  it('names characters outside the vocabulary, not the tags', () => {
    expect(tok.unknown('<think>7+Z</think>?')).toEqual(['Z', '?']);
    expect(() => tok.encode('<b>')).toThrow(/character "<" is not in the vocabulary/);
  });
});
