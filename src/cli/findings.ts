// `npm run lab -- findings`: every finding (src/findings/) — its arms over seeds, the lab's
// figures beside the paper's, and the verdict of the rule written on its card. Progress on
// stderr; with --json one line per finding and a summary line; with --markdown the README's
// findings table.

import { parseArgs } from 'node:util';
import type { Backend } from '../engine/backend';
import {
  FINDING_NAMES,
  FINDINGS,
  type Finding,
  findingLine,
  type JudgedResult,
  type Progress,
  runFinding,
  seedsFor,
} from '../findings';
import { z } from 'zod';
import { findingsMarkdown, findingsTable, type TableRow } from '../findings/markdown';
import { MAX_SEEDS, makeBackend, parseBackend, parseIntArg, readBoundedFile, UsageError, writeJsonLine } from './args';
import { FINDINGS_OPTIONS } from './options';

export interface FindingsArgs {
  findings: Finding[];
  seeds: number | undefined;
  quick: boolean;
  json: boolean;
  markdown: boolean;
  /** --table FILE…: print the README table from saved --json lines instead of running. */
  table: string[];
  backendKind: 'webgpu' | 'cpu';
}

/** The findings command's flags, checked before a device is acquired. */
export function parseFindingsArgs(argv: string[]): FindingsArgs {
  const { values } = parseArgs({ args: argv, options: FINDINGS_OPTIONS, strict: true });
  let findings = [...FINDINGS];
  if (values.only !== undefined) {
    const names = values.only.split(',').map((s) => s.trim());
    findings = [];
    for (const n of names) {
      const f = FINDINGS.find((x) => x.name === n);
      if (!f) throw new UsageError(`--only: unknown finding "${n}" (findings: ${FINDING_NAMES.join(', ')})`);
      if (findings.includes(f)) throw new UsageError(`--only: finding "${n}" is given twice`);
      findings.push(f);
    }
  }
  const seeds = values.seeds === undefined ? undefined : parseIntArg('seeds', values.seeds, 1, undefined, MAX_SEEDS);
  if (values.json && values.markdown)
    throw new UsageError('--json and --markdown exclude each other (--markdown prints the README table)');
  const table = values.table ?? [];
  if (table.length > 0) {
    const running = (['only', 'seeds', 'quick', 'json', 'markdown'] as const).filter((k) =>
      typeof values[k] === 'boolean' ? values[k] : values[k] !== undefined,
    );
    if (running.length > 0)
      throw new UsageError(`--table prints saved results and runs nothing: drop --${running.join(', --')}`);
  }
  return {
    findings,
    seeds,
    quick: values.quick,
    json: values.json,
    markdown: values.markdown,
    table,
    backendKind: parseBackend(values.backend),
  };
}

/** "[findings] mla 3/9  45%  MHA, seed 2 (pretrain step 12)  ETA 40 s" on stderr. */
function progressWriter(f: Finding, k: number, n: number): (p: Progress) => void {
  const t0 = performance.now();
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (now - last < 250 && p.done < p.total) return;
    last = now;
    const frac = p.total > 0 ? p.done / p.total : 0;
    const eta = frac > 0 ? ((now - t0) / 1000) * (1 / frac - 1) : null;
    const line = `[findings] ${f.name} ${k}/${n}  ${(100 * frac).toFixed(0).padStart(3)}%  ${p.what}${eta !== null ? `  ETA ${Math.round(eta)} s` : ''}`;
    process.stderr.write(`\r${line.slice(0, 150).padEnd(150)}`);
  };
}

function printText(f: Finding, r: JudgedResult): void {
  process.stdout.write(
    `${f.name}: ${r.verdict.toUpperCase()} — ${f.labFigure(r)}\n  claim: ${f.claim}\n  paper: ${f.paper}: ${f.paperFigure}\n  rule:  ${f.ruleText}\n${r.notes.map((x) => `  note:  ${x}\n`).join('')}${r.verdict !== 'reproduced' ? `  why it may differ: ${f.caveat}\n` : ''}  ${r.seeds.length} seeds, ${r.seconds.toFixed(1)} s on ${r.adapter}\n`,
  );
}

/**
 * Run each finding (all, or --only's) over its seeds (--seeds N: seeds 1 … N; default the
 * finding's own count at full or --quick size), judge it by its rule, and print it.
 */
