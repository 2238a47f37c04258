// `npm run lab -- grpo`: a preset's RL pipeline with N GRPO steps, and the held-out accuracy
// before and after GRPO. --seeds A,B,… runs one fresh pipeline per seed and ends with the lift's
// mean, standard error and minimum over seeds. Policy-health warnings (run/health.ts) go to
// stderr as `warning: …`, once each, and into the last JSON line.

import { parseArgs } from 'node:util';
import type { Checkpoint, LabApi, StepMetrics } from '../lab/api';
import { PRESETS, type RunConfig } from '../config';
import { policyWarnings } from '../run/health';
import {
  checkStepsLeft,
  createCliLab,
  DivergedError,
  fmt,
  handOff,
  messageLine,
  parseBackend,
  parseIntArg,
  parseSeedArgs,
  parseSets,
  readCheckpointArg,
  requirePreset,
  UsageError,
  writeJsonLine,
} from './args';
import { GRPO_OPTIONS } from './options';
import { type GrpoSeedResult, grpoSummary, grpoSummaryText } from './summary';

export interface GrpoArgs {
  presetName: string;
  cfg: RunConfig;
  set: Record<string, string | number | boolean>;
  seeds: number[];
  multi: boolean;
  backendKind: 'webgpu' | 'cpu';
  json: boolean;
  from: { file: string; ckpt: Checkpoint } | undefined;
}

/** The grpo command's flags, checked (and a --from checkpoint read) before a device is acquired. */
export async function parseGrpoArgs(argv: string[]): Promise<GrpoArgs> {
  const { values } = parseArgs({ args: argv, options: GRPO_OPTIONS, strict: true });
  const presetName = values.preset;
  if (!presetName)
    throw new UsageError(
      `--preset is required (RL presets: ${PRESETS.filter((p) => p.config.rl.mode === 'pipeline')
        .map((p) => p.name)
        .join(', ')})`,
    );
  const preset = requirePreset(presetName);
  const set: Record<string, string | number | boolean> = parseSets(values.set, {
    conflicts: values.steps !== undefined ? { 'rl.grpo_steps': '--steps' } : {},
  });
  if (values.steps !== undefined) set['rl.grpo_steps'] = parseIntArg('steps', values.steps, 1);
  // One line per GRPO step.
  set['train.log_every'] ??= 1;
  const { seeds, multi } = parseSeedArgs(values.seed, values.seeds);
  const backendKind = parseBackend(values.backend);
  const { applyOverrides } = await import('../config');
  const cfg = applyOverrides(preset.config, set);
  if (cfg.rl.mode !== 'pipeline')
    throw new UsageError(
      `${presetName} is not an RL preset (rl.mode is "off"); try grpo-micro, r1-zero or r1, or --set rl.mode=pipeline --set data.corpus=task`,
    );
  if (cfg.rl.grpo_steps < 1) throw new UsageError('--steps: GRPO needs at least one step');
  let from: GrpoArgs['from'];
  if (values.from !== undefined) {
    const ckpt = await readCheckpointArg('from', values.from);
    const { totalSteps } = await import('../run/schedule');
    checkStepsLeft('from', values.from, ckpt.step, totalSteps(cfg));
    from = { file: values.from, ckpt };
  }
  return { presetName, cfg, set, seeds, multi, backendKind, json: values.json, from };
}

/** A GRPO step's JSON line. */
function grpoRow(m: StepMetrics) {
  return {
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
    ...(m.heldout_greedy !== undefined ? { heldout_greedy: m.heldout_greedy, heldout_pass_k: m.heldout_pass_k } : {}),
  };
}

/** Policy-health warnings, each kind printed once on stderr (the text names the step it was seen at). */
export class WarningLog {
  private readonly seen = new Set<string>();
  readonly list: string[] = [];

  update(metrics: readonly StepMetrics[]): void {
    for (const w of policyWarnings(metrics)) {
      const kind = /^(.*?) by step \d+/.exec(w)?.[1] ?? w;
      if (this.seen.has(kind)) continue;
      this.seen.add(kind);
      this.list.push(w);
      process.stderr.write(`\n${messageLine('warning', w)}\n`);
    }
  }
}

