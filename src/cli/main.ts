// `npm run lab -- <command>`: the lab, headless, in node (WebGPU through dawn.node).
//   train --preset NAME|--link URL [--set path=value]... [--steps N] [--seed S] [--backend webgpu|cpu] [--save FILE] [--json]
//   sample --preset NAME|--link URL|--checkpoint FILE [--train-steps N] [--prompt TEXT] … [--speculative|--compare]
//   check --op NAME|all [--seed S] [--json]
//   presets
// With --json, stdout carries only JSON lines; progress and logs go to stderr. Any bad input
// ends with a one-line error on stderr and exit code 2; a failed check exits 1.

import { parseArgs } from 'node:util';
import type { Backend } from '../engine/backend';
import type { StepMetrics } from '../lab/api';
import { FIELDS } from '../config';
import { PRESETS } from '../config';

class UsageError extends Error {}

const USAGE = `usage: npm run lab -- <command> [options]
  train   --preset NAME | --link URL [--set path=value]... [--steps N] [--seed S] [--backend webgpu|cpu] [--from FILE] [--save FILE] [--json]
  sample  --preset NAME | --link URL | --checkpoint FILE [--set path=value]... [--train-steps N] [--prompt TEXT]
          [--length N] [--count N] [--temperature T] [--top-k K] [--top-p P] [--speculative | --compare] [--seed S] [--json]
  grpo    --preset NAME [--steps N] [--seed S] [--set path=value]... [--from FILE] [--json]
  distill [--teacher PRESET] [--student PRESET] [--set-teacher p=v]... [--set p=v]... [--seed S] [--sft-out FILE] [--json]
  check   --op NAME|all [--seed S] [--json]
  fp8     --format e4m3|e5m2|e2m1 (--encode <numbers…> | --decode <codes…> | --accum)
  export  (--preset NAME [--seed S] [--set path=value]… | --checkpoint FILE) --out DIR [--dtype f32|bf16|fp8] [--trainer torchtitan]
  import  DIR [--json]   (validate a Hugging Face DeepSeek-V3 export and summarize it)
  presets
  fields  (lists every --set path)`;

