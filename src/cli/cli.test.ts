// The CLI as a user runs it: bad input gives one line on stderr and a non-zero exit, never a
// stack trace; a seed fixes the run; --json keeps stdout machine-readable.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FIELDS } from '../config';
import { SLOW_MS } from '../test/timeouts';

function lab(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './scripts/register-raw.mjs', 'src/cli/main.ts', ...args],
    {
      encoding: 'utf8',
      timeout: SLOW_MS,
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof lab>, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
}

describe('CLI', () => {
  it('lists presets', () => {
    const r = lab('presets');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^micro-dense\s+\S/m);
  });

  it("lists every --set path with its range, label and help, and each V3 / R1 knob's note with its section", () => {
    const r = lab('fields');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    for (const f of FIELDS) {
      const i = lines.findIndex((l) => l.startsWith(`${f.path} `));
      expect(i, f.path).toBeGreaterThanOrEqual(0);
      expect(lines[i]).toContain(`${f.label}: ${f.help}`);
      if (f.note) expect(lines[i + 1].trim(), f.path).toBe(f.note);
    }
    expect(lines.find((l) => l.startsWith('model.kv_lora_rank '))).toMatch(/int \[1, 4096\]/);
  });

  it('rejects bad input with a one-line error', () => {
    expectOneLineError(lab('train', '--preset', 'nope'), /unknown preset "nope"/);
    expectOneLineError(
      lab('train', '--preset', 'micro-dense', '--set', 'optim.nope=1'),
      /unknown config path "optim.nope"/,
    );
    expectOneLineError(
      lab('train', '--preset', 'micro-dense', '--set', 'optim.lr=fast'),
      /optim.lr: "fast" is not a number/,
    );
    expectOneLineError(lab('train', '--preset', 'micro-dense', '--steps', '-5'), /--steps: -5 must be ≥ 1/);
    expectOneLineError(lab('train', '--preset', 'micro-dense', '--steps', 'ten'), /--steps: "ten" is not an integer/);
    expectOneLineError(lab('train', '--preset', 'micro-dense', '--bogus'), /bogus/);
    expectOneLineError(lab('frobnicate'), /unknown command "frobnicate"/);
    expectOneLineError(lab('check', '--op', 'nope'), /unknown op "nope"/);
    expectOneLineError(
      lab('train', '--link', '#v=1&preset=micro-dense&optim.lr=abc'),
      /--link: optim.lr: "abc" is not a number/,
    );
    expectOneLineError(lab('train', '--link', '#v=1&preset=giant'), /--link: preset: unknown preset "giant"/);
  });

  it('fp8 inspector: spec vectors, and every code against an independent decoder', () => {
    const enc = lab('fp8', '--format', 'e4m3', '--encode', '0.3', '1.0625', '1.1875', '17', '300', '0.001', '464');
    expect(enc.code, enc.err).toBe(0);
    const vals = (JSON.parse(enc.out) as number[]).map((c) => independentDecode(c, 4, 3, 7, false));
    expect(vals).toEqual([0.3125, 1.0, 1.25, 16, 288, 2 ** -9, 448]);
    for (const [format, e, m, bias, ieee] of [
      ['e4m3', 4, 3, 7, false],
      ['e5m2', 5, 2, 15, true],
    ] as const) {
      const codes = Array.from({ length: 256 }, (_, i) => String(i));
      const r = lab('fp8', '--format', format, '--decode', ...codes);
      expect(r.code, r.err).toBe(0);
      const got = JSON.parse(r.out) as Array<number | string>;
      got.forEach((v, i) => {
        const want = independentDecode(i, e, m, bias, ieee);
        const asJson = Number.isNaN(want)
          ? 'NaN'
          : want === Infinity
            ? 'Infinity'
            : want === -Infinity
              ? '-Infinity'
              : want;
        expect(v, `${format} code ${i}`).toEqual(asJson === 0 ? 0 : asJson);
      });
    }
    expectOneLineError(lab('fp8', '--format', 'e3m4', '--encode', '1'), /--format: "e3m4" is not one of/);
    expectOneLineError(lab('fp8', '--decode', '256'), /"256" is not a e4m3 code/);
  });
});

describe('CLI train', () => {
  it('trains from a share link (same link format as the page)', () => {
    const r = lab(
      'train',
      '--link',
      'http://127.0.0.1:5173/#v=1&preset=micro-dense&seed=3&train.steps=4&train.log_every=2&data.batch_size=2',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l: { step?: number }) => l.step)).toEqual([2, 4, undefined]);
  });

  it('same seed → same losses; different seed → different losses (GPU, --json)', () => {
    const run = (seed: string) => {
      const r = lab(
        'train',
        '--preset',
        'micro-dense',
        '--steps',
        '12',
        '--seed',
        seed,
        '--set',
        'train.log_every=4',
        '--set',
        'train.eval_every=12',
        '--json',
      );
      expect(r.code, r.err).toBe(0);
      const lines = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.at(-1).done).toBe(true);
      expect(typeof lines.at(-1).adapter).toBe('string');
      const steps = lines.slice(0, -1);
      expect(steps.map((s: { step: number }) => s.step)).toEqual([4, 8, 12]);
      for (const s of steps)
        for (const k of ['step', 'loss', 'val_loss', 'lr', 'grad_norm', 'tokens_per_s']) expect(s).toHaveProperty(k);
      return steps.map((s: { loss: number }) => s.loss);
    };
    const a = run('1');
    const b = run('1');
    const c = run('2');
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });
});

