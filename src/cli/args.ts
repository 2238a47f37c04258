// The CLI's shared helpers: argument parsing and validation (every bad input is a UsageError with
// one line, which main.ts prints as "error: …" with exit code 2; a diverged run is a DivergedError,
// exit code 3), the error line itself, JSON lines, bounded file reads, backends, checkpoints and
// the number format of progress lines.

import type { Backend } from '../engine/backend';
import type { Checkpoint, LabApi, RunInfo } from '../lab/api';
import { DECIMAL, type Preset, PRESETS } from '../config';

/** Bad input: exit code 2. */
export class UsageError extends Error {
  readonly exitCode: number = 2;
}

/** A run stopped because its loss or grad norm went NaN or ±Inf: exit code 3. */
export class DivergedError extends UsageError {
  override readonly exitCode = 3;
}

/** The exit code an error ends the CLI with: 3 for a diverged run, 2 for everything else. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? err.exitCode : 2;
}

/** The longest line the CLI writes as `error: …` or `warning: …` (longer ones end in "…"). */
export const MAX_MESSAGE_CHARS = 300;

/** Control, format (bidi overrides, zero-width), separator and lone-surrogate characters. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/** `text` with every unprintable character shown as `\u{…}`, so a message cannot reorder or hide itself. */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** `line` cut to MAX_MESSAGE_CHARS UTF-16 units (never inside a surrogate pair), ending in "…" when cut. */
export function capLine(line: string): string {
  if (line.length <= MAX_MESSAGE_CHARS) return line;
  let out = '';
  for (const c of line) {
    if (out.length + c.length > MAX_MESSAGE_CHARS - 1) break;
    out += c;
  }
  return `${out}…`;
}

/** One printable line of at most MAX_MESSAGE_CHARS characters: the message's first line, escaped. */
export function messageLine(prefix: 'error' | 'warning', message: string): string {
  const first = message.split('\n')[0];
  return capLine(`${prefix}: ${escapeUnprintable(first === '' ? message.trim() || 'unknown error' : first)}`);
}

/** The `error: …` line for anything thrown (main.ts writes it; commands never write their own). */
export function errorLine(err: unknown): string {
  return messageLine('error', err instanceof Error ? err.message : String(err));
}

/** JSON lines write NaN and ±Inf as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'number' || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** One JSON line on stdout, with the CLI's one replacer: every --json writer goes through this. */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer)}\n`);
}

/**
 * Join `--opt value` into `--opt=value` for the options in `valueOptions` (options.ts derives them
 * from each command's table), so values such as "-5" or "-3" reach our own validation instead of
 * being read as options. A value starting with `--` is another option and is left alone; so is
 * everything after a bare `--`.
 */
export function joinValues(argv: string[], valueOptions: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (valueOptions.has(a) && next !== undefined && !next.startsWith('--')) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** An integer flag: decimal only (the config layer's rule: no hex, octal or binary), in [min, max]. */
export function parseIntArg(
  name: string,
  raw: string | undefined,
  min: number,
  fallback?: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const t = raw.trim();
  const n = Number(t);
  if (!DECIMAL.test(t) || !Number.isSafeInteger(n)) throw new UsageError(`--${name}: "${raw}" is not an integer`);
  if (n < min) throw new UsageError(`--${name}: ${n} must be ≥ ${min}`);
  if (n > max) throw new UsageError(`--${name}: ${n} must be ≤ ${max}`);
  return n;
}

/** A number flag: decimal only (as the config layer), finite, in [min, max]. */
export function parseFloatArg(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined) return fallback;
  const t = raw.trim();
  const n = Number(t);
  if (!DECIMAL.test(t) || !Number.isFinite(n)) throw new UsageError(`--${name}: "${raw}" is not a number`);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is not in [${min}, ${max}]`);
  return n;
}

/** The largest seed a run takes. */
export const MAX_SEED = 2 ** 32 - 1;
/** The most seeds one --seeds runs. */
export const MAX_SEEDS = 64;

/** --seed S (one run) or --seeds A,B,C (one run per seed, in turn): never both. */
export function parseSeedArgs(
  seed: string | undefined,
  seeds: string | undefined,
  fallback = 0,
): { seeds: number[]; multi: boolean } {
  if (seed !== undefined && seeds !== undefined)
    throw new UsageError('--seed and --seeds exclude each other (--seeds 1,2,3 runs each seed in turn)');
  if (seeds === undefined) return { seeds: [parseIntArg('seed', seed, 0, fallback, MAX_SEED)], multi: false };
  const parts = seeds.split(',');
  if (parts.length > MAX_SEEDS) throw new UsageError(`--seeds: ${parts.length} seeds, more than ${MAX_SEEDS}`);
  const out: number[] = [];
  for (const p of parts) {
    const s = parseIntArg('seeds', p, 0, undefined, MAX_SEED);
    if (out.includes(s)) throw new UsageError(`--seeds: seed ${s} is given twice`);
    out.push(s);
  }
  return { seeds: out, multi: true };
}

/** Names that are never a config path segment (they would reach an object's prototype). */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

export interface SetOptions {
  /** The flag the items came from, for messages ("--set", "--set-teacher"). */
  flag?: string;
  /** The path=value an error message suggests. */
  example?: string;
  /** Config paths that a flag given with them also sets (e.g. train.steps → "--steps"): both is an error. */
  conflicts?: Readonly<Record<string, string>>;
}

