import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../config';
import { findPreset } from '../config';
import { SCHEMA_VERSION, configDiff, decodeLink, encodeLink } from './share';

describe('share links', () => {
  it('round-trips preset, seed, non-default values and hidden panels', () => {
    const state = {
      preset: 'micro-arith',
      seed: 42,
      set: { 'optim.lr': 0.002, 'optim.schedule': 'wsd', 'model.hidden_size': 96 },
      hide: ['runs' as const],
    };
    const link = encodeLink(state);
    expect(link).toBe(
      `v=${SCHEMA_VERSION}&preset=micro-arith&seed=42&model.hidden_size=96&optim.lr=0.002&optim.schedule=wsd&hide=runs`,
    );
    const d = decodeLink(`https://example.test/lab/#${link}`);
    expect(d.problems).toEqual([]);
    expect(d.state).toEqual(state);
  });

  it('configDiff lists only what differs from the preset', () => {
    const base = findPreset('micro-dense')!.config;
    const cfg = applyOverrides(base, { 'optim.lr': 0.01, 'train.steps': 50 });
    expect(configDiff(base, cfg)).toEqual({ 'optim.lr': 0.01, 'train.steps': 50 });
  });

  it('names each bad field, keeps the good ones, falls back for the bad', () => {
    const d = decodeLink(
      '#v=1&preset=micro-dense&seed=x&optim.lr=abc&optim.weight_decay=0.05&bogus=1&data.seq_len=-4&hide=runs,nope',
    );
    expect(d.state.set).toEqual({ 'optim.weight_decay': 0.05 });
    expect(d.state.seed).toBe(0);
    expect(d.state.hide).toEqual(['runs']);
    const text = d.problems.join('\n');
    expect(text).toMatch(/seed: "x" is not an integer/);
    expect(text).toMatch(/optim.lr: "abc" is not a number/);
    expect(text).toMatch(/bogus: unknown setting/);
    expect(text).toMatch(/data.seq_len: -4 is out of range/);
    expect(text).toMatch(/hide: unknown panel "nope"/);
  });

  it('drops values that break cross-field rules, naming them', () => {
    const d = decodeLink('v=1&preset=micro-dense&seed=1&model.num_attention_heads=3&optim.lr=0.01');
    expect(d.state.set).toEqual({ 'optim.lr': 0.01 });
    expect(d.problems.join()).toMatch(/model.num_attention_heads: 3 does not divide model.hidden_size/);
  });

  it('unknown preset and garbage never throw', () => {
    expect(decodeLink('#preset=huge&seed=1').problems.join()).toMatch(/preset: unknown preset "huge"/);
    for (const junk of ['', '#', '#&&&', '#=%', '#v=abc', '#%E0%A4%A', 'x'.repeat(5000)])
      expect(() => decodeLink(junk)).not.toThrow();
    expect(decodeLink('#%E0%A4%A=1&seed=%E0%A4%A').problems.join()).toMatch(/seed: value is not valid URL encoding/);
  });

  it('migrates version-0 links and says what changed', () => {
    const d = decodeLink('#v=0&preset=micro-dense&lr=0.004&steps=20');
    expect(d.state.set).toEqual({ 'optim.lr': 0.004, 'train.steps': 20 });
    expect(d.migrated).toEqual(['lr → optim.lr', 'steps → train.steps']);
    expect(d.problems).toEqual([]);
  });

  it('is strict: empty, preset-less, duplicate, reserved and non-decimal entries are problems', () => {
    for (const empty of ['', '#', '&&&&', '#&&&'])
      expect(decodeLink(empty).problems).toEqual([expect.stringMatching(/^link: empty/)]);
    expect(decodeLink('v=1&seed=3').problems).toEqual([expect.stringMatching(/^preset: missing; using v3-tiny/)]);
    const dup = decodeLink('v=1&preset=micro-dense&preset=micro-moe&optim.lr=0.01&optim.lr=0.02');
    expect(dup.state.preset).toBe('micro-dense');
    expect(dup.state.set['optim.lr']).toBe(0.01);
    expect(dup.problems).toEqual([
      'preset: given more than once; using the first value',
      'optim.lr: given more than once; using the first value',
    ]);
    const reserved = decodeLink('v=1&preset=micro-dense&__proto__=1&constructor=2');
    expect(reserved.problems).toEqual([
      '__proto__: reserved name, not a setting',
      'constructor: reserved name, not a setting',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const n of ['0x10', '0b101', '0o17', 'Infinity', '1_000'])
      expect(decodeLink(`v=1&preset=micro-dense&train.steps=${n}`).problems.join()).toMatch(
        new RegExp(`train.steps: "${n}" is not a number`),
      );
    expect(decodeLink('v=1&preset=micro-dense&optim.lr=2.5e-3').state.set['optim.lr']).toBe(0.0025);
  });

  it('carries live changes to replay (step, path, value) and names bad ones', () => {
    const live = [
      { step: 12, path: 'optim.lr', value: 0.002 },
      { step: 40, path: 'optim.lr', value: 0.0005 },
    ];
    const hash = encodeLink({ preset: 'micro-dense', seed: 3, set: {}, hide: [], live });
    expect(hash).toContain('live=12:optim.lr:0.002,40:optim.lr:0.0005');
    const back = decodeLink(hash);
    expect(back.problems).toEqual([]);
    expect(back.state.live).toEqual(live);
    expect(decodeLink('v=1&preset=micro-dense').state.live).toBeUndefined();
    const bad = decodeLink(
      'v=1&preset=micro-dense&live=0:optim.lr:1,5:model.hidden_size:8,7:nope:1,9:optim.lr:abc,3:optim.lr:0.01',
    );
    expect(bad.state.live).toEqual([{ step: 3, path: 'optim.lr', value: 0.01 }]);
    expect(bad.problems).toHaveLength(4);
    expect(bad.problems[0]).toMatch(/^live\[0\]: "0:optim.lr:1" is not STEP:PATH:VALUE/);
    expect(bad.problems[1]).toBe('live[1]: model.hidden_size cannot change during a run; not replayed');
    expect(bad.problems[2]).toBe('live[2]: unknown setting "nope"; not replayed');
    expect(bad.problems[3]).toMatch(/^live\[3\]: optim.lr: "abc" is not a number/);
  });
});