describe('CLI sample', () => {
  it('sample: trains, saves a checkpoint, and samples it plainly and speculatively (--compare, --json)', () => {
    const ckpt = `${process.env.TMPDIR ?? '/tmp'}/v3lab-cli-${process.pid}.safetensors`;
    const small = ['--set', 'data.batch_size=2', '--set', 'data.seq_len=16', '--set', 'train.eval_every=1000'];
    const t = lab('train', '--preset', 'micro-v3', '--steps', '4', '--seed', '2', '--save', ckpt, '--json', ...small);
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(t.out.trim().split('\n').at(-1)!)).toMatchObject({ done: true, saved: ckpt });
    const r = lab(
      'sample',
      '--checkpoint',
      ckpt,
      '--prompt',
      'the ',
      '--length',
      '24',
      '--temperature',
      '0',
      '--compare',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const [plain, spec, ratio] = lines;
    expect(plain).toMatchObject({ mode: 'plain', acceptance: null });
    expect(spec.mode).toBe('speculative');
    expect(spec.acceptance).toBeGreaterThanOrEqual(0);
    expect(Array.from(plain.samples[0] as string)).toHaveLength(24);
    expect(spec.samples).toEqual(plain.samples); // greedy: speculative decoding changes nothing
    expect(ratio.speculative_over_plain).toBeGreaterThan(0);
    expectOneLineError(lab('sample', '--preset', 'micro-dense', '--speculative'), /has none/);
    expectOneLineError(lab('sample', '--preset', 'micro-v3', '--top-p', '0'), /--top-p: 0 is not in/);
    expectOneLineError(lab('sample', '--preset', 'micro-v3', '--checkpoint', ckpt), /exactly one of/);
    expectOneLineError(lab('sample', '--checkpoint', '/nonexistent/x.safetensors'), /cannot read/);
  });
});

describe('CLI grpo', () => {
  it('grpo: one JSON line per GRPO step and held-out accuracy before/after; bad input named', () => {
    const tiny = [
      '--set',
      'train.steps=4',
      '--set',
      'rl.eval_prompts=4',
      '--set',
      'rl.pass_k=2',
      '--set',
      'rl.prompts_per_step=2',
      '--set',
      'rl.group_size=4',
      '--set',
      'rl.max_new_tokens=8',
      '--set',
      'data.batch_size=4',
    ];
    const r = lab('grpo', '--preset', 'grpo-micro', '--steps', '2', '--seed', '1', '--json', ...tiny);
    expect(r.code, r.err).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    for (const l of lines.slice(0, 2))
      for (const k of ['step', 'reward', 'accuracy', 'format', 'kl', 'length'])
        expect(Number.isFinite(l[k]), k).toBe(true);
    expect(lines.map((l) => l.step)).toEqual([5, 6, undefined]);
    expect(lines[2]).toMatchObject({ done: true, steps: 6 });
    expect(lines[2].heldout_accuracy_before).toBeGreaterThanOrEqual(0);
    expect(lines[2].heldout_accuracy_after).toBeGreaterThanOrEqual(0);
    expectOneLineError(lab('grpo', '--preset', 'micro-dense'), /not an RL preset/);
    expectOneLineError(lab('grpo', '--preset', 'grpo-micro', '--set', 'rl.reward=maybe'), /rl.reward/);
    expectOneLineError(lab('grpo'), /--preset is required/);
  });
});

describe('CLI distill', () => {
  it('distill: bad input is named in one line', () => {
    expectOneLineError(lab('distill', '--teacher', 'nope'), /--teacher: unknown preset "nope"/);
    expectOneLineError(lab('distill', '--student', 'micro-dense'), /must be RL pipeline configs/);
    expectOneLineError(lab('distill', '--set', 'rl.difficulty=9'), /rl.difficulty/);
    expectOneLineError(lab('distill', '--set-teacher', 'rl.task=countdown'), /must share task and difficulty/);
  });
});

/** OFP8 decoding straight from the formula, float64, written independently of src/lowp/codec.ts. */
function independentDecode(code: number, eBits: number, mBits: number, bias: number, ieee: boolean): number {
  const sign = (code >> (eBits + mBits)) & 1 ? -1 : 1;
  const exp = (code >> mBits) & ((1 << eBits) - 1);
  const man = code & ((1 << mBits) - 1);
  const expMax = (1 << eBits) - 1;
  if (ieee && exp === expMax) return man === 0 ? sign * Infinity : NaN; // E5M2: IEEE-like specials
  if (!ieee && exp === expMax && man === (1 << mBits) - 1) return NaN; // E4M3: only S.1111.111
  if (exp === 0) return sign * man * 2 ** (1 - bias - mBits); // subnormal
  return sign * (1 + man / 2 ** mBits) * 2 ** (exp - bias);
}
