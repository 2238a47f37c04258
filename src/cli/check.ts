// `npm run lab -- check | fp8 | presets | fields`: the op checks (WebGPU against the CPU
// reference), the low-precision codec inspector, and the lists of presets and --set paths.

import { parseArgs } from 'node:util';
import { FIELDS, PRESETS } from '../config';
import { makeBackend, parseIntArg, UsageError, writeJsonLine } from './args';
import { CHECK_OPTIONS, FP8_OPTIONS } from './options';

export async function cmdCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: CHECK_OPTIONS, strict: true });
  const { OP_CHECKS, selectChecks } = await import('../check/index');
  if (!values.op) throw new UsageError(`--op is required: one of all, ${OP_CHECKS.map((c) => c.name).join(', ')}`);
  const checks = selectChecks(values.op);
  if (!checks.length)
    throw new UsageError(`unknown op "${values.op}" (available: all, ${OP_CHECKS.map((c) => c.name).join(', ')})`);
  const seed = parseIntArg('seed', values.seed, 0, 0);
  const cases = parseIntArg('cases', values.cases, 1, 3);
  const { runCheck } = await import('../check/harness');
  const { CpuBackend } = await import('../backends/cpu/backend');
  const gpu = await makeBackend('webgpu');
  const cpu = new CpuBackend();
  process.stderr.write(`v3lab check: seed ${seed} on ${gpu.deviceLabel}\n`);
  let failed = 0;
  const e = (x: number | null) => (x === null ? '-' : x.toExponential(2));
  for (const check of checks) {
    for (const r of await runCheck(check, seed, cpu, gpu, cases)) {
      if (!r.ok) failed++;
      if (values.json) writeJsonLine(r);
      else {
        process.stdout.write(
          `${r.ok ? 'ok  ' : 'FAIL'} ${r.op.padEnd(16)} ${r.desc.padEnd(40)} fwd ${e(r.forwardErr)} (tol ${e(r.tolForward)})  bwd ${e(r.backwardErr)} (tol ${e(r.tolBackward)})  fd ${e(r.finiteDiffErr)}\n`,
        );
      }
    }
  }
  const summary = { done: true, failed, adapter: gpu.deviceLabel, seed };
  if (values.json) writeJsonLine(summary);
  else process.stdout.write(failed ? `${failed} case(s) FAILED\n` : 'all checks passed\n');
  return failed ? 1 : 0;
}

export async function cmdFp8(argv: string[]): Promise<number> {
  // Numbers like -0.5 would read as options: pass every non-flag argument, in order, after '--'.
  const flags = argv.filter((a) => a.startsWith('--') && !/^--?[\d.]/.test(a) && a !== '--');
  const values_ = argv.filter((a) => !flags.includes(a) && a !== '--');
  const { values, positionals } = parseArgs({
    args: [...flags, '--', ...values_],
    options: FP8_OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const codec = await import('../lowp/codec');
  const format = values.format as 'e4m3' | 'e5m2' | 'e2m1';
  if (!codec.LOW_FORMATS.includes(format))
    throw new UsageError(`--format: "${values.format}" is not one of ${codec.LOW_FORMATS.join(', ')}`);
  const modes = [values.encode, values.decode, values.accum].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('fp8: give exactly one of --encode <numbers…>, --decode <codes…>, --accum');
  if (values.accum) {
    const { accumExperiment, formatAccumTable } = await import('../lowp/accum');
    const gpu = await makeBackend('webgpu');
    process.stderr.write(`v3lab fp8 --accum: accumulation error vs K on ${gpu.deviceLabel}\n`);
    process.stdout.write(`${formatAccumTable(await accumExperiment(gpu, [256, 512, 1024, 2048, 4096]))}\n`);
    return 0;
  }
  if (!positionals.length) throw new UsageError(`fp8: no ${values.encode ? 'numbers' : 'codes'} given`);
  if (values.encode) {
    const codes = positionals.map((raw) => {
      const t = raw.trim();
      const x =
        t === 'NaN'
          ? NaN
          : t === 'Infinity' || t === 'inf'
            ? Infinity
            : t === '-Infinity' || t === '-inf'
              ? -Infinity
              : Number(t);
      if (t === '' || (Number.isNaN(x) && t !== 'NaN')) throw new UsageError(`--encode: "${raw}" is not a number`);
      return codec.lowpEncode(x, format);
    });
    writeJsonLine(codes);
    return 0;
  }
  const max = codec.codeCount(format) - 1;
  const out = positionals.map((raw) => {
    const t = raw.trim().toLowerCase();
    const code = /^0x[0-9a-f]+$/.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(code) || code < 0 || code > max)
      throw new UsageError(`--decode: "${raw}" is not a ${format} code (0..${max}, decimal or 0x hex)`);
    return codec.lowpDecode(code, format);
  });
  writeJsonLine(out); // NaN and ±Inf as "NaN", "Infinity", "-Infinity"
  return 0;
}

/** Every preset, one line each. */
export async function cmdPresets(): Promise<number> {
  for (const p of PRESETS) process.stdout.write(`${p.name.padEnd(17)} ${p.description}\n`);
  return 0;
}

/**
 * Every --set path with its range, whether it is live, its plain-language label and help, and for
 * a V3 / R1 knob a second line with what it does and the paper's section (as the page shows them).
 */
export async function cmdFields(): Promise<number> {
  for (const f of FIELDS) {
    const range =
      f.kind === 'enum'
        ? f.options.join('|')
        : f.kind === 'bool'
          ? 'true|false'
          : f.kind === 'string'
            ? `text ≤ ${f.maxLength} chars`
            : `${f.kind} [${f.min}, ${f.max}]`;
    process.stdout.write(
      `${f.path.padEnd(26)} ${range.padEnd(28)} ${f.live ? 'live ' : '     '} ${f.label}: ${f.help}\n`,
    );
    if (f.note) process.stdout.write(`${''.padEnd(62)} ${f.note}\n`);
  }
  return 0;
}
