// Run records and their JSON export/import: everything about a run except its weights (config,
// seed, metrics, live changes, samples). Weights travel separately as safetensors
// (train/checkpoint.ts). Import is strict: a file that does not describe a run exactly is refused
// with a RunFileError whose message names the field, e.g. `metrics[3].loss: expected number`.

import { z } from 'zod';
import type { LiveChange, StepMetrics } from './api';
import { ConfigError, canonicalConfig, validateConfig, type RunConfig } from '../config';

export interface RunRecord {
  id: string;
  name: string;
  createdAt: number;
  preset: string;
  seed: number;
  config: RunConfig;
  metrics: StepMetrics[];
  changes: LiveChange[];
  samples: Array<{ step: number; temperature: number; text: string }>;
  status: 'running' | 'paused' | 'done' | 'stopped' | 'failed';
  adapter: string;
  backend: 'webgpu' | 'cpu';
  /**
   * Page only, never in run files: the step of the checkpoint this browser keeps for the run
   * (a reload can resume from it).
   */
  checkpointStep?: number;
}

export class RunFileError extends Error {
  override name = 'RunFileError';
}

export const RUN_FILE_FORMAT = 'v3lab-run';
export const RUN_FILE_VERSION = 1;
/** Largest run file accepted, in characters of text (a 100k-step run is about 12 MB). */
export const MAX_RUN_FILE_CHARS = 50_000_000;

// JSON has no NaN or infinities, and a diverged run has them in its metrics. They are written as
// the strings "NaN", "Infinity" and "-Infinity" and read back as numbers, in metric fields only.
const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function fromSpecial(v: unknown): unknown {
  return typeof v === 'string' && Object.hasOwn(SPECIAL, v) ? SPECIAL[v] : v;
}

/** A metric value: any number, non-finite ones included (in their string spelling). */
const metricNumber = z.preprocess(
  fromSpecial,
  z.custom<number>((v) => typeof v === 'number', { message: 'expected number (or "NaN", "Infinity", "-Infinity")' }),
);

/** Same, or null (a step without a validation loss). */
const metricNumberOrNull = z.preprocess(
  fromSpecial,
  z.custom<number | null>((v) => v === null || typeof v === 'number', {
    message: 'expected number or null (or "NaN", "Infinity", "-Infinity")',
  }),
);

const step = z.number().int().min(0);

const stepMetricsSchema = z.strictObject({
  step,
  loss: metricNumber,
  val_loss: metricNumberOrNull,
  lr: metricNumber,
  grad_norm: metricNumber,
  tokens_per_s: metricNumber,
  // MoE and MTP runs only.
  aux_loss: metricNumber.optional(),
  mtp_loss: metricNumber.optional(),
  max_vio: metricNumber.optional(),
  max_vio_layers: z.array(metricNumber).optional(),
  expert_load: z.array(z.array(z.number())).optional(),
  router_bias: z.array(z.array(metricNumber)).optional(),
  // RL pipeline runs only.
  stage: z.enum(['pretrain', 'sft', 'grpo']).optional(),
  reward: metricNumber.optional(),
  accuracy: metricNumber.optional(),
  format_rate: metricNumber.optional(),
  response_len: metricNumber.optional(),
  kl: metricNumber.optional(),
  clip_frac: metricNumber.optional(),
  entropy: metricNumber.optional(),
  adv_std: metricNumber.optional(),
  groups_kept: metricNumber.optional(),
  rollout_tokens_per_s: metricNumber.optional(),
  heldout_greedy: metricNumber.optional(),
  heldout_pass_k: metricNumber.optional(),
  rollout: z
    .strictObject({
      prompt: z.string().max(10_000),
      completions: z
        .array(
          z.strictObject({
            text: z.string().max(100_000),
            reward: metricNumber,
            advantage: metricNumber,
            accuracy: metricNumber,
            format: metricNumber,
            why: z.string().max(1000),
          }),
        )
        .max(256),
    })
    .optional(),
});

const liveChangeSchema = z.strictObject({
  step,
  path: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()]),
});

const sampleSchema = z.strictObject({
  step,
  temperature: z.number().min(0),
  text: z.string(),
});

