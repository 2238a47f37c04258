// Field builders for the run-config schema. Each builder returns the zod schema of one field and
// registers its metadata (kind and range, help text, live flag, plain-language label, basic or
// advanced group, and for a V3 / R1 knob a one-line note with the paper's section) in
// `fieldMeta`, so the schema is the only description of a field: types come from z.infer, the
// field list from walking it, the page's panels and the CLI's field list from the metadata.

import { z } from 'zod';

export type FieldKind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'float'; min: number; max: number }
  | { kind: 'enum'; options: readonly string[] }
  | { kind: 'bool' }
  | { kind: 'string'; maxLength: number };

/** The page's config panels; a field's panel follows its section unless the schema says otherwise. */
export type ConfigPanel = 'model' | 'precision' | 'optim' | 'data' | 'rl';

export interface FieldOptions {
  /** A plain-language name shown next to the config name ("MTP depth" for num_nextn_predict_layers). */
  label: string;
  /** Shown in its panel's basic group; every other field is under the panel's "Advanced" fold. */
  basic?: boolean;
  /** A V3 / R1 knob: what it does, in one line, ending with the paper's section ("· V3 §2.2"). */
  note?: string;
  /** Safe to change while a run is going (applies at the next step). */
  live?: boolean;
}

export type FieldMeta = FieldKind & { help: string; live: boolean; label: string; basic: boolean; note?: string };

/** A field of the schema with its dotted path (`section.key`) and panel. */
export type FieldSpec = FieldMeta & { path: string; panel: ConfigPanel };

export const fieldMeta = z.registry<FieldMeta>();

/** The metadata every field carries beside its kind. */
function common(help: string, o: FieldOptions) {
  return { help, live: !!o.live, label: o.label, basic: !!o.basic, ...(o.note ? { note: o.note } : {}) };
}

export function int(min: number, max: number, help: string, o: FieldOptions) {
  return z
    .number()
    .int()
    .min(min)
    .max(max)
    .register(fieldMeta, { kind: 'int', min, max, ...common(help, o) });
}

export function float(min: number, max: number, help: string, o: FieldOptions) {
  return z
    .number()
    .finite()
    .min(min)
    .max(max)
    .register(fieldMeta, { kind: 'float', min, max, ...common(help, o) });
}

export function choice<const T extends readonly [string, ...string[]]>(options: T, help: string, o: FieldOptions) {
  return z.enum(options).register(fieldMeta, { kind: 'enum', options, ...common(help, o) });
}

export function flag(help: string, o: FieldOptions) {
  return z.boolean().register(fieldMeta, { kind: 'bool', ...common(help, o) });
}

/**
 * A switch added after configs were first saved: a stored config without it reads `legacy`
 * (the behaviour it was made with); presets set it explicitly.
 */
export function newFlag(legacy: boolean, help: string, o: FieldOptions) {
  return z
    .boolean()
    .default(legacy)
    .register(fieldMeta, { kind: 'bool', ...common(help, o) });
}

/** A choice added after configs were first saved: a stored config without it reads `legacy`. */
export function newChoice<const T extends readonly [string, ...string[]]>(
  options: T,
  legacy: T[number],
  help: string,
  o: FieldOptions,
) {
  return z
    .enum(options)
    .default(legacy)
    .register(fieldMeta, { kind: 'enum', options, ...common(help, o) });
}

export function text(maxLength: number, help: string, o: FieldOptions) {
  return z
    .string()
    .max(maxLength)
    .register(fieldMeta, { kind: 'string', maxLength, ...common(help, o) });
}
