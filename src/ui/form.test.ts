import { describe, expect, it } from 'vitest';
import { DEFAULT_FORM, MAX_SEED, parseRunForm } from './form';

const presets = ['micro-dense', 'micro-arith'];
const parse = (over: Partial<typeof DEFAULT_FORM>) => parseRunForm({ ...DEFAULT_FORM, ...over }, presets);

describe('parseRunForm', () => {
  it('accepts the defaults (blank steps = preset default)', () => {
    expect(parse({})).toEqual({ ok: true, options: { preset: 'micro-dense', seed: 0 } });
  });

  it('parses whole numbers, tolerating surrounding spaces', () => {
    expect(parse({ seed: ' 42 ', steps: '40' })).toEqual({ ok: true, options: { preset: 'micro-dense', seed: 42, steps: 40 } });
    expect(parse({ seed: String(MAX_SEED), steps: '1' }).ok).toBe(true);
  });

  it.each(['-3', '0', '2.5', '1e3', 'ten', '40x', '1000001'])('rejects steps = %j', (steps) => {
    const r = parse({ steps });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('steps');
  });

  it.each(['', '-1', '1.5', 'abc', String(MAX_SEED + 1)])('rejects seed = %j', (seed) => {
    const r = parse({ seed });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('seed');
  });

  it('rejects a preset the lab does not have, but allows any before presets load', () => {
    const r = parse({ preset: 'nope' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('preset');
    expect(parseRunForm({ ...DEFAULT_FORM, preset: 'nope' }, []).ok).toBe(true);
  });
});
