// The CLI hardened (issues 17 and 18): a diverged run is loud (exit 3), files are read bounded,
// --resume continues a --stop-at run bit for bit, --set is strict, negative values reach our own
// checks, error lines are one short printable line, and --seeds runs end with a summary. The
// parsing functions are fuzzed in-process; the spawned runs are micro presets with a few steps.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, FIELDS, findField, getPath, parseFieldValue, validateConfig } from '../config';
import type { StepMetrics } from '../lab/api';
import {
  errorLine,
  exitCodeOf,
  joinValues,
  jsonReplacer,
  MAX_MESSAGE_CHARS,
  parseFloatArg,
  parseIntArg,
  parseSeedArgs,
  parseSets,
  UsageError,
} from './args';
import { parseDistillArgs } from './distill';
import { parseGrpoArgs, WarningLog } from './grpo';
import { valueOptions } from './options';
import { parseSampleArgs } from './sample';
import { distillSummary, grpoSummary, trainSummary } from './summary';
import { parseTrainArgs } from './train';
import { SLOW_MS } from '../test/timeouts';

function lab(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './scripts/register-raw.mjs', 'src/cli/main.ts', ...args],
    { encoding: 'utf8', timeout: SLOW_MS },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit 2, nothing on stdout, and exactly one `error: …` line of at most 300 characters on stderr. */
function expectOneLineError(r: ReturnType<typeof lab>, pattern: RegExp) {
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0].length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  expect(lines[0]).toMatch(pattern);
}

const jsonLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

