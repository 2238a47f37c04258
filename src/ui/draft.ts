// The config being edited: raw text per field (as typed), and its evaluation into a validated
// RunConfig. Every field is parsed on its own (so each bad value is marked on its own field), then
// the whole config is checked for cross-field rules (heads divide the width, …), whose messages
// are attributed to the field they name. Nothing here touches the DOM or the worker.

import {
  ConfigError,
  FIELDS,
  type FieldValue,
  findField,
  getPath,
  MAX_TEXT_CHARS,
  parseFieldValue,
  type RunConfig,
  setPath,
  validateConfig,
} from '../config';
import { configDiff } from '../lab/share';

/** Raw text per config path (data.text included). */
export type Draft = Record<string, string>;

export const SEED_MAX = 2 ** 32 - 1;

export function formatValue(v: FieldValue): string {
  return String(v);
}

export function draftFromConfig(cfg: RunConfig): Draft {
  const d: Draft = {};
  for (const f of FIELDS) d[f.path] = formatValue(getPath(cfg, f.path));
  return d;
}

export interface DraftEval {
  /** The validated config, or null while any field is invalid. */
  config: RunConfig | null;
  /** Reason per path for each invalid field (without the path prefix). */
  errors: Record<string, string>;
}

/** Drop a leading "path: " from a message that is shown next to that path's field. */
function reasonOnly(path: string, msg: string): string {
  return msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg;
}

const PATH_PREFIX = /^([a-z_]+\.[a-z_0-9]+): (.*)$/s;

export function evaluateDraft(draft: Draft): DraftEval {
  const errors: Record<string, string> = {};
  // Filled field by field; validateConfig checks the whole before it is used as a RunConfig.
  const out = {} as RunConfig;
  for (const f of FIELDS) {
    const raw = draft[f.path] ?? '';
    if (f.path === 'data.text') {
      if (raw.length > MAX_TEXT_CHARS) {
        errors[f.path] =
          `${raw.length.toLocaleString('en-US')} characters; the limit is ${MAX_TEXT_CHARS.toLocaleString('en-US')}`;
      }
      setPath(out, f.path, raw);
      continue;
    }
    try {
      setPath(out, f.path, parseFieldValue(f.path, raw));
    } catch (e) {
      errors[f.path] = reasonOnly(f.path, e instanceof ConfigError ? e.message : String(e));
    }
  }
  if (Object.keys(errors).length) return { config: null, errors };
  try {
    return { config: validateConfig(out), errors };
  } catch (e) {
    const msg = (e as Error).message.replace(/^invalid config: /, '');
    for (const part of msg.split('; ')) {
      const m = PATH_PREFIX.exec(part);
      if (m && findField(m[1])) errors[m[1]] = errors[m[1]] ? `${errors[m[1]]}; ${m[2]}` : m[2];
      else errors.config = errors.config ? `${errors.config}; ${part}` : part;
    }
    return { config: null, errors };
  }
}

/** Seed text → number, or an error message. */
export function parseSeed(text: string): { seed: number } | { error: string } {
  const t = text.trim();
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)) || Number(t) > SEED_MAX) {
    return { error: `"${text}" is not a whole number from 0 to ${SEED_MAX}` };
  }
  return { seed: Number(t) };
}

/**
 * The draft's values that differ from the preset, for the share link. Fields that do not parse
 * are left out (the link then carries the preset's value for them); data.text never goes in.
 */
export function draftDiff(preset: RunConfig, draft: Draft): Record<string, FieldValue> {
  const merged = structuredClone(preset);
  for (const f of FIELDS) {
    if (f.path === 'data.text') continue;
    try {
      setPath(merged, f.path, parseFieldValue(f.path, draft[f.path] ?? ''));
    } catch {
      // invalid: keep the preset's value
    }
  }
  return configDiff(preset, merged);
}

/** Apply dotted-path values onto a draft (link or preset load). */
export function draftWith(base: Draft, set: Record<string, FieldValue>): Draft {
  const d = { ...base };
  for (const [k, v] of Object.entries(set)) d[k] = formatValue(v);
  return d;
}