export async function cmdFindings(argv: string[]): Promise<number> {
  const args = parseFindingsArgs(argv);
  if (args.table.length > 0) {
    process.stdout.write(`${await tableFromFiles(args.table)}\n`);
    return 0;
  }
  // A simulator needs no device: acquire one only when some finding runs on it.
  const needsGpu = args.findings.some((f) => f.gpu !== false);
  const be: Backend | null = needsGpu ? await makeBackend(args.backendKind) : null;
  const results: JudgedResult[] = [];
  for (const [i, f] of args.findings.entries()) {
    const seeds = seedsFor(f, args.quick, args.seeds);
    process.stderr.write(
      `[findings] ${f.name}: ${args.quick ? f.sizes.quick.about : f.sizes.full.about}; seeds ${seeds.join(',')}\n`,
    );
    const cpu0 = process.cpuUsage();
    const r = await runFinding(be as Backend, f, {
      seeds,
      quick: args.quick,
      onProgress: progressWriter(f, i + 1, args.findings.length),
    });
    const cpu = process.cpuUsage(cpu0);
    // CPU seconds beside wall seconds: on a shared machine the wall clock says little about the work.
    process.stderr.write(
      `\n[findings] ${f.name}: ${r.verdict} (${r.seconds.toFixed(1)} s, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s)\n`,
    );
    results.push(r);
    if (args.json) writeJsonLine(findingLine(f, r));
    else if (!args.markdown) printText(f, r);
  }
  const reproduced = results.filter((r) => r.verdict === 'reproduced').length;
  if (args.json) writeJsonLine({ done: true, reproduced, of: results.length });
  else if (args.markdown)
    process.stdout.write(
      `${findingsMarkdown(results, { adapter: be?.deviceLabel ?? results[0]?.adapter ?? '–', date: new Date().toISOString().slice(0, 10) })}\n`,
    );
  else process.stdout.write(`done: ${reproduced} of ${results.length} reproduced\n`);
  return 0;
}

/** The fields of a `findings --json` line that the table needs. */
const SavedLine = z.object({
  finding: z.enum(FINDING_NAMES as [string, ...string[]]),
  lab_figure: z.string(),
  verdict: z.enum(['reproduced', 'not reproduced', 'inconclusive']),
  quick: z.boolean(),
  seconds: z.number().nonnegative(),
  adapter: z.string(),
});

/**
 * `findings --table A.jsonl B.jsonl …`: the README table from lines saved by `findings --json`
 * runs (e.g. one card per run), in the order given; every row must come from one adapter.
 */
export async function tableFromFiles(files: readonly string[]): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const rows: TableRow[] = [];
  const adapters = new Set<string>();
  let simulator = '';
  let newest = 0;
  for (const file of files) {
    const text = new TextDecoder().decode(await readBoundedFile('--table', file, 1 << 20));
    newest = Math.max(newest, (await stat(file)).mtimeMs);
    for (const [i, raw] of text.split('\n').entries()) {
      if (raw.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new UsageError(`--table: ${file} line ${i + 1}: not JSON (expected a line of findings --json)`);
      }
      if (typeof json === 'object' && json !== null && 'done' in json) continue;
      const line = SavedLine.safeParse(json);
      if (!line.success) {
        const issue = line.error.issues[0];
        throw new UsageError(`--table: ${file} line ${i + 1}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
      }
      const l = line.data;
      if (rows.some((r) => r.finding === l.finding))
        throw new UsageError(`--table: finding "${l.finding}" appears twice (${file} line ${i + 1})`);
      rows.push({
        finding: l.finding,
        labFigure: l.lab_figure,
        verdict: l.verdict,
        quick: l.quick,
        seconds: l.seconds,
      });
      // A simulator's rows (DualPipe) run on no adapter; the table names the GPU the others ran on.
      if (FINDINGS.find((f) => f.name === l.finding)?.gpu !== false) adapters.add(l.adapter);
      else simulator = l.adapter;
    }
  }
  if (rows.length === 0) throw new UsageError('--table: no finding lines in the files given');
  if (adapters.size > 1)
    throw new UsageError(
      `--table: the rows come from ${adapters.size} adapters; a table is from one (${[...adapters].join('; ')})`,
    );
  return findingsTable(rows, {
    adapter: [...adapters][0] ?? simulator,
    date: new Date(newest).toISOString().slice(0, 10),
  });
}
