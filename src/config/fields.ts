// Field builders for the run-config schema. Each builder returns the zod schema of one field and
// registers its metadata (kind and range, help text, live flag) in `fieldMeta`, so the schema is
// the only description of a field: types come from z.infer, the field list from walking it.

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
  /** Safe to change while a run is going (applies at the next step). */
  live?: boolean;
}

export type FieldMeta = FieldKind & { help: string; live: boolean };

/** A field of the schema with its dotted path (`section.key`) and panel. */
export type FieldSpec = FieldMeta & { path: string; panel: ConfigPanel };

export const fieldMeta = z.registry<FieldMeta>();

export function int(min: number, max: number, help: string, o: FieldOptions = {}) {
  return z.number().int().min(min).max(max).register(fieldMeta, { kind: 'int', min, max, help, live: !!o.live });
}

export function float(min: number, max: number, help: string, o: FieldOptions = {}) {
  return z.number().finite().min(min).max(max).register(fieldMeta, { kind: 'float', min, max, help, live: !!o.live });
}

export function choice<const T extends readonly [string, ...string[]]>(options: T, help: string, o: FieldOptions = {}) {
  return z.enum(options).register(fieldMeta, { kind: 'enum', options, help, live: !!o.live });
}

export function flag(help: string, o: FieldOptions = {}) {
  return z.boolean().register(fieldMeta, { kind: 'bool', help, live: !!o.live });
}

/**
 * A switch added after configs were first saved: a stored config without it reads `legacy`
 * (the behaviour it was made with); presets set it explicitly.
 */
export function newFlag(legacy: boolean, help: string, o: FieldOptions = {}) {
  return z.boolean().default(legacy).register(fieldMeta, { kind: 'bool', help, live: !!o.live });
}

export function text(maxLength: number, help: string, o: FieldOptions = {}) {
  return z.string().max(maxLength).register(fieldMeta, { kind: 'string', maxLength, help, live: !!o.live });
}
