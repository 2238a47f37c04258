// `npm run lab -- distill`: distillation vs direct RL for a small model at equal student tokens.

import { parseArgs } from 'node:util';
import { fmt, makeBackend, parseBackend, parseIntArg, parseSets, requirePreset, UsageError } from './args';

/**
 * Distillation vs direct RL for a small model: teacher pipeline → rejection sampling → student
 * base → SFT arm and GRPO arm at equal student tokens. --json: one line per evaluation point
 * {"arm","step","tokens","heldout_greedy",…} and a final line with both arms' held-out accuracy.
 */
export async function cmdDistill(argv: string[]): Promise<number> {
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
  const teacher = applyOverrides(requirePreset(values.teacher, '--teacher: ').config, parseSets(values['set-teacher']));
  const student = applyOverrides(requirePreset(values.student, '--student: ').config, parseSets(values.set));
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
