// `npm run lab -- sample`: text from the generation engine, with its decoding figures.

import { parseArgs } from 'node:util';
import type { LabApi, RunInfo, StepMetrics } from '../lab/api';
import {
  createCliLab,
  decodeLinkArg,
  fmt,
  parseBackend,
  parseFloatArg,
  parseIntArg,
  parseSets,
  presetNames,
  readCheckpointArg,
  requirePreset,
  UsageError,
  writeJsonLine,
} from './args';
import { SAMPLE_OPTIONS } from './options';

type SampleArgs = ReturnType<typeof parseSampleArgs>;

/** One decoding mode's samples and figures (a JSON line with --json). */
interface ModeResult {
  mode: string;
  samples: string[];
  tokens_per_s: number;
  chars_per_forward: number;
  acceptance: number | null;
  ms: number;
}

/** The sample command's flags, checked (all of them before a device is acquired). */
export function parseSampleArgs(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: SAMPLE_OPTIONS, strict: true });
  const sources = [values.preset, values.link, values.checkpoint].filter((v) => v !== undefined).length;
  if (sources !== 1)
    throw new UsageError(`give exactly one of --preset, --link, --checkpoint (presets: ${presetNames()})`);
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
  const seed = parseIntArg('seed', values.seed, 0, 0);
  return {
    preset: values.preset,
    link: values.link,
    checkpoint: values.checkpoint,
    set: values.set,
    prompt: values.prompt!,
    speculative: values.speculative,
    compare: values.compare,
    /** Whether --seed was given: otherwise a checkpoint's or link's seed replaces the default 0. */
    seedGiven: values.seed !== undefined,
    json: values.json,
    length,
    count,
    temperature,
    topK,
    topP,
    trainSteps,
    backendKind,
    seed,
  };
}

/** Speculative decoding needs an MTP module; checked before a device is acquired, so the error is instant. */
function checkMtp(args: SampleArgs, name: string, depth: number): void {
  if ((args.speculative || args.compare) && depth < 1)
    throw new UsageError(
      `speculative decoding drafts with the MTP module, but ${name} has none: add --set model.num_nextn_predict_layers=1 (and train) or use micro-v3 / v3-tiny`,
    );
}

/** The run of a saved checkpoint, with its seed unless --seed was given. */
async function openCheckpoint(lab: LabApi, args: SampleArgs, file: string): Promise<{ info: RunInfo; seed: number }> {
  if (args.set?.length || args.trainSteps)
    throw new UsageError('--set and --train-steps apply to a preset or link, not to a checkpoint');
  const ckpt = await readCheckpointArg('checkpoint', file);
  checkMtp(args, ckpt.preset, ckpt.config.model.num_nextn_predict_layers);
  await lab.init({ backend: args.backendKind });
  const info = await lab.restore(ckpt);
  return { info, seed: args.seedGiven ? args.seed : ckpt.seed };
}

/** A fresh run of a preset or share link (explicit --set and --seed override the link's). */
async function openPreset(lab: LabApi, args: SampleArgs): Promise<{ info: RunInfo; seed: number }> {
  let preset = args.preset;
  let seed = args.seed;
  let set: Record<string, string | number | boolean> = parseSets(args.set, {
    conflicts: args.trainSteps ? { 'train.steps': '--train-steps' } : {},
  });
  if (args.link !== undefined) {
    const d = await decodeLinkArg(args.link);
    preset = d.state.preset;
    set = { ...d.state.set, ...set };
    if (!args.seedGiven) seed = d.state.seed;
  }
  const { applyOverrides } = await import('../config');
  const { name, config } = requirePreset(preset);
  const cfg = applyOverrides(config, {
    ...set,
    ...(args.trainSteps ? { 'train.steps': args.trainSteps } : {}),
  });
  checkMtp(args, name, cfg.model.num_nextn_predict_layers);
  await lab.init({ backend: args.backendKind });
  const info = await lab.createRun({ preset: name, seed, steps: args.trainSteps || undefined, set });
  return { info, seed };
}