/**
 * `--set path=value` items as a map without a prototype. Refused, naming the item: no `=` or an
 * empty path, a reserved name in the path, a path given twice, and a path that a flag given
 * alongside also sets. Values are checked by the config layer (applyOverrides).
 */
export function parseSets(list: readonly string[] | undefined, opts: SetOptions = {}): Record<string, string> {
  const flag = opts.flag ?? '--set';
  const out: Record<string, string> = Object.create(null);
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const path = eq < 0 ? '' : item.slice(0, eq).trim();
    if (path === '')
      throw new UsageError(`${flag} "${item}": expected path=value, e.g. ${opts.example ?? 'optim.lr=0.001'}`);
    const reserved = path.split('.').find((seg) => RESERVED.has(seg));
    if (reserved !== undefined)
      throw new UsageError(`${flag} "${item}": "${reserved}" is a reserved name, not a config path`);
    const value = item.slice(eq + 1);
    if (Object.hasOwn(out, path))
      throw new UsageError(`${flag} ${path} is given twice ("${out[path]}" and "${value}"); give it once`);
    const conflict = opts.conflicts && Object.hasOwn(opts.conflicts, path) ? opts.conflicts[path] : undefined;
    if (conflict !== undefined)
      throw new UsageError(
        `${flag} ${path}=${value} conflicts with ${conflict}, which sets ${path} too; give one of them`,
      );
    out[path] = value;
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

/** A figure of a progress line: "-" when there is none, "NaN" / "Infinity" when it is not finite. */
export function fmt(x: number | null, digits = 4): string {
  if (x === null) return '-';
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** The largest checkpoint the CLI reads (a v3-tiny run with its moments is far smaller). */
export const CHECKPOINT_MAX_BYTES = 2 * 2 ** 30;

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

/**
 * Read a whole file, bounded: it must be a regular file (checked with stat before opening, so a
 * FIFO, a device such as /dev/zero or a directory is refused without blocking or reading), at
 * most `limit` bytes, and — with `safetensorsHeaderMax` — its safetensors header length (the first
 * 8 bytes) is read before the body and refused when it is over that cap or larger than the file.
 * Every problem is a one-line UsageError starting with `label`.
 */
export async function readBoundedFile(
  label: string,
  path: string,
  limit: number,
  safetensorsHeaderMax?: number,
): Promise<Uint8Array> {
  const { open, stat } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const cannot = (why: string) => new UsageError(`${label}: cannot read ${path}: ${why}`);
  const errno = (e: unknown) =>
    cannot((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message);
  const st = await stat(path).catch((e) => {
    throw errno(e);
  });
  if (!st.isFile()) throw cannot(`it is ${kindOf(st)}, not a regular file`);
  if (st.size > limit) throw cannot(`it is ${st.size} bytes, more than the ${limit} allowed`);
  // O_NONBLOCK: should the path become a FIFO after the stat, opening it still does not block.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((e) => {
    throw errno(e);
  });
  try {
    const now = await fh.stat();
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) throw cannot('it changed while being opened');
    const size = now.size;
    if (size > limit) throw cannot(`it is ${size} bytes, more than the ${limit} allowed`);
    const buf = new Uint8Array(size);
    let off = 0;
    const fill = async (end: number) => {
      while (off < end) {
        const { bytesRead } = await fh.read(buf, off, end - off, off);
        if (bytesRead === 0) throw cannot(`it ended after ${off} of ${size} bytes (it changed while being read)`);
        off += bytesRead;
      }
    };
    if (safetensorsHeaderMax !== undefined) {
      if (size < 8)
        throw cannot(`it is ${size} bytes: truncated (a safetensors file starts with an 8-byte header length)`);
      await fill(8);
      const n = new DataView(buf.buffer, 0, 8).getBigUint64(0, true);
      if (n > BigInt(safetensorsHeaderMax))
        throw cannot(
          `its header length ${n} is over the ${safetensorsHeaderMax}-byte limit: not a safetensors file, or corrupt`,
        );
      if (n > BigInt(size - 8))
        throw cannot(`its header length ${n} is larger than the ${size - 8} bytes after it: truncated or corrupt`);
    }
    await fill(size);
    return buf;
  } finally {
    await fh.close();
  }
}

/** A v3lab .safetensors checkpoint named by a flag, read bounded; unreadable or invalid files end with a one-line error. */
export async function readCheckpointArg(flag: string, path: string): Promise<Checkpoint> {
  const { checkpointFromSafetensors } = await import('../train/checkpoint');
  const { CHECKPOINT_MAX_HEADER_BYTES } = await import('../train/checkpoint');
  const bytes = await readBoundedFile(`--${flag}`, path, CHECKPOINT_MAX_BYTES, CHECKPOINT_MAX_HEADER_BYTES);
  try {
    return checkpointFromSafetensors(bytes);
  } catch (e) {
    throw new UsageError(`--${flag}: ${path}: ${(e as Error).message}`);
  }
}

/** Refuse a checkpoint (--from, --resume) at or past the end of the run it would continue. */
export function checkStepsLeft(flag: string, file: string, step: number, total: number): void {
  if (step >= total)
    throw new UsageError(
      `--${flag}: ${file} is at step ${step} and the run has ${total} steps in all: no steps left to run`,
    );
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
 * run's pretraining checkpoint. The checkpoint was read (readCheckpointArg) before the device.
 */
export async function handOff(lab: LabApi, info: RunInfo, ckpt: Checkpoint, file: string): Promise<RunInfo> {
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