/** One seed's pipeline: pretraining (and SFT) as the preset says or --from, then GRPO, with its lines. */
async function grpoSeed(lab: LabApi, args: GrpoArgs, seed: number, adapter: string): Promise<GrpoSeedResult> {
  const { cfg, json } = args;
  let info = await lab.createRun({ preset: args.presetName, seed, set: args.set });
  if (args.from) info = await handOff(lab, info, args.from.ckpt, args.from.file);
  const grpoStage = info.stages.find((s) => s.name === 'grpo')!;
  process.stderr.write(
    `v3lab grpo: ${args.presetName} (${cfg.rl.task}, difficulty ${cfg.rl.difficulty}), seed ${seed}, ${cfg.rl.grpo_steps} GRPO steps after step ${grpoStage.first - 1}, on ${adapter}\n`,
  );
  let [before, after, passBefore, passAfter] = [null, null, null, null] as (number | null)[];
  const seen: StepMetrics[] = [];
  const warnings = new WarningLog();
  const started = performance.now();
  const summary = await lab.train((batch: StepMetrics[]) => {
    for (const m of batch) {
      seen.push(m);
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
      if (json) writeJsonLine(grpoRow(m));
      const line = `[grpo] step ${m.step}/${info.totalSteps}  reward ${fmt(m.reward ?? null, 3)}  acc ${fmt(m.accuracy ?? null, 2)}  fmt ${fmt(m.format_rate ?? null, 2)}  kl ${fmt(m.kl ?? null, 4)}  len ${fmt(m.response_len ?? null, 1)}  ${Math.round(m.rollout_tokens_per_s ?? 0)} rollout tok/s${m.heldout_greedy !== undefined ? `  held-out ${fmt(m.heldout_greedy, 3)}` : ''}`;
      process.stderr.write(`\n${line}`);
      if (!json) process.stdout.write(`${line}\n`);
      warnings.update(seen);
    }
  });
  process.stderr.write('\n');
  const seedField = args.multi ? { seed } : {};
  if (summary.reason === 'diverged') {
    const error = summary.error ?? `diverged at step ${summary.steps}`;
    if (json) writeJsonLine({ done: false, diverged: true, error, steps: summary.steps, ...seedField });
    throw new DivergedError(error);
  }
  const done = {
    done: true,
    ...seedField,
    steps: summary.steps,
    heldout_accuracy_before: before,
    heldout_accuracy_after: after,
    heldout_pass_k_before: passBefore,
    heldout_pass_k_after: passAfter,
    seconds: (performance.now() - started) / 1000,
    adapter: summary.adapter,
    warnings: warnings.list,
  };
  if (json) writeJsonLine(done);
  else
    process.stdout.write(
      `done${args.multi ? ` (seed ${seed})` : ''}: held-out accuracy (greedy) ${fmt(before, 3)} before GRPO → ${fmt(after, 3)} after; pass@${cfg.rl.pass_k} ${fmt(passBefore, 3)} → ${fmt(passAfter, 3)}\n`,
    );
  return { seed, before, after, warnings: warnings.list };
}

/**
 * The RL pipeline of a preset with N GRPO steps: pretraining (and SFT) as the preset says, or from
 * a checkpoint (--from). Progress on stderr; with --json one line per GRPO step
 * {"step","reward","accuracy","format","kl","length",…} and a last line with the held-out accuracy
 * before and after GRPO (greedy, on the same held-out prompts) and any policy-health warnings.
 * With --seeds, each seed's lines in turn and a summary line (liftSummary, run/seeds.ts).
 */
export async function cmdGrpo(argv: string[]): Promise<number> {
  const args = await parseGrpoArgs(argv);
  const lab = await createCliLab();
  const init = await lab.init({ backend: args.backendKind });
  const results: GrpoSeedResult[] = [];
  for (const seed of args.seeds) results.push(await grpoSeed(lab, args, seed, init.adapter));
  if (args.multi) {
    const s = grpoSummary(results, args.cfg.rl.eval_prompts);
    if (args.json) writeJsonLine(s);
    else process.stdout.write(grpoSummaryText(s));
  }
  return 0;
}
