// `npm run lab -- grpo`: a preset's RL pipeline with N GRPO steps, and the held-out accuracy
// before and after GRPO.

import { parseArgs } from 'node:util';
import type { StepMetrics } from '../lab/api';
import { PRESETS } from '../config';
import { createCliLab, fmt, handOff, parseBackend, parseIntArg, parseSets, requirePreset, UsageError } from './args';

/**
 * The RL pipeline of a preset with N GRPO steps: pretraining (and SFT) as the preset says, or from
 * a checkpoint (--from). Progress on stderr; with --json one line per GRPO step
 * {"step","reward","accuracy","format","kl","length",…} and a last line with the held-out accuracy
 * before and after GRPO (greedy, on the same held-out prompts).
 */
export async function cmdGrpo(argv: string[]): Promise<number> {
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
  const preset = requirePreset(presetName);
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
  const lab = await createCliLab();
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
