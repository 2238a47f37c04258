// The run form: raw text as typed, and its validation into RunOptions. Nothing starts unless
// every field parses; the first bad field is reported with a message a user can act on.

import type { RunOptions } from '../lab/api';

export interface RunForm {
  preset: string;
  seed: string;
  /** Blank means the preset's default number of steps. */
  steps: string;
}

export type FormField = keyof RunForm;

export interface FormError {
  field: FormField;
  message: string;
}

export const DEFAULT_PRESET = 'micro-dense';
export const DEFAULT_FORM: RunForm = { preset: DEFAULT_PRESET, seed: '0', steps: '' };

export const MAX_SEED = 0xffffffff;
export const MAX_STEPS = 1_000_000;

/** A whole number written in decimal (optional sign), or null. "1e3", "2.0" and "" are not. */
function parseInteger(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseRunForm(
  form: RunForm,
  presetNames: readonly string[],
): { ok: true; options: RunOptions } | { ok: false; error: FormError } {
  const bad = (field: FormField, message: string) => ({ ok: false as const, error: { field, message } });

  if (presetNames.length > 0 && !presetNames.includes(form.preset)) {
    return bad('preset', `Unknown preset "${form.preset}". Choose one from the list.`);
  }

  const seed = parseInteger(form.seed);
  if (seed === null || seed < 0 || seed > MAX_SEED) {
    return bad('seed', `Seed must be a whole number from 0 to ${MAX_SEED} (got "${form.seed.trim()}").`);
  }

  const options: RunOptions = { preset: form.preset, seed };
  if (form.steps.trim() !== '') {
    const steps = parseInteger(form.steps);
    if (steps === null || steps < 1) {
      return bad('steps', `Steps must be a whole number of at least 1 (got "${form.steps.trim()}").`);
    }
    if (steps > MAX_STEPS) return bad('steps', `Steps must be at most ${MAX_STEPS.toLocaleString('en-US')}.`);
    options.steps = steps;
  }
  return { ok: true, options };
}
