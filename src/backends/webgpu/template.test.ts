// The WGSL template helpers: tagged lines (one tag, several, tags with spaces), binding numbers,
// names and sections.
import { describe, expect, it } from 'vitest';
import { dropTagged, instantiate, section } from './template';

describe('WGSL templates', () => {
  const text = [
    'a; // own // v4',
    'b; // own // v1',
    'c; // v1',
    'd; // product 2',
    'e; // k contiguous in memory',
    'f;',
  ].join('\n');

  it('drops a line for any of the one-word tags it ends in, and for a tag with spaces', () => {
    expect(dropTagged(text, ['v4'])).toBe(
      ['b; // own // v1', 'c; // v1', 'd; // product 2', 'e; // k contiguous in memory', 'f;'].join('\n'),
    );
    expect(dropTagged(text, ['own'])).toBe(
      ['c; // v1', 'd; // product 2', 'e; // k contiguous in memory', 'f;'].join('\n'),
    );
    expect(dropTagged(text, ['v1', 'product 2'])).toBe(
      ['a; // own // v4', 'e; // k contiguous in memory', 'f;'].join('\n'),
    );
    // Prose is not a tag, and a tag must be a whole last word.
    expect(dropTagged(text, ['memory', 'wn', '2'])).toBe(text);
  });

  it('numbers the bindings left after the drops, suffixes names and renames', () => {
    const t = [
      '@binding(#0) var<storage> X$: array<f32>; // own',
      '@binding(#1) var<storage> W$: array<f32>; // v1',
      '@binding(#1) var<storage> W$: array<vec4<f32>>; // v4',
      '@binding(#2) var<storage> Y$: array<f32>;',
      'fn f$() -> u32 { return P$.K + arrayLength(&X$); }',
    ].join('\n');
    expect(instantiate(t, { suffix: '_b', params: 'q.b', base: 5, drop: ['own', 'v1'], rename: { X_b: 'X_a' } })).toBe(
      [
        '@binding(5) var<storage> W_b: array<vec4<f32>>; // v4',
        '@binding(6) var<storage> Y_b: array<f32>;',
        'fn f_b() -> u32 { return q.b.K + arrayLength(&X_a); }',
      ].join('\n'),
    );
  });

  it('cuts sections, and names a missing one', () => {
    const s = 'head\n// ==== one\nA\n// ==== two\nB\n';
    expect(section(s, 'one')).toBe('A\n');
    expect(section(s, 'two')).toBe('B\n');
    expect(() => section(s, 'three')).toThrow('no shader section "three"');
  });
});