/** Train a fresh run for --train-steps steps (progress on stderr), or say that it is untrained. */
async function trainFirst(lab: LabApi, info: RunInfo, trainSteps: number): Promise<void> {
  if (trainSteps <= 0) {
    process.stderr.write(
      `v3lab sample: ${info.preset} is untrained (freshly initialized); pass --train-steps N or --checkpoint FILE for a trained model\n`,
    );
    return;
  }
  process.stderr.write(`v3lab sample: training ${info.preset} for ${trainSteps} steps first\n`);
  const summary = await lab.train((batch: StepMetrics[]) => {
    const m = batch[batch.length - 1];
    if (m)
      process.stderr.write(
        `\r[${((100 * m.step) / trainSteps).toFixed(0).padStart(3)}%] step ${m.step}/${trainSteps}  loss ${fmt(m.loss)}`,
      );
  });
  process.stderr.write(`\ntrained: loss ${fmt(summary.final_loss)}, val ${fmt(summary.final_val_loss)}\n`);
}

/** --count samples in one decoding mode (seeds seed, seed+1, …), with the figures summed over them. */
async function decodeSamples(lab: LabApi, args: SampleArgs, seed: number, speculative: boolean): Promise<ModeResult> {
  const samples: string[] = [];
  const stats = { tokens: 0, forwards: 0, ms: 0, drafted: 0, accepted: 0 };
  let acceptance: number | null = null;
  for (let i = 0; i < args.count; i++) {
    const r = await lab.sample({
      prompt: args.prompt,
      length: args.length,
      temperature: args.temperature,
      topK: args.topK,
      topP: args.topP,
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
  return {
    mode: speculative ? 'speculative' : 'plain',
    samples,
    tokens_per_s: (stats.tokens * 1000) / Math.max(stats.ms, 1e-9),
    chars_per_forward: stats.tokens / Math.max(1, stats.forwards),
    acceptance,
    ms: stats.ms,
  };
}

function printMode(row: ModeResult, args: SampleArgs): void {
  if (args.json) {
    writeJsonLine(row);
    return;
  }
  const acceptance = row.acceptance !== null ? `, acceptance ${(100 * row.acceptance).toFixed(1)}%` : '';
  process.stdout.write(
    `--- ${row.mode} decoding: ${row.tokens_per_s.toFixed(1)} chars/s, ${row.chars_per_forward.toFixed(2)} chars per forward${acceptance} ---\n`,
  );
  for (const text of row.samples) process.stdout.write(`${JSON.stringify(args.prompt)} → ${JSON.stringify(text)}\n`);
}

/** --compare: speculative over plain decoding speed. */
function printComparison(plain: ModeResult, speculative: ModeResult, json: boolean): void {
  const ratio = speculative.tokens_per_s / plain.tokens_per_s;
  if (json) writeJsonLine({ speculative_over_plain: ratio });
  else process.stdout.write(`speculative / plain: ${ratio.toFixed(2)}× chars/s\n`);
}

/**
 * Generate text with the generation engine from a preset (optionally trained first for
 * --train-steps steps), a share link, or a saved checkpoint. Prints the samples and the decoding
 * figures: chars/s, chars per main forward, and with --speculative/--compare the MTP drafts'
 * acceptance rate.
 */
export async function cmdSample(argv: string[]): Promise<number> {
  const args = parseSampleArgs(argv);
  const lab = await createCliLab();
  let run: { info: RunInfo; seed: number };
  if (args.checkpoint !== undefined) run = await openCheckpoint(lab, args, args.checkpoint);
  else {
    run = await openPreset(lab, args);
    await trainFirst(lab, run.info, args.trainSteps);
  }
  const results: ModeResult[] = [];
  for (const speculative of args.compare ? [false, true] : [args.speculative]) {
    const row = await decodeSamples(lab, args, run.seed, speculative);
    results.push(row);
    printMode(row, args);
  }
  if (results.length === 2) printComparison(results[0], results[1], args.json);
  return 0;
}
