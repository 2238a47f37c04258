// `npm run lab -- <command>`: the lab, headless, in node (WebGPU through dawn.node).
//   train --preset NAME|--link URL|--resume FILE [--set path=value]... [--steps N] [--seed S | --seeds A,B,…]
//         [--stop-at K] [--backend webgpu|cpu] [--from FILE] [--save FILE] [--json]
//   sample --preset NAME|--link URL|--checkpoint FILE [--train-steps N] [--prompt TEXT] … [--speculative|--compare]
//   grpo / distill … [--seeds A,B,…]: one fresh run per seed, in turn, then a summary line
//   check --op NAME|all [--seed S] [--json]
//   presets
// With --json, stdout carries only JSON lines (NaN and ±Inf written as "NaN", "Infinity",
// "-Infinity"); progress and logs go to stderr.
// Exit codes: 0 done; 1 a failed check; 2 bad input — one line `error: …` on stderr naming the
// flag or field (at most 300 characters, control and bidi characters escaped), never a stack
// trace; 3 a run diverged (its loss or grad norm went NaN or ±Inf): `error: diverged at step N: …`.
// USAGE lists every command; each lives in its own module (train.ts, sample.ts, grpo.ts,
// distill.ts, check.ts, export.ts, findings.ts), with the shared argument helpers in args.ts and every
// command's option table in options.ts.

import { errorLine, exitCodeOf, joinValues, UsageError } from './args';
import { valueOptions } from './options';

const USAGE = `usage: npm run lab -- <command> [options]
  train   --preset NAME | --link URL | --resume FILE [--set path=value]... [--steps N] [--seed S | --seeds A,B,…]
          [--stop-at K] [--backend webgpu|cpu] [--from FILE] [--save FILE] [--json]
  sample  --preset NAME | --link URL | --checkpoint FILE [--set path=value]... [--train-steps N] [--prompt TEXT]
          [--length N] [--count N] [--temperature T] [--top-k K] [--top-p P] [--speculative | --compare] [--seed S] [--json]
  grpo    --preset NAME [--steps N] [--seed S | --seeds A,B,…] [--set path=value]... [--from FILE] [--json]
  distill [--teacher PRESET] [--student PRESET] [--set-teacher p=v]... [--set p=v]... [--seed S | --seeds A,B,…]
          [--sft-out FILE] [--json]
  check   --op NAME|all [--seed S] [--json]
  fp8     --format e4m3|e5m2|e2m1 (--encode <numbers…> | --decode <codes…> | --accum)
  export  (--preset NAME [--seed S] [--set path=value]… | --checkpoint FILE) --out DIR [--dtype f32|bf16|fp8] [--trainer torchtitan]
  import  DIR [--json]   (validate a Hugging Face DeepSeek-V3 export and summarize it)
  findings [--only NAME[,NAME]] [--seeds N] [--quick] [--json | --markdown] | --table FILE [--table FILE]…
          (the V3 / R1 claims the lab tests: each over N seeds, the paper's figure beside the lab's, a verdict;
           --table prints the README table from lines saved by earlier --json runs, running nothing)
  presets
  fields  (every --set path: range, live or not, label and help; V3 / R1 knobs with their paper section)
  --resume FILE continues a --save'd run (optimizer and sampler included); --stop-at K --save FILE stops after step K.
exit codes: 0 done, 1 a check failed, 2 bad input (one line "error: …"), 3 the run diverged (NaN/Inf loss)`;

type Command = (argv: string[]) => Promise<number>;

/** Each command's module is loaded when the command runs. */
const COMMANDS = new Map<string, Command>([
  ['train', async (argv) => (await import('./train')).cmdTrain(argv)],
  ['sample', async (argv) => (await import('./sample')).cmdSample(argv)],
  ['grpo', async (argv) => (await import('./grpo')).cmdGrpo(argv)],
  ['distill', async (argv) => (await import('./distill')).cmdDistill(argv)],
  ['check', async (argv) => (await import('./check')).cmdCheck(argv)],
  ['fp8', async (argv) => (await import('./check')).cmdFp8(argv)],
  ['export', async (argv) => (await import('./export')).cmdExport(argv)],
  ['import', async (argv) => (await import('./export')).cmdImport(argv)],
  ['findings', async (argv) => (await import('./findings')).cmdFindings(argv)],
  ['presets', async () => (await import('./check')).cmdPresets()],
  ['fields', async () => (await import('./check')).cmdFields()],
]);

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const command = cmd === undefined ? undefined : COMMANDS.get(cmd);
  if (command) return command(joinValues(rest, valueOptions(cmd)));
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown command "${cmd}" (commands: ${[...COMMANDS.keys()].join(', ')}; --help for usage)`);
}

// The one error writer: every failure ends here as one line on stderr.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${errorLine(err)}\n`);
    if (process.env.V3LAB_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(exitCodeOf(err));
  },
);
