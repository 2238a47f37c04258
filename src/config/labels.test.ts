// The page's config panels and the CLI read each field's plain-language label, group (basic or
// advanced) and, for a V3 / R1 knob, a one-line note with the paper's section from the schema.

import { describe, expect, it } from 'vitest';
import { type ConfigPanel, FIELDS, fieldGroups, panelFields } from '.';

const PANELS: ConfigPanel[] = ['model', 'precision', 'optim', 'data', 'rl'];

/** The knobs DeepSeek-V3 / R1 (and the GRPO papers they build on) set. */
const V3_KNOB = /^(MLA|MoE|MTP)\b/;
const RL_KNOBS = [
  'mode',
  'sft_steps',
  'grpo_steps',
  'lr',
  'prompts_per_step',
  'group_size',
  'max_new_tokens',
  'temperature',
  'reward',
  'accuracy_weight',
  'format_weight',
  'overlong_penalty',
  'overlong_cache',
  'advantage',
  'eps_low',
  'eps_high',
  'mu',
  'beta',
  'ref_reset_every',
  'loss_norm',
  'dynamic_sampling',
].map((k) => `rl.${k}`);
const isKnob = (f: (typeof FIELDS)[number]) =>
  V3_KNOB.test(f.help) || /^(arch|precision)\./.test(f.path) || RL_KNOBS.includes(f.path);

/** A note ends with its source: a section, equations, a table, an algorithm or the config file. */
const SOURCE = / · .*(§\d|eqs?\. \d|Table \d|Alg\. \d|Methods|config\.json)/;

describe('field labels, groups and notes', () => {
  it('every field has a plain-language label, unique within its panel', () => {
    for (const panel of PANELS) {
      const labels = panelFields(panel).map((f) => f.label.trim());
      for (const [i, l] of labels.entries()) expect(l.length, panelFields(panel)[i].path).toBeGreaterThan(1);
      expect(new Set(labels).size, panel).toBe(labels.length);
      for (const f of panelFields(panel)) {
        const name = f.path.slice(f.path.indexOf('.') + 1).replace(/_/g, ' ');
        expect(f.label.toLowerCase(), `${f.path}: a label says more than the name`).not.toBe(name);
      }
    }
  });

  it('every field is in exactly one group of exactly one panel', () => {
    const seen = new Map<string, number>();
    for (const panel of PANELS) {
      const fields = panelFields(panel);
      const { basic, advanced } = fieldGroups(fields);
      expect(basic.length, `${panel}: a panel shows something`).toBeGreaterThan(0);
      for (const f of [...basic, ...advanced]) seen.set(f.path, (seen.get(f.path) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(FIELDS.map((f) => f.path).sort());
    for (const [path, n] of seen) expect(n, path).toBe(1);
  });

  it('every V3 / R1 knob says what it does and where the paper says so', () => {
    const knobs = FIELDS.filter(isKnob);
    expect(knobs.length).toBeGreaterThan(40);
    for (const f of knobs) expect(f.note, f.path).toMatch(SOURCE);
    for (const f of FIELDS.filter((g) => g.note)) {
      expect(f.note, f.path).toMatch(SOURCE);
      expect(f.note!.length, `${f.path}: one line`).toBeLessThan(140);
    }
  });

  it('keeps the basic group to what a first run changes', () => {
    const basic = (p: string) => FIELDS.find((f) => f.path === p)!.basic;
    for (const p of ['model.hidden_size', 'model.num_hidden_layers', 'optim.lr', 'train.steps', 'train.mtp_lambda'])
      expect(basic(p), p).toBe(true);
    for (const p of ['model.rms_norm_eps', 'optim.eps', 'precision.promote_every', 'rl.pass_k'])
      expect(basic(p), p).toBe(false);
  });
});
