// Share links: the URL hash is the experiment. Format (readable, hand-editable):
//   #v=1&preset=micro-dense&seed=7&optim.lr=0.002&model.hidden_size=96&hide=runs,samples
// - v: schema version (SCHEMA_VERSION now). Older versions are migrated (see MIGRATIONS).
// - preset, seed: always present in links we write.
// - every other key is a config path (FIELDS) holding a value that differs from the preset.
// - hide: panels to hide (embed mode), from HIDEABLE_PANELS.
// - live: live changes to replay, `STEP:PATH:VALUE` joined by commas (the value URL-encoded), e.g.
//   live=120:optim.lr:0.001 — a link made from a run carries the config the run *started* with
//   plus these, so opening it and pressing Start reproduces the run.
// Decoding never throws: each bad entry is dropped (so the preset's default stands) and
// reported as a problem that names the field; the page shows the problems in a banner, the CLI
// refuses a link with any. An empty link, a link without a preset, a key given twice and a
// reserved key (__proto__, constructor, prototype) are problems too. data.text is never put in
// a link (too big).

import {
  applyOverrides,
  FIELDS,
  findField,
  findPreset,
  getPath,
  PRESETS,
  parseFieldValue,
  type RunConfig,
} from '../config';

/** Keys that name object internals: never read as settings. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const SCHEMA_VERSION = 1;

export const HIDEABLE_PANELS = [
  'header',
  'presets',
  'model',
  'precision',
  'optim',
  'data',
  'charts',
  'moe',
  'samples',
  'attention',
  'runs',
  'controls',
] as const;
export type HideablePanel = (typeof HIDEABLE_PANELS)[number];

export interface LinkState {
  preset: string;
  seed: number;
  /** Non-default config values, by path. */
  set: Record<string, string | number | boolean>;
  hide: HideablePanel[];
  /** Live changes to replay at their steps (absent or empty: none). */
  live?: LiveChangeEntry[];
}

/** A live change as a link carries it (the lab's LiveChange). */
export interface LiveChangeEntry {
  step: number;
  path: string;
  value: string | number | boolean;
}

export interface DecodedLink {
  state: LinkState;
  /** One message per problem, each naming the field, e.g. 'optim.lr: "abc" is not a number'. */
  problems: string[];
  /** Entries dropped or renamed while migrating an older schema. */
  migrated: string[];
}

/** The lab opens on the browser-sized V3 (MLA + DeepSeekMoE + MTP); links always name their preset. */
export const DEFAULT_PRESET = 'v3-tiny';

/** Path renames/removals per old version: MIGRATIONS[v] turns a v link's params into v+1. */
const MIGRATIONS: Record<number, (params: Map<string, string>, notes: string[]) => void> = {
  // v0: the pre-release links used `lr` and `steps` as top-level keys.
  0: (params, notes) => {
    for (const [from, to] of [
      ['lr', 'optim.lr'],
      ['steps', 'train.steps'],
    ] as const) {
      const v = params.get(from);
      if (v !== undefined) {
        params.delete(from);
        params.set(to, v);
        notes.push(`${from} → ${to}`);
      }
    }
  },
};

/** Values of `cfg` that differ from the preset's, by path (data.text excluded). */
export function configDiff(base: RunConfig, cfg: RunConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const f of FIELDS) {
    if (f.path === 'data.text') continue;
    const a = getPath(base, f.path);
    const b = getPath(cfg, f.path);
    if (a !== b) out[f.path] = b;
  }
  return out;
}

function encodeValue(v: string | number | boolean): string {
  return typeof v === 'string' ? encodeURIComponent(v) : String(v);
}

export function encodeLink(state: LinkState): string {
  const parts = [`v=${SCHEMA_VERSION}`, `preset=${encodeURIComponent(state.preset)}`, `seed=${state.seed}`];
  for (const f of FIELDS) {
    const v = state.set[f.path];
    if (v !== undefined && f.path !== 'data.text') parts.push(`${f.path}=${encodeValue(v)}`);
  }
  if (state.hide.length) parts.push(`hide=${state.hide.join(',')}`);
  if (state.live?.length)
    // Values encoded twice: the whole parameter is decoded once like any other, then each value.
    parts.push(
      `live=${state.live.map((c) => `${c.step}:${c.path}:${encodeURIComponent(encodeURIComponent(String(c.value)))}`).join(',')}`,
    );
  return parts.join('&');
}

/** The `live=` list: each entry's step, a live field's path and its value, or a problem naming the entry. */
function decodeLive(raw: string, problems: string[]): LiveChangeEntry[] {
  const out: LiveChangeEntry[] = [];
  raw
    .split(',')
    .filter(Boolean)
    .forEach((entry, i) => {
      const m = /^(\d+):([^:]+):(.*)$/.exec(entry);
      const f = m ? findField(m[2]) : undefined;
      const step = m ? Number(m[1]) : NaN;
      if (!m || !Number.isSafeInteger(step) || step < 1) {
        problems.push(`live[${i}]: "${entry}" is not STEP:PATH:VALUE with a step ≥ 1; not replayed`);
      } else if (!f) {
        problems.push(`live[${i}]: unknown setting "${m[2]}"; not replayed`);
      } else if (!f.live) {
        problems.push(`live[${i}]: ${m[2]} cannot change during a run; not replayed`);
      } else {
        try {
          out.push({ step, path: m[2], value: parseFieldValue(m[2], decodeURIComponent(m[3])) });
        } catch (e) {
          problems.push(`live[${i}]: ${(e as Error).message}; not replayed`);
        }
      }
    });
  return out.sort((a, b) => a.step - b.step);
}

