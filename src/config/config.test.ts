import { describe, expect, it } from 'vitest';
import { ConfigError, FIELDS, applyOverrides, parseFieldValue, validateConfig } from '.';
import { PRESETS, findPreset } from './presets';

const micro = findPreset('micro-dense')!.config;

describe('config', () => {
  it('every preset validates', () => {
    for (const p of PRESETS) expect(() => validateConfig(p.config)).not.toThrow();
  });

  it('every field path resolves in the presets', () => {
    for (const f of FIELDS) {
      const [sec, key] = f.path.split('.');
      expect((micro as unknown as Record<string, Record<string, unknown>>)[sec][key], f.path).not.toBeUndefined();
    }
  });

  it('applies --set overrides with types', () => {
    const c = applyOverrides(micro, { 'optim.lr': '0.01', 'model.hidden_size': 32, 'optim.schedule': 'wsd' });
    expect(c.optim.lr).toBe(0.01);
    expect(c.model.hidden_size).toBe(32);
    expect(c.optim.schedule).toBe('wsd');
    expect(micro.optim.lr).toBe(3e-3); // preset untouched
  });

  it('names the field on bad input', () => {
    expect(() => parseFieldValue('optim.nope', '1')).toThrow(/unknown config path "optim.nope"/);
    expect(() => parseFieldValue('optim.lr', 'fast')).toThrow(/optim.lr: "fast" is not a number/);
    expect(() => parseFieldValue('model.hidden_size', '12.5')).toThrow(/model.hidden_size: 12.5 is not an integer/);
    expect(() => parseFieldValue('data.seq_len', '-3')).toThrow(/data.seq_len: -3 is out of range/);
    expect(() => parseFieldValue('optim.schedule', 'linear')).toThrow(/optim.schedule: "linear" is not one of/);
    expect(() => parseFieldValue('optim.lr', '')).toThrow(ConfigError);
  });

  it('checks cross-field rules', () => {
    expect(() => applyOverrides(micro, { 'model.num_attention_heads': 3 })).toThrow(
      /num_attention_heads: 3 does not divide model.hidden_size 64/,
    );
    expect(() => applyOverrides(micro, { 'model.num_key_value_heads': 3 })).toThrow(/num_key_value_heads/);
    expect(() => applyOverrides(micro, { 'data.corpus': 'text' })).toThrow(/data.text: empty/);
  });

  it('rejects unknown keys and wrong types in a whole config', () => {
    expect(() => validateConfig({ ...micro, extra: 1 })).toThrow(/invalid config/);
    expect(() => validateConfig({ ...micro, optim: { ...micro.optim, lr: 'x' } })).toThrow(/optim.lr/);
  });
});
