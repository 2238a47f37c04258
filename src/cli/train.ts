// `npm run lab -- train`: a run from a preset or a share link, trained for its steps, with one
// progress line per logged step (JSON lines on stdout with --json) and an optional checkpoint.
//   --from FILE    another run's weights (a stage handoff; a fresh optimizer, on purpose)
//   --resume FILE  a --save'd run continued as it was: weights, AdamW moments, sampler state, config
//   --stop-at K    stop after step K of the run's N (schedule intact), with --save FILE to --resume
//   --seeds A,B,…  one fresh run per seed, in turn, then a summary line (mean ± sd)
// A run whose loss or grad norm goes NaN or ±Inf stops: `{"done":false,"diverged":true,…}` with
// --json, and a DivergedError (main.ts: `error: diverged at step N: …`, exit code 3).

import { parseArgs } from 'node:util';
import type { Checkpoint, LabApi, RunInfo, StepMetrics } from '../lab/api';
import type { RunConfig } from '../config';
import {
  checkStepsLeft,
  createCliLab,
  DivergedError,
  decodeLinkArg,
  fmt,
  handOff,
  messageLine,
  parseBackend,
  parseIntArg,
  parseSeedArgs,
  parseSets,
  presetNames,
  readCheckpointArg,
  requirePreset,
  saveCheckpoint,
  UsageError,
  writeJsonLine,
} from './args';
import { TRAIN_OPTIONS } from './options';
import { type TrainSeedResult, trainSummary, trainSummaryText } from './summary';

type Settings = Record<string, string | number | boolean>;

/** The train command's arguments, all checked (checkpoints read) before a device is acquired. */
export interface TrainArgs {
  presetName: string;
  /** The run's config (a resumed run: the checkpoint's). */
  cfg: RunConfig;
  /** The run's total steps. */
  total: number;
  steps: number | undefined;
  seeds: number[];
  multi: boolean;
  set: Settings;
  backendKind: 'webgpu' | 'cpu';
  json: boolean;
  save: string | undefined;
  stopAt: number | undefined;
  from: { file: string; ckpt: Checkpoint } | undefined;
  resume: { file: string; ckpt: Checkpoint } | undefined;
}

const parseTrainValues = (argv: string[]) => parseArgs({ args: argv, options: TRAIN_OPTIONS, strict: true }).values;
type Values = ReturnType<typeof parseTrainValues>;

/** --resume: the saved run as it was; flags that would make another run are refused. */
async function parseResume(values: Values, file: string) {
  for (const flag of ['preset', 'link', 'set', 'steps', 'seed', 'seeds', 'from'] as const)
    if (values[flag] !== undefined)
      throw new UsageError(
        `--resume continues the saved run as it was (its preset, seed, config and steps): drop --${flag}`,
      );
  const ckpt = await readCheckpointArg('resume', file);
  if (!ckpt.optimizer)
    throw new UsageError(
      `--resume: ${file} has no optimizer state (a weights-only checkpoint): start from its weights with --from`,
    );
  requirePreset(ckpt.preset, '--resume: ');
  const { Schedule } = await import('../run/schedule');
  const schedule = new Schedule(ckpt.config);
  const total = schedule.total;
  checkStepsLeft('resume', file, ckpt.step, total);
  const rl = schedule.stages.find((st) => st.name !== 'pretrain' && st.first <= ckpt.step);
  if (rl)
    process.stderr.write(
      `note: ${file} is past the start of the ${rl.name} stage; checkpoints do not yet hold the RL stages' random streams (prompts, SFT batches), so from here on the resumed run differs from an uninterrupted one\n`,
    );
  return { presetName: ckpt.preset, cfg: ckpt.config, total, seeds: [ckpt.seed], resume: { file, ckpt } };
}

