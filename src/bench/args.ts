// Command-line arguments of `npm run bench` (parsed here so tests can import it without running the suite).

export interface CliArgs {
  json: boolean;
  markdown: boolean;
  quick: boolean;
  filter: string | null;
  /** Soft deadline: past it, remaining cases run the quick plan. */
  deadlineS: number;
  /** Hard limit: past it, remaining cases are skipped. */
  limitS: number;
  noPeer: boolean;
  /** Skip the roofline probes (bandwidth, FMA). */
  noProbes: boolean;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = {
    json: false,
    markdown: false,
    quick: false,
    filter: null,
    deadlineS: 240,
    limitS: 480,
    noPeer: false,
    noProbes: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const value = () => {
      const eq = x.indexOf('=');
      if (eq >= 0) return x.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${x} needs a value`);
      return v;
    };
    if (x === '--json') a.json = true;
    else if (x === '--markdown') a.markdown = true;
    else if (x === '--quick') a.quick = true;
    else if (x === '--no-peer') a.noPeer = true;
    else if (x === '--no-probes') a.noProbes = true;
    else if (x === '--filter' || x.startsWith('--filter=')) a.filter = value();
    else if (x === '--deadline' || x.startsWith('--deadline=')) a.deadlineS = Number(value());
    else if (x === '--limit' || x.startsWith('--limit=')) a.limitS = Number(value());
    else if (x === '--help' || x === '-h') throw new Error('usage');
    else throw new Error(`unknown argument ${x}`);
  }
  if (!(a.deadlineS >= 0) || !(a.limitS >= 0)) throw new Error('--deadline and --limit take seconds');
  return a;
}

export const USAGE = `usage: npm run bench -- [--json] [--markdown] [--quick] [--filter a,b,/regex/] [--deadline S] [--limit S] [--no-peer] [--no-probes]
  --json        one JSON object on stdout: {"adapter", "peaks", "cases": [{"name", "ms", "gflops", "peer", "ratio", "path", "roofline", …}]}
  --markdown    also print the table in Markdown (stderr with --json)
  --quick       one warm-up and two samples of one unit per case
  --filter      run only cases whose names contain one of the comma-separated strings (or match /regex/)
  --deadline    after this many seconds, remaining cases run the quick plan (default 240)
  --limit       after this many seconds, remaining cases are skipped (default 480; keeps a run under 10 minutes)
  --no-peer     skip tfjs-backend-webgpu
  --no-probes   skip the roofline probes (streaming bandwidth, FMA throughput) run before the cases`;