/** The record minus its config, which validateConfig checks (with its cross-field rules). */
const runRecordSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  createdAt: z.number().min(0),
  preset: z.string().min(1),
  seed: z.number().int(),
  config: z.looseObject({}),
  metrics: z.array(stepMetricsSchema),
  changes: z.array(liveChangeSchema),
  samples: z.array(sampleSchema),
  status: z.enum(['running', 'paused', 'done', 'stopped', 'failed']),
  adapter: z.string(),
  backend: z.enum(['webgpu', 'cpu']),
});

/** The record's keys in file order. */
const RECORD_KEYS = Object.keys(runRecordSchema.shape) as Array<keyof RunRecord>;

/**
 * The run as a JSON document: `format` and `version` first, then the record's fields. Arrays
 * put one entry per line, so a file is small and still readable and diffable.
 */
export function exportRunJson(run: RunRecord): string {
  const s = (v: unknown) => JSON.stringify(v, jsonReplacer) ?? 'null';
  const lines = [`  "format": ${s(RUN_FILE_FORMAT)}`, `  "version": ${RUN_FILE_VERSION}`];
  for (const key of RECORD_KEYS) {
    const v: unknown = key === 'config' ? canonicalConfig(run.config) : run[key];
    const body = Array.isArray(v) && v.length > 0 ? `[\n${v.map((x) => `    ${s(x)}`).join(',\n')}\n  ]` : s(v);
    lines.push(`  ${s(key)}: ${body}`);
  }
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** `metrics[3].loss` from ['metrics', 3, 'loss']. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = fieldPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${fieldPath([...issue.path, k])}: unknown field`);
    case 'invalid_type': {
      const msg = issue.message.replace(/^Invalid input: /, '');
      if (/received undefined$/.test(msg)) return [`${at}: missing (expected ${issue.expected})`];
      return [`${at}: ${msg}`];
    }
    case 'invalid_union': {
      // "expected string or number": what each alternative wanted at this very field.
      const wanted = issue.errors
        .map((branch) => branch.find((i) => i.path.length === 0))
        .map((i) => (i?.code === 'invalid_type' ? i.expected : i?.message.replace(/^expected /, '')))
        .filter((x): x is NonNullable<typeof x> => x !== undefined);
      return [`${at}: ${wanted.length ? `expected ${wanted.join(' or ')}` : issue.message}`];
    }
    default:
      return [`${at || '(file)'}: ${issue.message}`];
  }
}

function fail(problems: string[]): never {
  const shown = problems.slice(0, 8).join('; ');
  const more = problems.length > 8 ? ` (and ${problems.length - 8} more)` : '';
  throw new RunFileError(`invalid run file: ${shown}${more}`);
}

/**
 * Parse and validate a run file. Throws RunFileError naming each bad field; nothing else. The
 * record keeps the id in the file: the caller decides whether to assign a fresh one.
 */
export function importRunJson(text: string): RunRecord {
  if (typeof text !== 'string') throw new RunFileError('run file: expected text');
  if (text.length > MAX_RUN_FILE_CHARS) {
    throw new RunFileError(
      `run file is too large: ${(text.length / 1e6).toFixed(1)} MB of text; the limit is ${MAX_RUN_FILE_CHARS / 1e6} MB`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RunFileError(`not JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new RunFileError(
      `not a v3lab run file: expected a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`,
    );
  }
  const { format, version, ...rest } = doc as Record<string, unknown>;
  if (format !== RUN_FILE_FORMAT) {
    const found = format === undefined ? 'has no "format" field' : `has format ${JSON.stringify(format)}`;
    throw new RunFileError(`not a v3lab run file: it ${found} (expected "${RUN_FILE_FORMAT}")`);
  }
  if (version !== RUN_FILE_VERSION) {
    throw new RunFileError(
      `run file version ${JSON.stringify(version ?? null)} is not supported (this v3lab reads version ${RUN_FILE_VERSION})`,
    );
  }

  const r = runRecordSchema.safeParse(rest);
  if (!r.success) fail(r.error.issues.flatMap(describeIssue));
  let config: RunConfig;
  try {
    config = validateConfig(r.data.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      // validateConfig's message names fields within the config; say they are under `config`.
      const body = e.message.replace(/^invalid config: /, '');
      fail(
        body.split('; ').map((p) => (p.startsWith('(config)') ? `config${p.slice('(config)'.length)}` : `config.${p}`)),
      );
    }
    throw new RunFileError(`run file: ${(e as Error).message}`);
  }
  return { ...r.data, config } as RunRecord;
}