/** A new run: preset or share link (explicit flags override the link), --set, --steps, --seed(s), --from. */
async function parseNewRun(values: Values) {
  let linked: { preset: string; seed: number; set: Settings } | null = null;
  if (values.link !== undefined) {
    const d = await decodeLinkArg(values.link);
    if (d.migrated.length)
      process.stderr.write(`v3lab: link migrated from an older schema (${d.migrated.join(', ')})\n`);
    linked = d.state;
  }
  const presetName = values.preset ?? linked?.preset;
  if (!presetName) throw new UsageError(`--preset, --link or --resume is required (presets: ${presetNames()})`);
  const preset = requirePreset(presetName);
  const sets = parseSets(values.set, { conflicts: values.steps !== undefined ? { 'train.steps': '--steps' } : {} });
  const steps = values.steps === undefined ? undefined : parseIntArg('steps', values.steps, 1);
  const { seeds, multi } = parseSeedArgs(values.seed, values.seeds, linked?.seed ?? 0);
  const set: Settings = { ...(linked?.set ?? {}), ...sets };
  const { applyOverrides } = await import('../config');
  // The whole config is validated before a device is acquired, so config errors are instant.
  const cfg = applyOverrides(preset.config, { ...set, ...(steps ? { 'train.steps': steps } : {}) });
  const { totalSteps } = await import('../run/schedule');
  const total = totalSteps(cfg);
  let from: TrainArgs['from'];
  if (values.from !== undefined) {
    const ckpt = await readCheckpointArg('from', values.from);
    checkStepsLeft('from', values.from, ckpt.step, total);
    from = { file: values.from, ckpt };
  }
  return { presetName, cfg, total, steps, seeds, multi, set, from };
}

/** The train command's flags, checked; a share link gives preset, seed and settings, explicit flags override it. */
export async function parseTrainArgs(argv: string[]): Promise<TrainArgs> {
  const values = parseTrainValues(argv);
  const run =
    values.resume !== undefined
      ? { steps: undefined, multi: false, set: {}, from: undefined, ...(await parseResume(values, values.resume)) }
      : { resume: undefined, ...(await parseNewRun(values)) };
  if (run.multi && values.save !== undefined) throw new UsageError('--save writes one run: give --seed S, not --seeds');
  let stopAt: number | undefined;
  if (values['stop-at'] !== undefined) {
    stopAt = parseIntArg('stop-at', values['stop-at'], 1);
    if (values.save === undefined) throw new UsageError('--stop-at needs --save FILE (the run to --resume later)');
    const start = run.resume?.ckpt.step ?? run.from?.ckpt.step ?? 0;
    if (stopAt <= start) throw new UsageError(`--stop-at: ${stopAt} must be after the run's start at step ${start}`);
    if (stopAt >= run.total)
      throw new UsageError(`--stop-at: ${stopAt} must be before the run's last step, ${run.total}`);
  }
  return { ...run, backendKind: parseBackend(values.backend), json: values.json, save: values.save, stopAt };
}

/** The progress line of one step: loss, learning rate, gradient norm, speed, ETA and the RL figures. */
function stepLine(m: StepMetrics, info: RunInfo, started: number, startStep: number): string {
  const pct = ((100 * m.step) / info.totalSteps).toFixed(0).padStart(3);
  const elapsed = (performance.now() - started) / 1000;
  const eta = (elapsed / Math.max(1, m.step - startStep)) * (info.totalSteps - m.step);
  const rl = m.stage
    ? `  [${m.stage}]${m.reward !== undefined ? `  reward ${fmt(m.reward, 3)} acc ${fmt(m.accuracy ?? null, 2)} fmt ${fmt(m.format_rate ?? null, 2)} len ${fmt(m.response_len ?? null, 1)} kl ${fmt(m.kl ?? null, 4)} clip ${fmt(m.clip_frac ?? null, 3)}` : ''}${m.heldout_greedy !== undefined ? `  held-out greedy ${fmt(m.heldout_greedy, 3)} pass@k ${fmt(m.heldout_pass_k ?? null, 3)}` : ''}`
    : '';
  return `[${pct}%] step ${m.step}/${info.totalSteps}  loss ${fmt(m.loss)}  val ${fmt(m.val_loss)}  lr ${m.lr.toExponential(2)}  |g| ${fmt(m.grad_norm, 3)}  ${Math.round(m.tokens_per_s)} tok/s  eta ${eta.toFixed(0)}s${rl}`;
}