/** Accepts a full URL, a '#…' hash, or the bare 'v=1&…' string. */
export function decodeLink(input: string): DecodedLink {
  const problems: string[] = [];
  const migrated: string[] = [];
  let hash = input.trim();
  const h = hash.indexOf('#');
  if (h >= 0) hash = hash.slice(h + 1);
  const params = new Map<string, string>();
  for (const part of hash.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    let value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      problems.push(`${key}: value is not valid URL encoding`);
      continue;
    }
    if (eq < 0) {
      problems.push(`${key}: has no value (expected ${key}=…)`);
      continue;
    }
    if (RESERVED_KEYS.has(key)) {
      problems.push(`${key}: reserved name, not a setting`);
      continue;
    }
    if (params.has(key)) {
      problems.push(`${key}: given more than once; using the first value`);
      continue;
    }
    params.set(key, value);
  }
  if (!params.size && !problems.length) problems.push('link: empty (expected v=1&preset=NAME&seed=N&…)');

  let version = SCHEMA_VERSION;
  const vRaw = params.get('v');
  params.delete('v');
  if (vRaw === undefined) {
    if (params.size) problems.push(`v: missing schema version; read as version ${SCHEMA_VERSION}`);
  } else if (!/^\d+$/.test(vRaw)) {
    problems.push(`v: "${vRaw}" is not a schema version; read as version ${SCHEMA_VERSION}`);
  } else if (Number(vRaw) > SCHEMA_VERSION) {
    problems.push(`v: version ${vRaw} is newer than this lab (${SCHEMA_VERSION}); reading what it can`);
  } else {
    version = Number(vRaw);
  }
  for (let v = version; v < SCHEMA_VERSION; v++) MIGRATIONS[v]?.(params, migrated);

  let preset = DEFAULT_PRESET;
  const p = params.get('preset');
  params.delete('preset');
  if (p === undefined) {
    if (params.size) problems.push(`preset: missing; using ${DEFAULT_PRESET}`);
  } else {
    if (findPreset(p)) preset = p;
    else
      problems.push(
        `preset: unknown preset "${p}" (available: ${PRESETS.map((x) => x.name).join(', ')}); using ${DEFAULT_PRESET}`,
      );
  }

  let seed = 0;
  const s = params.get('seed');
  params.delete('seed');
  if (s !== undefined) {
    const n = Number(s);
    if (/^\d+$/.test(s) && Number.isSafeInteger(n) && n <= 2 ** 32 - 1) seed = n;
    else problems.push(`seed: "${s}" is not an integer in [0, 2^32); using 0`);
  }

  const hide: HideablePanel[] = [];
  const hideRaw = params.get('hide');
  params.delete('hide');
  if (hideRaw !== undefined) {
    for (const name of hideRaw.split(',').filter(Boolean)) {
      if ((HIDEABLE_PANELS as readonly string[]).includes(name)) hide.push(name as HideablePanel);
      else problems.push(`hide: unknown panel "${name}" (panels: ${HIDEABLE_PANELS.join(', ')})`);
    }
  }

  const liveRaw = params.get('live');
  params.delete('live');
  const live = liveRaw === undefined ? [] : decodeLive(liveRaw, problems);

  const set: Record<string, string | number | boolean> = {};
  for (const [key, raw] of params) {
    if (key === 'data.text') {
      problems.push('data.text: text corpora are not carried in links; choose or upload the text again');
      continue;
    }
    if (!findField(key)) {
      problems.push(`${key}: unknown setting, ignored`);
      continue;
    }
    try {
      set[key] = parseFieldValue(key, raw);
    } catch (e) {
      problems.push(`${(e as Error).message}; using the preset's value`);
    }
  }
  // Cross-field rules (e.g. heads must divide the width): drop the linked values they name.
  const base = findPreset(preset)!.config;
  for (let guard = 0; guard < FIELDS.length; guard++) {
    try {
      applyOverrides(base, set);
      break;
    } catch (e) {
      const msg = (e as Error).message.replace(/^invalid config: /, '');
      const named = Object.keys(set).filter((k) => msg.includes(k));
      if (!named.length) {
        problems.push(`${msg}; using the preset's values`);
        for (const k of Object.keys(set)) delete set[k];
        break;
      }
      problems.push(`${msg}; using the preset's value for ${named.join(', ')}`);
      for (const k of named) delete set[k];
    }
  }
  return { state: { preset, seed, set, hide, ...(live.length ? { live } : {}) }, problems, migrated };
}