const tmp = mkdtempSync(join(tmpdir(), 'v3lab-hardening-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What parse functions throw for bad input: ours, the config layer's, or node's parseArgs's. */
function isUserError(e: unknown): boolean {
  return (
    e instanceof UsageError ||
    e instanceof ConfigError ||
    String((e as NodeJS.ErrnoException)?.code ?? '').startsWith('ERR_PARSE_ARGS')
  );
}

describe('CLI hardening: divergence (exit 3)', () => {
  it('a run whose loss goes NaN stops with exit code 3, one error line, and "NaN" in its JSON lines', () => {
    const r = lab(
      'train',
      ...[
        '--preset',
        'micro-dense',
        '--steps',
        '10',
        '--seed',
        '1',
        '--set',
        'optim.lr=1',
        '--set',
        'optim.clip_norm=0',
      ],
      ...['--set', 'optim.beta2=0', '--set', 'optim.eps=1e-12', '--set', 'train.log_every=1', '--json'],
    );
    expect(r.code, r.err).toBe(3);
    const errLines = r.err.trim().split('\n');
    expect(errLines.at(-1)).toMatch(/^error: diverged at step \d+: (loss|grad_norm) /);
    expect(errLines.filter((l) => l.startsWith('error: '))).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
    const lines = jsonLines(r.out);
    const last = lines.at(-1);
    expect(last).toMatchObject({ done: false, diverged: true });
    expect(errLines.at(-1)).toBe(`error: ${last.error}`);
    const bad = lines.at(-2);
    expect(bad.step).toBe(last.steps);
    expect(['NaN', 'Infinity', '-Infinity']).toContain(typeof bad.loss === 'string' ? bad.loss : bad.grad_norm);
    expect(r.out).not.toMatch(/null,"val_loss"|"grad_norm":null/);
  });

  it('one replacer writes NaN and ±Inf as strings, and exit codes follow the error', () => {
    expect(JSON.stringify({ a: NaN, b: Infinity, c: -Infinity, d: 1.5, e: null, f: [NaN] }, jsonReplacer)).toBe(
      '{"a":"NaN","b":"Infinity","c":"-Infinity","d":1.5,"e":null,"f":["NaN"]}',
    );
    expect(exitCodeOf(new UsageError('x'))).toBe(2);
    expect(exitCodeOf(new Error('x'))).toBe(2);
  });
});

describe('CLI hardening: bounded reads', () => {
  it('/dev/zero, a FIFO, a directory and a truncated file: one line, exit 2, without blocking', () => {
    const fifo = join(tmp, 'ckpt.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const dir = join(tmp, 'a-dir');
    mkdirSync(dir);
    const short = join(tmp, 'short.safetensors');
    writeFileSync(short, new Uint8Array([1, 2, 3]));
    const lying = join(tmp, 'lying.safetensors');
    const head = new Uint8Array(16);
    new DataView(head.buffer).setBigUint64(0, 4096n, true); // a header of 4096 bytes in a 16-byte file
    writeFileSync(lying, head);
    expectOneLineError(lab('sample', '--checkpoint', '/dev/zero'), /--checkpoint: cannot read \/dev\/zero: .*device/);
    expectOneLineError(lab('train', '--resume', fifo), /--resume: cannot read .*ckpt\.fifo: it is a FIFO/);
    expectOneLineError(lab('train', '--preset', 'micro-dense', '--from', dir), /--from: .*a directory/);
    expectOneLineError(lab('export', '--checkpoint', short, '--out', join(tmp, 'x')), /--checkpoint: .*truncated/);
    expectOneLineError(lab('sample', '--checkpoint', lying), /header length 4096 is larger than the 8 bytes/);
  });
});

describe('CLI hardening: --stop-at and --resume', () => {
  const small = ['--steps', '12', '--seed', '3', '--set', 'train.log_every=1', '--set', 'data.batch_size=2', '--json'];
  /** Everything a logged step says about the model (not its speed). */
  const model = (l: Record<string, unknown>) => {
    const { tokens_per_s: _speed, ...rest } = l;
    return rest;
  };

  for (const preset of ['micro-dense', 'micro-moe']) {
    it(`${preset}: 12 steps stopped at 5 and resumed end bit for bit where the straight run ends`, () => {
      const full = join(tmp, `${preset}-full.safetensors`);
      const half = join(tmp, `${preset}-half.safetensors`);
      const straight = lab('train', '--preset', preset, ...small, '--save', full);
      expect(straight.code, straight.err).toBe(0);
      const stop = lab('train', '--preset', preset, ...small, '--stop-at', '5', '--save', half);
      expect(stop.code, stop.err).toBe(0);
      const resumed = lab('train', '--resume', half, '--json');
      expect(resumed.code, resumed.err).toBe(0);
      const s = jsonLines(straight.out);
      const a = jsonLines(stop.out);
      const b = jsonLines(resumed.out);
      expect(a.at(-1)).toMatchObject({ done: false, stopped_at: 5, total_steps: 12, saved: half });
      expect(b.at(-1)).toMatchObject({ done: true, steps: 12 });
      expect([...a.slice(0, -1), ...b.slice(0, -1)].map(model)).toEqual(s.slice(0, -1).map(model));
      expect(b.at(-1).final_loss).toBe(s.at(-1).final_loss);
      expect(b.at(-1).final_val_loss).toBe(s.at(-1).final_val_loss);
      if (preset === 'micro-dense') {
        // Nothing left to run: named with the checkpoint's step and the run's total.
        expectOneLineError(lab('train', '--resume', full), /--resume: .* is at step 12 and the run has 12 steps/);
        expectOneLineError(
          lab('train', '--preset', preset, '--steps', '12', '--from', full),
          /--from: .* is at step 12 and the run has 12 steps/,
        );
      }
    });
  }

  it('--resume, --stop-at and --from refuse what they cannot do, before any device', async () => {
    const rejects = (argv: string[], pattern: RegExp) => expect(parseTrainArgs(argv)).rejects.toThrow(pattern);
    await rejects(['--preset=micro-dense', '--stop-at=3'], /--stop-at needs --save FILE/);
    await rejects(['--preset=micro-dense', '--steps=10', '--stop-at=10', '--save=x'], /must be before the run's last/);
    await rejects(['--preset=micro-dense', '--stop-at=0', '--save=x'], /--stop-at: 0 must be ≥ 1/);
    await rejects(['--resume=x', '--preset=micro-dense'], /--resume continues the saved run .*drop --preset/);
    await rejects(['--resume=x', '--set=optim.lr=1'], /drop --set/);
    await rejects(['--preset=micro-dense', '--seeds=1,2', '--save=x'], /--save writes one run/);
  });
});

describe('CLI hardening: strict arguments', () => {
  it('--set: a path twice, reserved names and a flag that sets the same path are refused', async () => {
    expect(() => parseSets(['optim.lr=1', 'optim.lr=2'])).toThrow(/--set optim.lr is given twice/);
    expect(() => parseSets([' optim.lr=1', 'optim.lr =2'])).toThrow(/given twice/);
    for (const bad of ['__proto__=1', 'constructor.x=1', 'optim.prototype=1', 'a.__proto__.b=2'])
      expect(() => parseSets([bad])).toThrow(/is a reserved name/);
    expect(() => parseSets(['=1'])).toThrow(/expected path=value/);
    expect(() => parseSets(['optim.lr'])).toThrow(/expected path=value/);
    expect(Object.getPrototypeOf(parseSets(['optim.lr=1']))).toBe(null);
    await expect(parseTrainArgs(['--preset=micro-dense', '--steps=5', '--set=train.steps=abc'])).rejects.toThrow(
      /--set train.steps=abc conflicts with --steps/,
    );
    await expect(parseGrpoArgs(['--preset=grpo-micro', '--steps=5', '--set=rl.grpo_steps=7'])).rejects.toThrow(
      /--set rl.grpo_steps=7 conflicts with --steps/,
    );
    await expect(parseDistillArgs(['--set-teacher=rl.lr=1', '--set-teacher=rl.lr=2'])).rejects.toThrow(
      /--set-teacher rl.lr is given twice/,
    );
    expectOneLineError(
      lab('train', '--preset', 'micro-dense', '--steps', '5', '--set', 'train.steps=7'),
      /--set train.steps=7 conflicts with --steps/,
    );
  });

  it('int and float flags are decimal only, as the config layer', () => {
    for (const raw of ['0x10', '0b101', '0o17', '1_000', '', ' ', 'Infinity', '1e400', '١'])
      expect(() => parseIntArg('steps', raw, 1)).toThrow(/--steps: ".*" is not an integer/);
    expect(parseIntArg('steps', ' 12 ', 1)).toBe(12);
    expect(parseIntArg('steps', '1e3', 1)).toBe(1000);
    expect(() => parseIntArg('seed', '4294967296', 0, 0, 2 ** 32 - 1)).toThrow(/must be ≤ 4294967295/);
    for (const raw of ['0x1', '0b1', '0o1', 'Infinity', 'NaN', '', '.', '1..2'])
      expect(() => parseFloatArg('temperature', raw, 0, 10, 1)).toThrow(/--temperature: ".*" is not a number/);
    expect(parseFloatArg('temperature', '.5', 0, 10, 1)).toBe(0.5);
    expect(parseFloatArg('temperature', '5e-1', 0, 10, 1)).toBe(0.5);
  });

  it('negative values reach our own checks: --temperature -1, --length -5, --prompt -3', () => {
    const sample = (...argv: string[]) => parseSampleArgs(joinValues(argv, valueOptions('sample')));
    expect(() => sample('--preset', 'micro-v3', '--temperature', '-1')).toThrow(
      /--temperature: -1 is not in \[0, 10\]/,
    );
    expect(() => sample('--preset', 'micro-v3', '--length', '-5')).toThrow(/--length: -5 must be ≥ 1/);
    expect(sample('--preset', 'micro-v3', '--prompt', '-3').prompt).toBe('-3');
    expect(sample('--preset', 'micro-v3', '--prompt', '-', '--seed', '4').seed).toBe(4);
    // Another --option is not a value; nor is anything after a bare --.
    expect(joinValues(['--prompt', '--json'], valueOptions('sample'))).toEqual(['--prompt', '--json']);
    expect(joinValues(['--', '--prompt', '-3'], valueOptions('sample'))).toEqual(['--', '--prompt', '-3']);
    // Every value-taking option of every command is joined, and only those.
    expect(valueOptions('train')).toEqual(
      new Set([
        '--preset',
        '--link',
        '--set',
        '--steps',
        '--seed',
        '--seeds',
        '--backend',
        '--save',
        '--from',
        '--resume',
        '--stop-at',
      ]),
    );
    expect(valueOptions('import')).toEqual(new Set());
    expect(joinValues(['--json', '-3'], valueOptions('train'))).toEqual(['--json', '-3']);
    expectOneLineError(lab('sample', '--preset', 'micro-v3', '--temperature', '-1'), /--temperature: -1 is not in/);
    expectOneLineError(lab('grpo', '--preset', 'grpo-micro', '--steps', '-3'), /--steps: -3 must be ≥ 1/);
  });

  it('error lines: the first line only, at most 300 characters, control and bidi characters escaped', () => {
    expect(errorLine(new Error('a\u202eb\u0007c\td'))).toBe('error: a\\u{202e}b\\u{7}c\\u{9}d');
    expect(errorLine(new Error('first\nsecond'))).toBe('error: first');
    expect(errorLine('x\u2066\u200f\ud800y')).toBe('error: x\\u{2066}\\u{200f}\\u{d800}y');
    const long = errorLine(new Error(`${'é'.repeat(200)}${'😀'.repeat(200)}`));
    expect(long.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(long.endsWith('…')).toBe(true);
    expect(long).not.toMatch(/[\ud800-\udbff]…$/); // never half a surrogate pair
    const r = lab('train', '--preset', `\u202e${'x'.repeat(1000)}`);
    expectOneLineError(r, /^error: unknown preset "\\u\{202e\}x+…$/);
  });

  it('--seed and --seeds exclude each other; --seeds is a list of distinct seeds', () => {
    expect(parseSeedArgs(undefined, '1,2,3')).toEqual({ seeds: [1, 2, 3], multi: true });
    expect(parseSeedArgs('7', undefined)).toEqual({ seeds: [7], multi: false });
    expect(parseSeedArgs(undefined, undefined, 5)).toEqual({ seeds: [5], multi: false });
    expect(() => parseSeedArgs('1', '1,2')).toThrow(/--seed and --seeds exclude each other/);
    expect(() => parseSeedArgs(undefined, '1,,2')).toThrow(/--seeds: "" is not an integer/);
    expect(() => parseSeedArgs(undefined, '1,1')).toThrow(/seed 1 is given twice/);
    expect(() => parseSeedArgs(undefined, '0x1')).toThrow(/is not an integer/);
    expect(() => parseSeedArgs(undefined, '-1')).toThrow(/--seeds: -1 must be ≥ 0/);
  });
});

/** A small deterministic generator for the fuzz cases (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('CLI hardening: fuzzed links and --set lists', () => {
  const VALUES = [
    '0x10',
    '0b101',
    '0o17',
    '1e3',
    '-1',
    '',
    ' ',
    'NaN',
    'Infinity',
    '-0',
    '1_000',
    '1,5',
    '٣',
    'true',
    'false',
    '3',
    '0.001',
    '64',
    '2',
    '1e-12',
    'abc',
    '\u202e1',
    '%00',
    'mha',
    'mla',
    'dense',
    'moe',
    '9'.repeat(400),
  ];
  const PATHS = [
    ...FIELDS.map((f) => f.path),
    '__proto__',
    'constructor',
    'optim.__proto__',
    'optim',
    'optim.',
    '.lr',
    'optim..lr',
    'nope.x',
    'train.steps',
    'train.steps',
    'prototype.x',
    'x'.repeat(500),
    'optim.lr\u202e',
  ];
  const JUNK = [
    '&',
    '=',
    '#',
    '%',
    '%zz',
    '%E2%80%AE',
    '__proto__',
    'constructor=1',
    '&&',
    'v=2',
    'v=0',
    '\u0000',
    '😀',
  ];

  it('≥ 200 malformed inputs: each a one-line error of ≤ 300 characters or a valid config that holds every setting', async () => {
    const next = rng(20240917);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 320; i++) {
      const sets = Array.from({ length: Math.floor(next() * 4) }, () => {
        const path = pick(PATHS);
        return next() < 0.1 ? path : `${path}=${next() < 0.5 ? pick(VALUES) : getDefault(path)}`;
      });
      const argv: string[] = [];
      if (i % 2 === 0) {
        let link = `#v=1&preset=${next() < 0.8 ? 'micro-dense' : pick(['giant', '', 'micro-moe', '__proto__'])}&seed=${pick(['1', '-1', '0x2', '4294967296', '2'])}`;
        for (let k = Math.floor(next() * 4); k > 0; k--) {
          link += next() < 0.5 ? `&${pick(PATHS)}=${encodeURIComponent(pick(VALUES))}` : pick(JUNK);
          if (next() < 0.2) link = link.slice(0, Math.floor(next() * link.length));
        }
        argv.push('--link', link);
      } else argv.push('--preset', pick(['micro-dense', 'micro-moe', 'nope']));
      if (next() < 0.3) argv.push('--steps', pick(['5', '-5', '0x5', '', '1e2']));
      if (next() < 0.2) argv.push('--seeds', pick(['1,2', '1,,2', '1,1', '-1', '']));
      for (const s of sets) argv.push('--set', s);
      try {
        const args = await parseTrainArgs(joinValues(argv, valueOptions('train')));
        accepted++;
        expect(() => validateConfig(args.cfg)).not.toThrow();
        // No silent fallback: every explicit --set is in the config as given.
        for (const s of sets) {
          const eq = s.indexOf('=');
          const path = s.slice(0, eq).trim();
          expect(getPath(args.cfg, path), `${argv.join(' ')}`).toEqual(parseFieldValue(path, s.slice(eq + 1)));
        }
      } catch (e) {
        refused++;
        expect(isUserError(e), `${argv.join(' ')}: ${(e as Error).stack}`).toBe(true);
        const line = errorLine(e);
        expect(line).not.toMatch(/[\n\r]/);
        expect(line.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
        expect(line).toMatch(/^error: \S/);
      }
    }
    expect(accepted + refused).toBeGreaterThanOrEqual(200);
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(100);
  });
});

/** A field's value in the micro-dense preset, as text (a valid value to mix in with the junk). */
function getDefault(path: string): string {
  const f = findField(path);
  if (!f) return 'x';
  return f.kind === 'enum' ? f.options[0] : f.kind === 'bool' ? 'true' : f.kind === 'string' ? 'abc' : String(f.min);
}

describe('CLI hardening: multi-seed runs and policy health', () => {
  const tiny = [
    ...[
      '--set',
      'train.steps=4',
      '--set',
      'rl.eval_prompts=4',
      '--set',
      'rl.pass_k=2',
      '--set',
      'rl.prompts_per_step=2',
    ],
    ...['--set', 'rl.group_size=4', '--set', 'rl.max_new_tokens=8', '--set', 'data.batch_size=4'],
  ];

  it("grpo --seeds 1,2: each seed's lines, then the lift summary with standard errors", () => {
    const r = lab('grpo', '--preset', 'grpo-micro', '--steps', '2', '--seeds', '1,2', '--json', ...tiny);
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines(r.out);
    const done = lines.filter((l) => l.done === true);
    expect(done.map((l) => l.seed)).toEqual([1, 2, undefined]);
    const s = lines.at(-1);
    expect(s).toMatchObject({ seeds: [1, 2], heldout_prompts: 4, warnings: [] });
    for (const k of ['heldout_accuracy_before', 'heldout_accuracy_after', 'lift_mean', 'lift_se', 'lift_min'])
      expect(Number.isFinite(s[k]), k).toBe(true);
    expect(s.per_seed).toHaveLength(2);
    for (const [i, p] of s.per_seed.entries()) {
      expect(p.seed).toBe(i + 1);
      expect(p.before).toBe(done[i].heldout_accuracy_before);
      expect(p.after).toBe(done[i].heldout_accuracy_after);
      expect(p.lift).toBeCloseTo(p.after - p.before, 12);
      expect(p.before_se).toBeCloseTo(Math.sqrt((p.before * (1 - p.before)) / 4), 12);
    }
  });

  it("train --seeds 1,2: each seed's done line, then final loss mean ± sd", () => {
    const r = lab('train', '--preset', 'micro-dense', '--steps', '3', '--seeds', '1,2', '--json');
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines(r.out);
    const done = lines.filter((l) => l.done === true);
    expect(done.map((l) => l.seed)).toEqual([1, 2, undefined]);
    const s = lines.at(-1);
    expect(s.per_seed.map((p: { final_loss: number }) => p.final_loss)).toEqual([
      done[0].final_loss,
      done[1].final_loss,
    ]);
    expect(s.final_loss_mean).toBeCloseTo((done[0].final_loss + done[1].final_loss) / 2, 12);
    expect(s.final_loss_sd).toBeGreaterThan(0);
    expectOneLineError(lab('train', '--preset', 'micro-dense', '--seed', '1', '--seeds', '1,2'), /exclude each other/);
  });

  it('distill --seeds: parsed before any device; one SFT set per run', async () => {
    expect(await parseDistillArgs(['--seeds=3,4'])).toMatchObject({ seeds: [3, 4], multi: true });
    await expect(parseDistillArgs(['--seeds=3,4', '--seed=3'])).rejects.toThrow(/exclude each other/);
    await expect(parseDistillArgs(['--seeds=3,4', '--sft-out=x.jsonl'])).rejects.toThrow(/--sft-out writes one seed/);
    const d = distillSummary(
      [
        { seed: 3, base: 0.25, rl: 0.5, distill: 0.75 },
        { seed: 4, base: 0.25, rl: 0.25, distill: 0.5 },
      ],
      32,
    );
    expect(d).toMatchObject({ seeds: [3, 4], heldout_prompts: 32, base_heldout_mean: 0.25, base_heldout_sd: 0 });
    expect(d.rl_heldout_mean).toBeCloseTo(0.375, 12);
    expect(d.distill_heldout_mean).toBeCloseTo(0.625, 12);
    expect(d.per_seed[1]).toEqual({ seed: 4, base: 0.25, rl: 0.25, distill: 0.5 });
  });

  it('summaries from per-seed results (train, grpo)', () => {
    const t = trainSummary([
      { seed: 1, final_loss: 2, final_val_loss: null },
      { seed: 2, final_loss: 4, final_val_loss: 3 },
    ]);
    expect(t).toMatchObject({ final_loss_mean: 3, final_val_loss_mean: 3, final_val_loss_sd: 0 });
    expect(t.final_loss_sd).toBeCloseTo(Math.SQRT2, 12);
    const g = grpoSummary(
      [
        { seed: 1, before: 0.25, after: 0.5, warnings: ['x'] },
        { seed: 2, before: 0.5, after: 0.5, warnings: [] },
      ],
      16,
    );
    expect(g).toMatchObject({ lift_mean: 0.125, lift_min: 0, heldout_prompts: 16, warnings: ['seed 1: x'] });
    expect(g.per_seed[0]).toMatchObject({ seed: 1, before: 0.25, after: 0.5, lift: 0.25 });
    expect(g.per_seed[0].before_se).toBeCloseTo(Math.sqrt((0.25 * 0.75) / 16), 12);
  });

  it('a policy-health warning is printed once, however many steps repeat it', () => {
    const step = (i: number, entropy: number, reward: number) =>
      ({ step: i, stage: 'grpo', reward, entropy, format_rate: 1 }) as unknown as StepMetrics;
    const metrics = [
      ...Array.from({ length: 5 }, (_, i) => step(i + 1, 1, 0.5)),
      ...Array.from({ length: 5 }, (_, i) => step(i + 6, 0.001, 0.1)),
    ];
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (written.push(s), true)) as typeof process.stderr.write;
    try {
      const log = new WarningLog();
      log.update(metrics);
      log.update([...metrics, step(11, 0.001, 0.05)]);
      expect(log.list).toHaveLength(1);
      expect(log.list[0]).toMatch(/^policy collapse by step 10/);
    } finally {
      process.stderr.write = write;
    }
    expect(written.join('').match(/warning: policy collapse/g)).toHaveLength(1);
  });
});