/** The seed's run: resumed from its checkpoint, or created (and handed off --from a checkpoint). */
async function openRun(lab: LabApi, args: TrainArgs, seed: number): Promise<RunInfo> {
  if (args.resume) {
    const info = await lab.restore(args.resume.ckpt);
    process.stderr.write(
      `v3lab: resuming ${args.resume.file} at step ${info.step} of ${info.totalSteps} (weights, optimizer and sampler state)\n`,
    );
    return info;
  }
  const info = await lab.createRun({ preset: args.presetName, seed, steps: args.steps, set: args.set });
  return args.from ? handOff(lab, info, args.from.ckpt, args.from.file) : info;
}

/** One seed's run, trained to its end (or --stop-at), with its progress, done line and checkpoint. */
async function trainSeed(lab: LabApi, args: TrainArgs, seed: number, adapter: string): Promise<TrainSeedResult> {
  const info = await openRun(lab, args, seed);
  const startStep = info.step;
  process.stderr.write(
    `v3lab train: preset ${info.preset}, seed ${info.seed}, ${info.params.toLocaleString('en-US')} params, vocab ${info.vocabSize}, ${info.totalSteps} steps on ${adapter}\n`,
  );
  if (info.config.precision.compute === 'f16' && info.matmulTiles !== 'f16')
    process.stderr.write(
      `${messageLine('warning', `precision.compute=f16 asked, but ${info.backend === 'cpu' ? 'the CPU reference computes in float64' : 'this adapter has no shader-f16'}: matmul and attention tiles stay f32`)}\n`,
    );
  const started = performance.now();
  const summary = await lab.train(
    (batch: StepMetrics[]) => {
      for (const m of batch) {
        if (args.json) writeJsonLine(m);
        const line = stepLine(m, info, started, startStep);
        process.stderr.write(`${line}\n`);
        if (!args.json) process.stdout.write(`${line}\n`);
      }
    },
    args.stopAt !== undefined ? { maxSteps: args.stopAt - startStep } : {},
  );
  const seedField = args.multi ? { seed: info.seed } : {};
  if (summary.reason === 'diverged') {
    const error = summary.error ?? `diverged at step ${summary.steps}`;
    if (args.json) writeJsonLine({ done: false, diverged: true, error, steps: summary.steps, ...seedField });
    throw new DivergedError(error);
  }
  if (args.save) await saveCheckpoint(lab, args.save);
  const stopped = args.stopAt !== undefined;
  const done = {
    done: !stopped,
    ...(stopped ? { stopped_at: summary.steps, total_steps: info.totalSteps } : {}),
    ...seedField,
    final_loss: summary.final_loss,
    final_val_loss: summary.final_val_loss,
    steps: summary.steps,
    adapter: summary.adapter,
    ...(args.save ? { saved: args.save } : {}),
  };
  if (args.json) writeJsonLine(done);
  else if (stopped)
    process.stdout.write(
      `stopped after step ${summary.steps} of ${info.totalSteps}: loss ${fmt(summary.final_loss)}; continue with: train --resume ${args.save}\n`,
    );
  else
    process.stdout.write(
      `done${args.multi ? ` (seed ${info.seed})` : ''}: final loss ${fmt(summary.final_loss)}, val ${fmt(summary.final_val_loss)} (ln V = ${Math.log(info.vocabSize).toFixed(4)}) on ${summary.adapter}\n`,
    );
  return { seed: info.seed, final_loss: summary.final_loss, final_val_loss: summary.final_val_loss };
}

export async function cmdTrain(argv: string[]): Promise<number> {
  const args = await parseTrainArgs(argv);
  const lab = await createCliLab();
  const init = await lab.init({ backend: args.backendKind });
  const results: TrainSeedResult[] = [];
  for (const seed of args.seeds) results.push(await trainSeed(lab, args, seed, init.adapter));
  if (args.multi) {
    const s = trainSummary(results);
    if (args.json) writeJsonLine(s);
    else process.stdout.write(trainSummaryText(s));
  }
  return 0;
}
