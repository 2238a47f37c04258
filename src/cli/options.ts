// Every command's option table, written once: each command parses its argv with its table, and
// joinValues (args.ts) joins `--opt value` for exactly the options these tables say take a value.

import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

const str = { type: 'string' } as const;
const many = { type: 'string', multiple: true } as const;
const json = { type: 'boolean', default: false } as const;
const backend = { type: 'string', default: 'webgpu' } as const;

export const TRAIN_OPTIONS = {
  preset: str,
  link: str,
  set: many,
  steps: str,
  seed: str,
  seeds: str,
  backend,
  save: str,
  from: str,
  resume: str,
  'stop-at': str,
  json,
} as const satisfies Options;

export const SAMPLE_OPTIONS = {
  preset: str,
  link: str,
  checkpoint: str,
  set: many,
  'train-steps': str,
  prompt: { type: 'string', default: '' },
  length: str,
  count: str,
  temperature: str,
  'top-k': str,
  'top-p': str,
  speculative: { type: 'boolean', default: false },
  compare: { type: 'boolean', default: false },
  seed: str,
  backend,
  json,
} as const satisfies Options;

export const GRPO_OPTIONS = {
  preset: str,
  set: many,
  steps: str,
  seed: str,
  seeds: str,
  from: str,
  backend,
  json,
} as const satisfies Options;

export const DISTILL_OPTIONS = {
  teacher: { type: 'string', default: 'grpo-micro' },
  student: { type: 'string', default: 'distill-vs-rl' },
  'set-teacher': many,
  set: many,
  seed: str,
  seeds: str,
  'sft-out': str,
  backend,
  json,
} as const satisfies Options;

export const CHECK_OPTIONS = { op: str, seed: str, json, cases: str } as const satisfies Options;

export const FP8_OPTIONS = {
  format: { type: 'string', default: 'e4m3' },
  encode: { type: 'boolean', default: false },
  decode: { type: 'boolean', default: false },
  accum: { type: 'boolean', default: false },
} as const satisfies Options;

export const EXPORT_OPTIONS = {
  preset: str,
  seed: str,
  set: many,
  checkpoint: str,
  out: str,
  dtype: { type: 'string', default: 'f32' },
  trainer: str,
} as const satisfies Options;

export const IMPORT_OPTIONS = { json } as const satisfies Options;

export const FINDINGS_OPTIONS = {
  only: str,
  seeds: str,
  quick: { type: 'boolean', default: false },
  markdown: { type: 'boolean', default: false },
  table: { type: 'string', multiple: true },
  backend,
  json,
} as const satisfies Options;

/** Each command's options (presets and fields take none). */
export const COMMAND_OPTIONS: Readonly<Record<string, Options>> = {
  train: TRAIN_OPTIONS,
  sample: SAMPLE_OPTIONS,
  grpo: GRPO_OPTIONS,
  distill: DISTILL_OPTIONS,
  check: CHECK_OPTIONS,
  fp8: FP8_OPTIONS,
  export: EXPORT_OPTIONS,
  import: IMPORT_OPTIONS,
  findings: FINDINGS_OPTIONS,
  presets: {},
  fields: {},
};

/** The `--name` of every option of `command` that takes a value (empty for an unknown command). */
export function valueOptions(command: string): Set<string> {
  const table = Object.hasOwn(COMMAND_OPTIONS, command) ? COMMAND_OPTIONS[command] : {};
  return new Set(
    Object.entries(table)
      .filter(([, o]) => o.type === 'string')
      .map(([name]) => `--${name}`),
  );
}
