import { describe, expect, it } from 'vitest';
import { DISTILL_DEFAULTS, decodeDistillLink, encodeDistillLink } from './link';

describe('distill link', () => {
  it('round-trips', () => {
    const s = { teacher: 'r1', student: 'distill-vs-rl', seed: 42 };
    expect(decodeDistillLink(encodeDistillLink(s))).toEqual({ state: s, problems: [] });
  });
  it('names bad values and falls back to the defaults', () => {
    const d = decodeDistillLink('?view=distill&teacher=micro-dense&student=<script>&seed=-3');
    expect(d.state).toEqual(DISTILL_DEFAULTS);
    expect(d.problems).toHaveLength(3);
    expect(d.problems[0]).toMatch(/^teacher: "micro-dense" is not an RL preset/);
    expect(d.problems[2]).toMatch(/^seed: "-3"/);
  });
});
