// The Findings view's link and its cache key.
import { describe, expect, it } from 'vitest';
import { cacheKey, configKey, hashText } from './cache';
import { decodeFindingsLink, encodeFindingsLink, FINDINGS_DEFAULTS } from './link';

describe('findings link', () => {
  it('round-trips a card with its seeds and size; defaults are left out', () => {
    const s = { finding: 'mla', seeds: 5, quick: true };
    expect(encodeFindingsLink(s)).toBe('?view=findings&finding=mla&seeds=5&quick=1');
    expect(decodeFindingsLink(encodeFindingsLink(s))).toEqual({ state: s, problems: [] });
    expect(encodeFindingsLink(FINDINGS_DEFAULTS)).toBe('?view=findings');
  });

  it('names each bad value and falls back to its default', () => {
    const d = decodeFindingsLink('?view=findings&finding=nope&seeds=0&quick=yes');
    expect(d.state).toEqual(FINDINGS_DEFAULTS);
    expect(d.problems).toHaveLength(3);
    expect(d.problems[0]).toMatch(/finding: "nope"/);
    expect(d.problems[1]).toMatch(/seeds: "0"/);
    expect(d.problems[2]).toMatch(/quick: "yes"/);
  });
});

describe('findings cache key', () => {
  it('changes with the size, the seeds and the adapter; stable otherwise', () => {
    expect(hashText('abc')).toBe(hashText('abc'));
    expect(hashText('abc')).not.toBe(hashText('abd'));
    expect(configKey('fp8', true)).toBe(configKey('fp8', true));
    expect(configKey('fp8', true)).not.toBe(configKey('fp8', false));
    expect(configKey('fp8', true)).not.toBe(configKey('mla', true));
    const c = configKey('fp8', true);
    expect(cacheKey('fp8', c, [1, 2], 'a')).not.toBe(cacheKey('fp8', c, [1, 2, 3], 'a'));
    expect(cacheKey('fp8', c, [1, 2], 'a')).not.toBe(cacheKey('fp8', c, [1, 2], 'b'));
  });
});
