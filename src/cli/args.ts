// The CLI's shared helpers: argument parsing and validation (every bad input is a UsageError with
// one line, which main.ts prints as "error: …" with exit code 2), backends, checkpoints and the
// number format of progress lines.

import type { Backend } from '../engine/backend';
import type { Checkpoint, LabApi, RunInfo } from '../lab/api';
import { type Preset, PRESETS } from '../config';

export class UsageError extends Error {}

/** Options that take a value: `--opt value` is joined into `--opt=value` before parsing. */
export const VALUE_OPTIONS = new Set([
  '--format',
  '--preset',
  '--link',
  '--set',
  '--steps',
  '--seed',
  '--backend',
  '--op',
  '--cases',
]);

/** Join `--opt value` into `--opt=value`, so values like "-5" reach our own validation. */
export function joinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_OPTIONS.has(a) && i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out.push(`${a}=${argv[i + 1]}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parseIntArg(name: string, raw: string | undefined, min: number, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n))
    throw new UsageError(`--${name}: "${raw}" is not an integer`);
  if (n < min) throw new UsageError(`--${name}: ${n} must be ≥ ${min}`);
  return n;
}

export function parseFloatArg(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: "${raw}" is not a number`);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is not in [${min}, ${max}]`);
  return n;
}

/** `--set path=value` items as a map; `example` is the path=value the error message suggests. */
export function parseSets(list: string[] | undefined, example = 'optim.lr=0.001'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set "${item}": expected path=value, e.g. ${example}`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return out;
}

export function parseBackend(raw: string | undefined): 'webgpu' | 'cpu' {
  if (raw !== 'webgpu' && raw !== 'cpu') throw new UsageError(`--backend: "${raw}" is not one of webgpu, cpu`);
  return raw;
}

export async function makeBackend(kind: string): Promise<Backend> {
  if (kind === 'cpu') {
    const { CpuBackend } = await import('../backends/cpu/backend');
    return new CpuBackend();
  }
  if (kind !== 'webgpu') throw new UsageError(`--backend: "${kind}" is not one of webgpu, cpu`);
  const { createNodeBackend } = await import('../backends/webgpu/node');
  return createNodeBackend();
}

/** The lab, with its backends made in node. */
export async function createCliLab() {
  const { createLab } = await import('../lab/lab');
  return createLab((kind) => makeBackend(kind));
}

export const presetNames = (): string => PRESETS.map((p) => p.name).join(', ');

/** The preset of that name; an unknown name is a UsageError (after `prefix`, e.g. "--teacher: "). */
export function requirePreset(name: string | undefined, prefix = ''): Preset {
  const preset = PRESETS.find((p) => p.name === name);
  if (!preset) throw new UsageError(`${prefix}unknown preset "${name}" (available: ${presetNames()})`);
  return preset;
}

/** A share link's state (preset, seed, settings); a link with problems is a UsageError. */
export async function decodeLinkArg(raw: string) {
  const { decodeLink } = await import('../lab/share');
  const d = decodeLink(raw);
  if (d.problems.length) throw new UsageError(`--link: ${d.problems.join('; ')}`);
  return d;
}

export function fmt(x: number | null, digits = 4): string {
  return x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** A v3lab .safetensors checkpoint named by a flag; unreadable or invalid files end with a one-line error. */
export async function readCheckpointArg(flag: string, path: string): Promise<Checkpoint> {
  const { readFile } = await import('node:fs/promises');
  const { checkpointFromSafetensors } = await import('../train/checkpoint');
  const bytes = await readFile(path).catch((err: Error) => {
    throw new UsageError(`--${flag}: cannot read ${path}: ${err.message}`);
  });
  return checkpointFromSafetensors(new Uint8Array(bytes));
}

/** Write the run (weights, optimizer, sampler state) as a v3lab .safetensors checkpoint. */
export async function saveCheckpoint(lab: LabApi, file: string): Promise<void> {
  const { checkpointToSafetensors } = await import('../train/checkpoint');
  const { writeFile } = await import('node:fs/promises');
  const bytes = checkpointToSafetensors(await lab.checkpoint());
  await writeFile(file, bytes).catch((err: Error) => {
    throw new UsageError(`--save: cannot write ${file}: ${err.message}`);
  });
  process.stderr.write(`v3lab: checkpoint written to ${file} (${(bytes.length / 1e6).toFixed(2)} MB)\n`);
}

/**
 * Stage handoff: the current run (its preset, seed and settings) continues from another run's
 * weights at that run's step, with a fresh optimizer — e.g. an R1 run's SFT stage from an R1-Zero
 * run's pretraining checkpoint.
 */
export async function handOff(lab: LabApi, info: RunInfo, file: string): Promise<RunInfo> {
  const ckpt = await readCheckpointArg('from', file);
  const next = await lab.restore({
    ...ckpt,
    preset: info.preset,
    seed: info.seed,
    config: info.config,
    optimizer: undefined,
    samplerState: undefined,
  });
  process.stderr.write(`v3lab: starting from ${file} at step ${ckpt.step} (weights only; a fresh optimizer)\n`);
  return next;
}
