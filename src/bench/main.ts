// `npm run bench [-- --json] [--quick] [--filter a,b,/re/] [--deadline S] [--limit S] [--no-peer]`
//
// The bench suite in node, through dawn.node on whatever adapter is present (a software Vulkan
// driver on a machine without a GPU; see backends/webgpu/node.ts), with tfjs-backend-webgpu
// as the peer in the same process. Prints a table (stdout), or with --json exactly one JSON
// object on stdout (progress and the table go to stderr).

import { createNodeBackend } from '../backends/webgpu/node';
import { loadNodeTfjs } from './node';
import { parseArgs, USAGE, type CliArgs } from './args';
import { formatMarkdown, formatTable, makeFilter } from './report';
import { makeContext, runSuite } from './suite';

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${msg === 'usage' ? '' : `${msg}\n`}${USAGE}\n`);
    process.exit(msg === 'usage' ? 0 : 2);
  }
  // With --json, stdout carries the JSON alone: route everything else to stderr.
  const err = (s: string) => process.stderr.write(`${s}\n`);
  if (args.json) console.log = (...xs: unknown[]) => err(xs.map(String).join(' '));
  const be = await createNodeBackend();
  err(`bench: adapter ${be.deviceLabel}`);
  const tfjs = args.noPeer ? null : await loadNodeTfjs(err);
  const report = await runSuite(makeContext(be, tfjs), {
    quick: args.quick,
    filter: makeFilter(args.filter),
    filterSpec: args.filter,
    deadlineMs: args.deadlineS * 1e3,
    limitMs: args.limitS * 1e3,
    probes: !args.noProbes,
    log: err,
  });
  const table = formatTable(report) + (args.markdown ? `\n\n${formatMarkdown(report)}` : '');
  if (args.json) {
    err(`\n${table}`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`\n${table}\n`);
  }
  // dawn.node keeps the process alive (and tfjs's device); exit explicitly once stdout drains.
  process.stdout.write('', () => process.exit(report.cases.length === 0 && report.errors.length > 0 ? 1 : 0));
}

await main();
