// `npm run lab -- distill`: distillation vs direct RL for a small model at equal student tokens.
// --seeds A,B,… runs the whole experiment once per seed and ends with each arm's mean over seeds.

import { parseArgs } from 'node:util';
import type { Backend } from '../engine/backend';
import type { RunConfig } from '../config';
import {
  fmt,
  makeBackend,
  parseBackend,
  parseSeedArgs,
  parseSets,
  requirePreset,
  UsageError,
  writeJsonLine,
} from './args';
import { DISTILL_OPTIONS } from './options';
import { type DistillSeedResult, distillSummary, distillSummaryText } from './summary';

export interface DistillArgs {
  teacherName: string;
  studentName: string;
  teacher: RunConfig;
  student: RunConfig;
  seeds: number[];
  multi: boolean;
  json: boolean;
  backendKind: 'webgpu' | 'cpu';
  sftOut: string | undefined;
}

/** The distill command's flags, checked (both configs validated together) before a device is acquired. */
export async function parseDistillArgs(argv: string[]): Promise<DistillArgs> {
  const { values } = parseArgs({ args: argv, options: DISTILL_OPTIONS, strict: true });
  const { applyOverrides } = await import('../config');
  const teacher = applyOverrides(
    requirePreset(values.teacher, '--teacher: ').config,
    parseSets(values['set-teacher'], { flag: '--set-teacher' }),
  );
  const student = applyOverrides(requirePreset(values.student, '--student: ').config, parseSets(values.set));
  const { seeds, multi } = parseSeedArgs(values.seed, values.seeds);
  if (multi && values['sft-out'] !== undefined)
    throw new UsageError("--sft-out writes one seed's SFT set: give --seed S, not --seeds");
  const backendKind = parseBackend(values.backend);
  const { checkDistillConfigs } = await import('../run/distill');
  try {
    checkDistillConfigs(teacher, student); // before acquiring a device, so the error is instant
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    teacherName: values.teacher,
    studentName: values.student,
    teacher,
    student,
    seeds,
    multi,
    json: values.json,
    backendKind,
    sftOut: values['sft-out'],
  };
}

/** One seed's experiment, with its evaluation points and final line. */
async function distillSeed(be: Backend, args: DistillArgs, seed: number): Promise<DistillSeedResult> {
  const { json, student } = args;
  const { distillVsRl, sftJsonl } = await import('../run/distill');
  process.stderr.write(
    `v3lab distill: teacher ${args.teacherName}, student ${args.studentName} (${student.rl.task}, difficulty ${student.rl.difficulty}), seed ${seed}, on ${be.deviceLabel}\n`,
  );
  const started = performance.now();
  const res = await distillVsRl(be, {
    teacher: args.teacher,
    student,
    seed,
    onProgress: (what) => process.stderr.write(`\r${what}                `),
    onPoint: (p) => {
      if (json) writeJsonLine(p);
      const line = `[${p.arm}] step ${p.step}  tokens ${p.tokens}  held-out greedy ${fmt(p.heldout_greedy, 3)}  pass@k ${fmt(p.heldout_pass_k, 3)}  format ${fmt(p.format_rate, 2)}  length ${fmt(p.response_len, 1)}`;
      process.stderr.write(`\n${line}\n`);
      if (!json) process.stdout.write(`${line}\n`);
    },
  });
  if (args.sftOut) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(args.sftOut, sftJsonl(res.sft.records)).catch((err: Error) => {
      throw new UsageError(`--sft-out: cannot write ${args.sftOut}: ${err.message}`);
    });
  }
  const f = res.final;
  const done = {
    done: true,
    ...(args.multi ? { seed } : {}),
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
  if (json) writeJsonLine(done);
  else
    process.stdout.write(
      `done${args.multi ? ` (seed ${seed})` : ''}: held-out greedy accuracy at ${res.budgetTokens} student tokens: distill ${fmt(f.distill.heldout_greedy, 3)} vs rl ${fmt(f.rl.heldout_greedy, 3)} (base ${fmt(f.base.heldout_greedy, 3)}, teacher ${fmt(f.teacher.heldout_greedy, 3)}); SFT set ${res.sft.admitted}/${res.sft.generated} verified\n`,
    );
  return { seed, base: f.base.heldout_greedy, rl: f.rl.heldout_greedy, distill: f.distill.heldout_greedy };
}

/**
 * Distillation vs direct RL for a small model: teacher pipeline → rejection sampling → student
 * base → SFT arm and GRPO arm at equal student tokens. --json: one line per evaluation point
 * {"arm","step","tokens","heldout_greedy",…} and a final line with both arms' held-out accuracy;
 * with --seeds, each seed's lines in turn and a summary line (base / rl / distill means).
 */
export async function cmdDistill(argv: string[]): Promise<number> {
  const args = await parseDistillArgs(argv);
  const be = await makeBackend(args.backendKind);
  const results: DistillSeedResult[] = [];
  for (const seed of args.seeds) results.push(await distillSeed(be, args, seed));
  if (args.multi) {
    const s = distillSummary(results, args.student.rl.eval_prompts);
    if (args.json) writeJsonLine(s);
    else process.stdout.write(distillSummaryText(s));
  }
  return 0;
}