function parseIntArg(name: string, raw: string | undefined, min: number, fallback?: number): number {
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

function parseSets(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set "${item}": expected path=value, e.g. optim.lr=0.001`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return out;
}

async function makeBackend(kind: string): Promise<Backend> {
  if (kind === 'cpu') {
    const { CpuBackend } = await import('../backends/cpu/backend');
    return new CpuBackend();
  }
  if (kind !== 'webgpu') throw new UsageError(`--backend: "${kind}" is not one of webgpu, cpu`);
  const { createNodeBackend } = await import('../backends/webgpu/node');
  return createNodeBackend();
}

function parseBackend(raw: string | undefined): 'webgpu' | 'cpu' {
  if (raw !== 'webgpu' && raw !== 'cpu') throw new UsageError(`--backend: "${raw}" is not one of webgpu, cpu`);
  return raw;
}

/** A v3lab .safetensors checkpoint named by a flag; unreadable or invalid files end with a one-line error. */
async function readCheckpointArg(flag: string, path: string): Promise<import('../lab/api').Checkpoint> {
  const { readFile } = await import('node:fs/promises');
  const { checkpointFromSafetensors } = await import('../train/checkpoint');
  const bytes = await readFile(path).catch((err: Error) => {
    throw new UsageError(`--${flag}: cannot read ${path}: ${err.message}`);
  });
  return checkpointFromSafetensors(new Uint8Array(bytes));
}

/**
 * Stage handoff: the current run (its preset, seed and settings) continues from another run's
 * weights at that run's step, with a fresh optimizer — e.g. an R1 run's SFT stage from an R1-Zero
 * run's pretraining checkpoint.
 */
async function handOff(
  lab: import('../lab/api').LabApi,
  info: import('../lab/api').RunInfo,
  file: string,
): Promise<import('../lab/api').RunInfo> {
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

function fmt(x: number | null, digits = 4): string {
  return x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

async function cmdTrain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      link: { type: 'string' },
      set: { type: 'string', multiple: true },
      steps: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string', default: 'webgpu' },
      save: { type: 'string' },
      from: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  // A share link gives preset, seed and settings; explicit flags override it.
  let linked: { preset: string; seed: number; set: Record<string, string | number | boolean> } | null = null;
  if (values.link !== undefined) {
    const { decodeLink } = await import('../lab/share');
    const d = decodeLink(values.link);
    if (d.problems.length) throw new UsageError(`--link: ${d.problems.join('; ')}`);
    if (d.migrated.length)
      process.stderr.write(`v3lab: link migrated from an older schema (${d.migrated.join(', ')})\n`);
    linked = d.state;
  }
  const presetName = values.preset ?? linked?.preset;
  if (!presetName)
    throw new UsageError(`--preset or --link is required (presets: ${PRESETS.map((p) => p.name).join(', ')})`);
  if (!PRESETS.some((p) => p.name === presetName)) {
    throw new UsageError(`unknown preset "${presetName}" (available: ${PRESETS.map((p) => p.name).join(', ')})`);
  }
  const steps = values.steps === undefined ? undefined : parseIntArg('steps', values.steps, 1);
  const seed = values.seed === undefined && linked ? linked.seed : parseIntArg('seed', values.seed, 0, 0);
  const set: Record<string, string | number | boolean> = { ...(linked?.set ?? {}), ...parseSets(values.set) };
  const json = values.json;
  const backendKind = parseBackend(values.backend);

  const { createLab } = await import('../lab/lab');
  const { applyOverrides } = await import('../config');
  // Validate the whole config before acquiring a device, so config errors are instant.
  applyOverrides(PRESETS.find((p) => p.name === presetName)!.config, {
    ...set,
    ...(steps ? { 'train.steps': steps } : {}),
  });
  const lab = createLab((kind) => makeBackend(kind));
  const init = await lab.init({ backend: backendKind });
  let info = await lab.createRun({ preset: presetName, seed, steps, set });
  if (values.from !== undefined) info = await handOff(lab, info, values.from);
  process.stderr.write(
    `v3lab train: preset ${info.preset}, seed ${info.seed}, ${info.params.toLocaleString('en-US')} params, vocab ${info.vocabSize}, ${info.totalSteps} steps on ${init.adapter}\n`,
  );
  const started = performance.now();
  const summary = await lab.train((batch: StepMetrics[]) => {
    for (const m of batch) {
      if (json) process.stdout.write(`${JSON.stringify(m)}\n`);
      const pct = ((100 * m.step) / info.totalSteps).toFixed(0).padStart(3);
      const elapsed = (performance.now() - started) / 1000;
      const eta = (elapsed / m.step) * (info.totalSteps - m.step);
      const rl = m.stage
        ? `  [${m.stage}]${m.reward !== undefined ? `  reward ${fmt(m.reward, 3)} acc ${fmt(m.accuracy ?? null, 2)} fmt ${fmt(m.format_rate ?? null, 2)} len ${fmt(m.response_len ?? null, 1)} kl ${fmt(m.kl ?? null, 4)} clip ${fmt(m.clip_frac ?? null, 3)}` : ''}${m.heldout_greedy !== undefined ? `  held-out greedy ${fmt(m.heldout_greedy, 3)} pass@k ${fmt(m.heldout_pass_k ?? null, 3)}` : ''}`
        : '';
      const line = `[${pct}%] step ${m.step}/${info.totalSteps}  loss ${fmt(m.loss)}  val ${fmt(m.val_loss)}  lr ${m.lr.toExponential(2)}  |g| ${fmt(m.grad_norm, 3)}  ${Math.round(m.tokens_per_s)} tok/s  eta ${eta.toFixed(0)}s${rl}`;
      process.stderr.write(`${line}\n`);
      if (!json) process.stdout.write(`${line}\n`);
    }
  });
  if (values.save) await saveCheckpoint(lab, values.save);
  const done = {
    done: true,
    final_loss: summary.final_loss,
    final_val_loss: summary.final_val_loss,
    steps: summary.steps,
    adapter: summary.adapter,
    ...(values.save ? { saved: values.save } : {}),
  };
  if (json) process.stdout.write(`${JSON.stringify(done)}\n`);
  else
    process.stdout.write(
      `done: final loss ${fmt(summary.final_loss)}, val ${fmt(summary.final_val_loss)} (ln V = ${Math.log(info.vocabSize).toFixed(4)}) on ${summary.adapter}\n`,
    );
  return 0;
}

async function cmdCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      op: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      cases: { type: 'string' },
    },
    strict: true,
  });
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
      if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(
          `${r.ok ? 'ok  ' : 'FAIL'} ${r.op.padEnd(16)} ${r.desc.padEnd(40)} fwd ${e(r.forwardErr)} (tol ${e(r.tolForward)})  bwd ${e(r.backwardErr)} (tol ${e(r.tolBackward)})  fd ${e(r.finiteDiffErr)}\n`,
        );
      }
    }
  }
  const summary = { done: true, failed, adapter: gpu.deviceLabel, seed };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(failed ? `${failed} case(s) FAILED\n` : 'all checks passed\n');
  return failed ? 1 : 0;
}

const VALUE_OPTIONS = new Set([
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
function joinValues(argv: string[]): string[] {
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

/** Numbers as JSON values: NaN and ±Inf become the strings "NaN", "Infinity", "-Infinity". */
function jsonNumber(x: number): number | string {
  return Number.isNaN(x)
    ? 'NaN'
    : x === Infinity
      ? 'Infinity'
      : x === -Infinity
        ? '-Infinity'
        : Object.is(x, -0)
          ? -0
          : x;
}

async function cmdFp8(argv: string[]): Promise<number> {
  // Numbers like -0.5 would read as options: pass every non-flag argument, in order, after '--'.
  const flags = argv.filter((a) => a.startsWith('--') && !/^--?[\d.]/.test(a) && a !== '--');
  const values_ = argv.filter((a) => !flags.includes(a) && a !== '--');
  const { values, positionals } = parseArgs({
    args: [...flags, '--', ...values_],
    options: {
      format: { type: 'string', default: 'e4m3' },
      encode: { type: 'boolean', default: false },
      decode: { type: 'boolean', default: false },
      accum: { type: 'boolean', default: false },
    },
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
    process.stdout.write(`${JSON.stringify(codes)}\n`);
    return 0;
  }
  const max = codec.codeCount(format) - 1;
  const out = positionals.map((raw) => {
    const t = raw.trim().toLowerCase();
    const code = /^0x[0-9a-f]+$/.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(code) || code < 0 || code > max)
      throw new UsageError(`--decode: "${raw}" is not a ${format} code (0..${max}, decimal or 0x hex)`);
    return jsonNumber(codec.lowpDecode(code, format));
  });
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

/** Write the run (weights, optimizer, sampler state) as a v3lab .safetensors checkpoint. */
async function saveCheckpoint(lab: import('../lab/api').LabApi, file: string): Promise<void> {
  const { checkpointToSafetensors } = await import('../train/checkpoint');
  const { writeFile } = await import('node:fs/promises');
  const bytes = checkpointToSafetensors(await lab.checkpoint());
  await writeFile(file, bytes).catch((err: Error) => {
    throw new UsageError(`--save: cannot write ${file}: ${err.message}`);
  });
  process.stderr.write(`v3lab: checkpoint written to ${file} (${(bytes.length / 1e6).toFixed(2)} MB)\n`);
}

function parseFloatArg(name: string, raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: "${raw}" is not a number`);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is not in [${min}, ${max}]`);
  return n;
}

/**
 * Generate text with the generation engine from a preset (optionally trained first for
 * --train-steps steps), a share link, or a saved checkpoint. Prints the samples and the decoding
 * figures: chars/s, chars per main forward, and with --speculative/--compare the MTP drafts'
 * acceptance rate.
 */
async function cmdSample(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      link: { type: 'string' },
      checkpoint: { type: 'string' },
      set: { type: 'string', multiple: true },
      'train-steps': { type: 'string' },
      prompt: { type: 'string', default: '' },
      length: { type: 'string' },
      count: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      speculative: { type: 'boolean', default: false },
      compare: { type: 'boolean', default: false },
      seed: { type: 'string' },
      backend: { type: 'string', default: 'webgpu' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const sources = [values.preset, values.link, values.checkpoint].filter((v) => v !== undefined).length;
  if (sources !== 1)
    throw new UsageError(
      `give exactly one of --preset, --link, --checkpoint (presets: ${PRESETS.map((p) => p.name).join(', ')})`,
    );
  if (values.speculative && values.compare)
    throw new UsageError('--speculative and --compare exclude each other (--compare runs both)');
  const length = parseIntArg('length', values.length, 1, 120);
  if (length > 2000) throw new UsageError(`--length: ${length} must be ≤ 2000`);
  const count = parseIntArg('count', values.count, 1, 1);
  if (count > 64) throw new UsageError(`--count: ${count} must be ≤ 64`);
  const temperature = parseFloatArg('temperature', values.temperature, 0, 10, 0.8);
  const topK = parseIntArg('top-k', values['top-k'], 0, 0);
  const topP = parseFloatArg('top-p', values['top-p'], 0.001, 1, 1);
  const trainSteps = parseIntArg('train-steps', values['train-steps'], 0, 0);
  const backendKind = parseBackend(values.backend);
  const json = values.json;

  // Checked before a device is acquired, so the error is instant.
  const needsMtp = (name: string, depth: number) => {
    if ((values.speculative || values.compare) && depth < 1)
      throw new UsageError(
        `speculative decoding drafts with the MTP module, but ${name} has none: add --set model.num_nextn_predict_layers=1 (and train) or use micro-v3 / v3-tiny`,
      );
  };
  const { createLab } = await import('../lab/lab');
  const lab = createLab((kind) => makeBackend(kind));
  let seed = parseIntArg('seed', values.seed, 0, 0);
  let info: import('../lab/api').RunInfo;
  if (values.checkpoint !== undefined) {
    if (values.set?.length || trainSteps)
      throw new UsageError('--set and --train-steps apply to a preset or link, not to a checkpoint');
    const ckpt = await readCheckpointArg('checkpoint', values.checkpoint);
    needsMtp(ckpt.preset, ckpt.config.model.num_nextn_predict_layers);
    await lab.init({ backend: backendKind });
    info = await lab.restore(ckpt);
    if (values.seed === undefined) seed = ckpt.seed;
  } else {
    let preset = values.preset;
    let set: Record<string, string | number | boolean> = parseSets(values.set);
    if (values.link !== undefined) {
      const { decodeLink } = await import('../lab/share');
      const d = decodeLink(values.link);
      if (d.problems.length) throw new UsageError(`--link: ${d.problems.join('; ')}`);
      preset = d.state.preset;
      set = { ...d.state.set, ...set };
      if (values.seed === undefined) seed = d.state.seed;
    }
    if (!PRESETS.some((p) => p.name === preset))
      throw new UsageError(`unknown preset "${preset}" (available: ${PRESETS.map((p) => p.name).join(', ')})`);
    const { applyOverrides } = await import('../config');
    const cfg = applyOverrides(PRESETS.find((p) => p.name === preset)!.config, {
      ...set,
      ...(trainSteps ? { 'train.steps': trainSteps } : {}),
    });
    needsMtp(preset!, cfg.model.num_nextn_predict_layers);
    await lab.init({ backend: backendKind });
    info = await lab.createRun({ preset: preset!, seed, steps: trainSteps || undefined, set });
    if (trainSteps > 0) {
      process.stderr.write(`v3lab sample: training ${info.preset} for ${trainSteps} steps first\n`);
      const summary = await lab.train((batch: StepMetrics[]) => {
        const m = batch[batch.length - 1];
        if (m)
          process.stderr.write(
            `\r[${((100 * m.step) / trainSteps).toFixed(0).padStart(3)}%] step ${m.step}/${trainSteps}  loss ${fmt(m.loss)}`,
          );
      });
      process.stderr.write(`\ntrained: loss ${fmt(summary.final_loss)}, val ${fmt(summary.final_val_loss)}\n`);
    } else {
      process.stderr.write(
        `v3lab sample: ${info.preset} is untrained (freshly initialized); pass --train-steps N or --checkpoint FILE for a trained model\n`,
      );
    }
  }
  const modes = values.compare ? [false, true] : [values.speculative];
  const results: Array<{
    mode: string;
    samples: string[];
    tokens_per_s: number;
    chars_per_forward: number;
    acceptance: number | null;
    ms: number;
  }> = [];
  for (const speculative of modes) {
    const samples: string[] = [];
    const stats = { tokens: 0, forwards: 0, ms: 0, drafted: 0, accepted: 0 };
    let acceptance: number | null = null;
    for (let i = 0; i < count; i++) {
      const r = await lab.sample({
        prompt: values.prompt!,
        length,
        temperature,
        topK,
        topP,
        seed: seed + i,
        speculative,
      });
      samples.push(r.text);
      stats.tokens += r.stats.tokens;
      stats.forwards += r.stats.forwards;
      stats.ms += r.stats.ms;
      stats.drafted += r.stats.drafted;
      stats.accepted += r.stats.accepted;
      if (speculative && stats.drafted > 0) acceptance = stats.accepted / stats.drafted;
    }
    const row = {
      mode: speculative ? 'speculative' : 'plain',
      samples,
      tokens_per_s: (stats.tokens * 1000) / Math.max(stats.ms, 1e-9),
      chars_per_forward: stats.tokens / Math.max(1, stats.forwards),
      acceptance,
      ms: stats.ms,
    };
    results.push(row);
    if (json) process.stdout.write(`${JSON.stringify(row)}\n`);
    else {
      process.stdout.write(
        `--- ${row.mode} decoding: ${row.tokens_per_s.toFixed(1)} chars/s, ${row.chars_per_forward.toFixed(2)} chars per forward${acceptance !== null ? `, acceptance ${(100 * acceptance).toFixed(1)}%` : ''} ---\n`,
      );
      for (const text of samples) process.stdout.write(`${JSON.stringify(values.prompt)} → ${JSON.stringify(text)}\n`);
    }
  }
  if (results.length === 2) {
    const ratio = results[1].tokens_per_s / results[0].tokens_per_s;
    if (json) process.stdout.write(`${JSON.stringify({ speculative_over_plain: ratio })}\n`);
    else process.stdout.write(`speculative / plain: ${ratio.toFixed(2)}× chars/s\n`);
  }
  return 0;
}

/**
 * The RL pipeline of a preset with N GRPO steps: pretraining (and SFT) as the preset says, or from
 * a checkpoint (--from). Progress on stderr; with --json one line per GRPO step
 * {"step","reward","accuracy","format","kl","length",…} and a last line with the held-out accuracy
 * before and after GRPO (greedy, on the same held-out prompts).
 */
async function cmdGrpo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      set: { type: 'string', multiple: true },
      steps: { type: 'string' },
      seed: { type: 'string' },
      from: { type: 'string' },
      backend: { type: 'string', default: 'webgpu' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const presetName = values.preset;
  if (!presetName)
    throw new UsageError(
      `--preset is required (RL presets: ${PRESETS.filter((p) => p.config.rl.mode === 'pipeline')
        .map((p) => p.name)
        .join(', ')})`,
    );
  const preset = PRESETS.find((p) => p.name === presetName);
  if (!preset)
    throw new UsageError(`unknown preset "${presetName}" (available: ${PRESETS.map((p) => p.name).join(', ')})`);
  const set: Record<string, string | number | boolean> = parseSets(values.set);
  if (values.steps !== undefined) set['rl.grpo_steps'] = parseIntArg('steps', values.steps, 1);
  // One line per GRPO step.
  set['train.log_every'] ??= 1;
  const seed = parseIntArg('seed', values.seed, 0, 0);
  const backendKind = parseBackend(values.backend);
  const { applyOverrides } = await import('../config');
  const cfg = applyOverrides(preset.config, set);
  if (cfg.rl.mode !== 'pipeline')
    throw new UsageError(
      `${presetName} is not an RL preset (rl.mode is "off"); try grpo-micro, r1-zero or r1, or --set rl.mode=pipeline --set data.corpus=task`,
    );
  if (cfg.rl.grpo_steps < 1) throw new UsageError('--steps: GRPO needs at least one step');
  const json = values.json;
  const { createLab } = await import('../lab/lab');
  const lab = createLab((kind) => makeBackend(kind));
  const init = await lab.init({ backend: backendKind });
  let info = await lab.createRun({ preset: presetName, seed, set });
  if (values.from !== undefined) info = await handOff(lab, info, values.from);
  const grpoStage = info.stages.find((s) => s.name === 'grpo')!;
  process.stderr.write(
    `v3lab grpo: ${presetName} (${cfg.rl.task}, difficulty ${cfg.rl.difficulty}), seed ${seed}, ${cfg.rl.grpo_steps} GRPO steps after step ${grpoStage.first - 1}, on ${init.adapter}\n`,
  );
  let before: number | null = null;
  let after: number | null = null;
  let passBefore: number | null = null;
  let passAfter: number | null = null;
  const started = performance.now();
  const summary = await lab.train((batch: StepMetrics[]) => {
    for (const m of batch) {
      if (m.heldout_greedy !== undefined) {
        if (m.stage !== 'grpo') (before = m.heldout_greedy), (passBefore = m.heldout_pass_k ?? null);
        else (after = m.heldout_greedy), (passAfter = m.heldout_pass_k ?? null);
      }
      if (m.stage !== 'grpo') {
        process.stderr.write(
          `\r[${m.stage}] step ${m.step}/${info.totalSteps}  loss ${fmt(m.loss)}${m.heldout_greedy !== undefined ? `  held-out ${fmt(m.heldout_greedy, 3)}` : ''}   `,
        );
        continue;
      }
      const row = {
        step: m.step,
        reward: m.reward,
        accuracy: m.accuracy,
        format: m.format_rate,
        kl: m.kl,
        length: m.response_len,
        clip_frac: m.clip_frac,
        entropy: m.entropy,
        adv_std: m.adv_std,
        loss: m.loss,
        rollout_tokens_per_s: m.rollout_tokens_per_s,
        ...(m.heldout_greedy !== undefined
          ? { heldout_greedy: m.heldout_greedy, heldout_pass_k: m.heldout_pass_k }
          : {}),
      };
      if (json) process.stdout.write(`${JSON.stringify(row)}\n`);
      const line = `[grpo] step ${m.step}/${info.totalSteps}  reward ${fmt(m.reward ?? null, 3)}  acc ${fmt(m.accuracy ?? null, 2)}  fmt ${fmt(m.format_rate ?? null, 2)}  kl ${fmt(m.kl ?? null, 4)}  len ${fmt(m.response_len ?? null, 1)}  ${Math.round(m.rollout_tokens_per_s ?? 0)} rollout tok/s${m.heldout_greedy !== undefined ? `  held-out ${fmt(m.heldout_greedy, 3)}` : ''}`;
      process.stderr.write(`\n${line}`);
      if (!json) process.stdout.write(`${line}\n`);
    }
  });
  process.stderr.write('\n');
  const done = {
    done: true,
    steps: summary.steps,
    heldout_accuracy_before: before,
    heldout_accuracy_after: after,
    heldout_pass_k_before: passBefore,
    heldout_pass_k_after: passAfter,
    seconds: (performance.now() - started) / 1000,
    adapter: summary.adapter,
  };
  if (json) process.stdout.write(`${JSON.stringify(done)}\n`);
  else
    process.stdout.write(
      `done: held-out accuracy (greedy) ${fmt(before, 3)} before GRPO → ${fmt(after, 3)} after; pass@${cfg.rl.pass_k} ${fmt(passBefore, 3)} → ${fmt(passAfter, 3)}\n`,
    );
  return 0;
}

/**
 * Distillation vs direct RL for a small model: teacher pipeline → rejection sampling → student
 * base → SFT arm and GRPO arm at equal student tokens. --json: one line per evaluation point
 * {"arm","step","tokens","heldout_greedy",…} and a final line with both arms' held-out accuracy.
 */
async function cmdDistill(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      teacher: { type: 'string', default: 'grpo-micro' },
      student: { type: 'string', default: 'distill-vs-rl' },
      'set-teacher': { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      seed: { type: 'string' },
      'sft-out': { type: 'string' },
      backend: { type: 'string', default: 'webgpu' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const { applyOverrides } = await import('../config');
  const find = (name: string, role: string) => {
    const p = PRESETS.find((x) => x.name === name);
    if (!p)
      throw new UsageError(`--${role}: unknown preset "${name}" (available: ${PRESETS.map((x) => x.name).join(', ')})`);
    return p;
  };
  const teacher = applyOverrides(find(values.teacher!, 'teacher').config, parseSets(values['set-teacher']));
  const student = applyOverrides(find(values.student!, 'student').config, parseSets(values.set));
  const seed = parseIntArg('seed', values.seed, 0, 0);
  const json = values.json;
  const backendKind = parseBackend(values.backend);
  const { checkDistillConfigs, distillVsRl, sftJsonl } = await import('../run/distill');
  try {
    checkDistillConfigs(teacher, student); // before acquiring a device, so the error is instant
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const be = await makeBackend(backendKind);
  process.stderr.write(
    `v3lab distill: teacher ${values.teacher}, student ${values.student} (${student.rl.task}, difficulty ${student.rl.difficulty}), seed ${seed}, on ${be.deviceLabel}\n`,
  );
  const started = performance.now();
  const res = await distillVsRl(be, {
    teacher,
    student,
    seed,
    onProgress: (what) => process.stderr.write(`\r${what}                `),
    onPoint: (p) => {
      if (json) process.stdout.write(`${JSON.stringify(p)}\n`);
      const line = `[${p.arm}] step ${p.step}  tokens ${p.tokens}  held-out greedy ${fmt(p.heldout_greedy, 3)}  pass@k ${fmt(p.heldout_pass_k, 3)}  format ${fmt(p.format_rate, 2)}  length ${fmt(p.response_len, 1)}`;
      process.stderr.write(`\n${line}\n`);
      if (!json) process.stdout.write(`${line}\n`);
    },
  });
  if (values['sft-out']) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(values['sft-out'], sftJsonl(res.sft.records)).catch((err: Error) => {
      throw new UsageError(`--sft-out: cannot write ${values['sft-out']}: ${err.message}`);
    });
  }
  const f = res.final;
  const done = {
    done: true,
    budget: 'student tokens processed (rollout prefill + decode, training and reference forwards)',
    budget_tokens: res.budgetTokens,
    sft_generated: res.sft.generated,
    sft_admitted: res.sft.admitted,
    teacher_heldout: f.teacher.heldout_greedy,
    base_heldout: f.base.heldout_greedy,
    rl_heldout: f.rl.heldout_greedy,
    distill_heldout: f.distill.heldout_greedy,
    rl_pass_k: f.rl.heldout_pass_k,
    distill_pass_k: f.distill.heldout_pass_k,
    seconds: (performance.now() - started) / 1000,
  };
  if (json) process.stdout.write(`${JSON.stringify(done)}\n`);
  else
    process.stdout.write(
      `done: held-out greedy accuracy at ${res.budgetTokens} student tokens: distill ${fmt(f.distill.heldout_greedy, 3)} vs rl ${fmt(f.rl.heldout_greedy, 3)} (base ${fmt(f.base.heldout_greedy, 3)}, teacher ${fmt(f.teacher.heldout_greedy, 3)}); SFT set ${res.sft.admitted}/${res.sft.generated} verified\n`,
    );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = joinValues(argv);
  switch (cmd) {
    case 'train':
      return cmdTrain(rest);
    case 'sample':
      return cmdSample(rest);
    case 'grpo':
      return cmdGrpo(rest);
    case 'distill':
      return cmdDistill(rest);
    case 'check':
      return cmdCheck(rest);
    case 'fp8':
      return cmdFp8(rest);
    case 'export':
      return (await import('./export')).cmdExport(rest);
    case 'import':
      return (await import('./export')).cmdImport(rest);
    case 'presets':
      for (const p of PRESETS) process.stdout.write(`${p.name.padEnd(17)} ${p.description}\n`);
      return 0;
    case 'fields':
      for (const f of FIELDS) {
        const range =
          f.kind === 'enum'
            ? f.options.join('|')
            : f.kind === 'bool'
              ? 'true|false'
              : f.kind === 'string'
                ? `text ≤ ${f.maxLength} chars`
                : `${f.kind} [${f.min}, ${f.max}]`;
        process.stdout.write(`${f.path.padEnd(26)} ${range.padEnd(28)} ${f.live ? 'live ' : '     '} ${f.help}\n`);
      }
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${msg.split('\n')[0]}\n`);
    if (process.env.V3LAB_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(2);
  },
);
