// The one dotted-path accessor of the run config ("optim.lr" → cfg.optim.lr). Paths are checked
// against the schema's field list; this is the only place that indexes a config by strings.

import { ConfigError } from './errors';
import { FIELDS, findField, type RunConfig } from './schema';

export type FieldValue = string | number | boolean;

type Sections = Record<string, Record<string, FieldValue>>;

function split(path: string): [string, string] {
  if (!findField(path))
    throw new ConfigError(`unknown config path "${path}" (known: ${FIELDS.map((x) => x.path).join(', ')})`);
  const dot = path.indexOf('.');
  return [path.slice(0, dot), path.slice(dot + 1)];
}

/** The value at a dotted path (undefined where a partial object lacks it). */
export function getPath(cfg: RunConfig, path: string): FieldValue {
  const [sec, key] = split(path);
  return (cfg as unknown as Sections)[sec]?.[key];
}

/** Set the value at a dotted path in place (no validation: validateConfig the result). */
export function setPath(cfg: RunConfig, path: string, value: FieldValue): void {
  const [sec, key] = split(path);
  const c = cfg as unknown as Sections;
  c[sec] ??= {};
  c[sec][key] = value;
}

/** A copy of cfg with one path changed (not validated). */
export function withPath(cfg: RunConfig, path: string, value: FieldValue): RunConfig {
  const next = structuredClone(cfg);
  setPath(next, path, value);
  return next;
}
