import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STATE,
  FIELDS,
  decodePipelinesLink,
  encodePipelinesLink,
  isPipelinesSearch,
  normalize,
  withTimes,
  type PipelinesState,
} from './link';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pipelines share link', () => {
  it('encodes the defaults readably and marks the view', () => {
    const link = encodePipelinesLink(DEFAULT_STATE);
    expect(link).toBe('view=pipelines&v=1&pp=8&mb=20&f=1&b=2&w=1&fb=3&comm=0&overlap=1');
    expect(isPipelinesSearch(`?${link}`)).toBe(true);
    expect(isPipelinesSearch('')).toBe(false);
    expect(isPipelinesSearch('?view=lab')).toBe(false);
  });

  it('round-trips random valid states, through a full URL too', () => {
    const r = rng(3);
    const pick = (lo: number, hi: number, step: number) => lo + Math.round((r() * (hi - lo)) / step) * step;
    for (let i = 0; i < 300; i++) {
      const F = pick(0.1, 4, 0.05);
      const B = pick(0.1, 4, 0.05);
      const s: PipelinesState = normalize({
        pp: pick(2, 32, 2),
        mb: pick(1, 64, 1),
        F,
        B,
        W: B * 0.99 * r(),
        FB: Math.max(F, B) + r() * Math.min(F, B),
        comm: pick(0, 2, 0.05),
        overlap: r() < 0.5,
      });
      const link = encodePipelinesLink(s);
      const back = decodePipelinesLink(link);
      expect(back.problems).toEqual([]);
      expect(back.state).toEqual(s);
      expect(decodePipelinesLink(`https://example.org/v3lab/?${link}#v=1&preset=micro-dense`).state).toEqual(s);
    }
  });

  it('an empty or view-only link gives the defaults with no problems', () => {
    expect(decodePipelinesLink('')).toEqual({ state: DEFAULT_STATE, problems: [] });
    expect(decodePipelinesLink('?view=pipelines')).toEqual({ state: DEFAULT_STATE, problems: [] });
  });

  it('a malformed link names every bad field, falls back to its default, and keeps the good ones', () => {
    const { state, problems } = decodePipelinesLink(
      '?view=pipelines&v=1&pp=7&mb=abc&f=1.5&b=-2&comm=9&overlap=maybe&zz=1&fb',
    );
    expect(state).toEqual(normalize({ ...DEFAULT_STATE, F: 1.5 }));
    const text = problems.join('\n');
    expect(text).toContain('pp: "7" must be even');
    expect(text).toContain('mb: "abc" is not a number; using 20');
    expect(text).toContain('b: "-2" must be at least 0.1; using 2');
    expect(text).toContain('comm: "9" must be at most 2; using 0');
    expect(text).toContain('overlap: "maybe" must be 0 or 1');
    expect(text).toContain('zz: not a setting of the Pipelines view');
    expect(text).toContain('fb: has no value');
    expect(problems).toHaveLength(7);
  });

  it('reports broken relations between fields and repairs them', () => {
    const a = decodePipelinesLink('view=pipelines&b=1&w=1.5');
    expect(a.problems).toEqual([
      'w: 1.5 must be below b = 1 (W is part of the full backward); using 0.95',
      'fb: 3 must lie between max(F, B) = 1 and F + B = 2; using 2',
    ]);
    expect(a.state).toMatchObject({ B: 1, W: 0.95, FB: 2 });
    const b = decodePipelinesLink('view=pipelines&pp=2.5&v=9');
    expect(b.problems.join('\n')).toContain('pp: "2.5" must be a whole number');
    expect(b.problems.join('\n')).toContain('v: "9" is newer than this page');
    expect(decodePipelinesLink('view=pipelines&f=%E0%A4%A').problems).toEqual(['f: value is not valid URL encoding']);
  });

  it('moving F or B carries F&B along between perfect overlap and none', () => {
    const none = withTimes(DEFAULT_STATE, { F: 2 });
    expect(none).toMatchObject({ F: 2, B: 2, FB: 4 });
    const half = withTimes({ ...DEFAULT_STATE, F: 1, B: 2, FB: 2.5 }, { B: 3 });
    expect(half).toMatchObject({ B: 3, FB: 3.5 });
    const w = withTimes({ ...DEFAULT_STATE, W: 1.9 }, { B: 1 });
    expect(w.W).toBeCloseTo(1 - FIELDS.W.step, 9);
  });
});
