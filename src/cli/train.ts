// `npm run lab -- train`: a run from a preset or a share link, trained for its steps, with one
// progress line per logged step (JSON lines on stdout with --json) and an optional checkpoint.

import { parseArgs } from 'node:util';
import type { RunInfo, StepMetrics } from '../lab/api';
import {
  createCliLab,
  decodeLinkArg,
  fmt,
  handOff,
  parseBackend,
  parseIntArg,
  parseSets,
  presetNames,
  requirePreset,
  saveCheckpoint,
  UsageError,
} from './args';

type Settings = Record<string, string | number | boolean>;

/** The train command's flags, checked; a share link gives preset, seed and settings, explicit flags override it. */
async function parseTrainArgs(argv: string[]) {
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
  let linked: { preset: string; seed: number; set: Settings } | null = null;
  if (values.link !== undefined) {
    const d = await decodeLinkArg(values.link);
    if (d.migrated.length)
      process.stderr.write(`v3lab: link migrated from an older schema (${d.migrated.join(', ')})\n`);
    linked = d.state;
  }
  const presetName = values.preset ?? linked?.preset;
  if (!presetName) throw new UsageError(`--preset or --link is required (presets: ${presetNames()})`);
  requirePreset(presetName);
  const steps = values.steps === undefined ? undefined : parseIntArg('steps', values.steps, 1);
  const seed = values.seed === undefined && linked ? linked.seed : parseIntArg('seed', values.seed, 0, 0);
  const set: Settings = { ...(linked?.set ?? {}), ...parseSets(values.set) };
  const backendKind = parseBackend(values.backend);
  return { presetName, steps, seed, set, backendKind, json: values.json, save: values.save, from: values.from };
}

/** The progress line of one step: loss, learning rate, gradient norm, speed, ETA and the RL figures. */
function stepLine(m: StepMetrics, info: RunInfo, started: number): string {
  const pct = ((100 * m.step) / info.totalSteps).toFixed(0).padStart(3);
  const elapsed = (performance.now() - started) / 1000;
  const eta = (elapsed / m.step) * (info.totalSteps - m.step);
  const rl = m.stage
    ? `  [${m.stage}]${m.reward !== undefined ? `  reward ${fmt(m.reward, 3)} acc ${fmt(m.accuracy ?? null, 2)} fmt ${fmt(m.format_rate ?? null, 2)} len ${fmt(m.response_len ?? null, 1)} kl ${fmt(m.kl ?? null, 4)} clip ${fmt(m.clip_frac ?? null, 3)}` : ''}${m.heldout_greedy !== undefined ? `  held-out greedy ${fmt(m.heldout_greedy, 3)} pass@k ${fmt(m.heldout_pass_k ?? null, 3)}` : ''}`
    : '';
  return `[${pct}%] step ${m.step}/${info.totalSteps}  loss ${fmt(m.loss)}  val ${fmt(m.val_loss)}  lr ${m.lr.toExponential(2)}  |g| ${fmt(m.grad_norm, 3)}  ${Math.round(m.tokens_per_s)} tok/s  eta ${eta.toFixed(0)}s${rl}`;
}

export async function cmdTrain(argv: string[]): Promise<number> {
  const { presetName, steps, seed, set, backendKind, json, save, from } = await parseTrainArgs(argv);
  const lab = await createCliLab();
  const { applyOverrides } = await import('../config');
  // Validate the whole config before acquiring a device, so config errors are instant.
  applyOverrides(requirePreset(presetName).config, {
    ...set,
    ...(steps ? { 'train.steps': steps } : {}),
  });
  const init = await lab.init({ backend: backendKind });
  let info = await lab.createRun({ preset: presetName, seed, steps, set });
  if (from !== undefined) info = await handOff(lab, info, from);
  process.stderr.write(
    `v3lab train: preset ${info.preset}, seed ${info.seed}, ${info.params.toLocaleString('en-US')} params, vocab ${info.vocabSize}, ${info.totalSteps} steps on ${init.adapter}\n`,
  );
  const started = performance.now();
  const summary = await lab.train((batch: StepMetrics[]) => {
    for (const m of batch) {
      if (json) process.stdout.write(`${JSON.stringify(m)}\n`);
      const line = stepLine(m, info, started);
      process.stderr.write(`${line}\n`);
      if (!json) process.stdout.write(`${line}\n`);
    }
  });
  if (save) await saveCheckpoint(lab, save);
  const done = {
    done: true,
    final_loss: summary.final_loss,
    final_val_loss: summary.final_val_loss,
    steps: summary.steps,
    adapter: summary.adapter,
    ...(save ? { saved: save } : {}),
  };
  if (json) process.stdout.write(`${JSON.stringify(done)}\n`);
  else
    process.stdout.write(
      `done: final loss ${fmt(summary.final_loss)}, val ${fmt(summary.final_val_loss)} (ln V = ${Math.log(info.vocabSize).toFixed(4)}) on ${summary.adapter}\n`,
    );
  return 0;
}
