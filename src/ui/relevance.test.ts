import { describe, expect, it } from 'vitest';
import { FIELDS, findField } from '../config';
import { findPreset } from '../config';
import { draftFromConfig } from './draft';
import { dependsOn, splitByRelevance } from './relevance';

describe('relevance', () => {
  it('ties tagged fields to the enum option of the same name', () => {
    expect(dependsOn(findField('model.kv_lora_rank')!)).toEqual({ path: 'arch.attention', option: 'mla', tag: 'MLA' });
    expect(dependsOn(findField('optim.decay_fraction')!)).toMatchObject({ path: 'optim.schedule', option: 'wsd' });
    expect(dependsOn(findField('optim.lr')!)).toBeNull();
  });

  it('folds what the current config does not use, and shows it when switched on', () => {
    const draft = draftFromConfig(findPreset('micro-dense')!.config);
    const model = FIELDS.filter((f) => f.path.startsWith('model.'));
    const { shown, folded } = splitByRelevance(model, draft);
    expect(shown.some((f) => f.path === 'model.hidden_size')).toBe(true);
    expect(shown.some((f) => f.path === 'model.kv_lora_rank')).toBe(false);
    const mla = folded.find((g) => g.tag === 'MLA')!;
    expect(mla).toMatchObject({ path: 'arch.attention', option: 'mla', current: 'mha' });
    expect(shown.length + folded.reduce((n, g) => n + g.fields.length, 0)).toBe(model.length);
    const on = splitByRelevance(model, { ...draft, 'arch.attention': 'mla' });
    expect(on.shown.some((f) => f.path === 'model.kv_lora_rank')).toBe(true);
  });
});
