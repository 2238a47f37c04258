// The bench page (/bench.html): the same suite as `npm run bench`, on this browser's adapter,
// with tfjs-backend-webgpu as the peer in the same page. Query parameters preset the controls:
//   ?filter=matmul_f32_256,attention_mha_fwd_128  ?quick=1  ?peer=0  ?probes=0  ?run=1 (start at once)
// The report is exposed as window.__bench.report (for the e2e test) and copied by "Copy JSON".
// The page runs the suite one case at a time (runSuite with a one-name filter), so it can say
// "case k of n" with an ETA from the cases done so far, and Stop ends the run after the current
// case, keeping the results so far in the table, the notes and the JSON. Before the cases it runs
// the roofline probes once (bandwidth, FMA; the GEMM when training steps run without
// matmul_f32_1024), like the CLI, and the roofline table places every case against them.

import { WebGPUBackend } from '../../backends/webgpu/backend';
import {
  formatNotes,
  makeFilter,
  overallTiming,
  peaksLine,
  rooflineRows,
  tableRows,
  type BenchReport,
  type CaseResult,
} from '../report';
import type { Peaks } from '../roofline';
import { DEFAULT_PLAN, QUICK_PLAN } from '../stats';
import { makeContext, runProbes, runSuite, type SuiteContext, suiteCases } from '../suite';
import { loadTfjs, type TfjsPeer } from '../tfjs';
import { type BenchProgress, benchDoneText, benchProgressText } from './progress';
import './bench.css';

declare global {
  interface Window {
    __bench?: { state: 'idle' | 'running' | 'done' | 'error'; report: BenchReport | null; error: string | null };
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const filterInput = $<HTMLInputElement>('bench-filter');
const quickBox = $<HTMLInputElement>('bench-quick');
const peerBox = $<HTMLInputElement>('bench-peer');
const probesBox = $<HTMLInputElement>('bench-probes');
const runButton = $<HTMLButtonElement>('bench-run');
const stopButton = $<HTMLButtonElement>('bench-stop');
const progressEl = $('bench-progress');
const copyButton = $<HTMLButtonElement>('bench-copy');
const statusEl = $('bench-status');
const adapterEl = $('bench-adapter');
const table = $<HTMLTableElement>('bench-table');
const rooflineTable = $<HTMLTableElement>('bench-roofline');
const peaksEl = $('bench-peaks');
const notes = $('bench-notes');
const jsonEl = $('bench-json');

const params = new URLSearchParams(location.search);
filterInput.value = params.get('filter') ?? '';
quickBox.checked = params.get('quick') === '1';
peerBox.checked = params.get('peer') !== '0';
probesBox.checked = params.get('probes') !== '0';

window.__bench = { state: 'idle', report: null, error: null };

/** The probes' peaks and results, once the run has them (null: not run, or they failed). */
let probed: { peaks: Peaks; results: CaseResult[] } | null = null;

function partialReport(adapter: string, cases: CaseResult[], peer: TfjsPeer | null): BenchReport {
  return {
    adapter,
    timing: overallTiming(cases),
    peer_library: peer ? `@tensorflow/tfjs-backend-webgpu ${peer.version}` : null,
    features: [],
    quick: quickBox.checked,
    filter: filterInput.value || null,
    started: new Date().toISOString(),
    wall_s: 0,
    cases,
    errors: [],
    ...(probed ? { peaks: probed.peaks, probes: probed.results } : {}),
  };
}

/** Fill a table from rows of cells (header first); rows carry data-testid `${prefix}-${case}`. */
function fillTable(t: HTMLTableElement, rows: string[][], prefix: string, mark?: (j: number, i: number) => string) {
  t.replaceChildren();
  const head = t.createTHead().insertRow();
  for (const h of rows[0]) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  const body = t.createTBody();
  rows.slice(1).forEach((row, i) => {
    const tr = body.insertRow();
    tr.dataset.testid = `${prefix}-${row[0]}`;
    row.forEach((cell, j) => {
      const td = tr.insertCell();
      td.textContent = cell;
      const cls = mark?.(j, i);
      if (cls) td.className = cls;
    });
  });
}

function renderTable(r: BenchReport): void {
  const rows = tableRows(r);
  fillTable(table, rows, 'bench-row', (j, i) =>
    rows[0][j] === '× peer' && r.cases[i].ratio !== null ? (r.cases[i].ratio! >= 1 ? 'faster' : 'slower') : '',
  );
  const roof = rooflineRows(r);
  if (roof.length > 1) fillTable(rooflineTable, roof, 'roofline-row');
  else rooflineTable.replaceChildren();
  peaksEl.textContent = r.peaks || roof.length > 1 ? peaksLine(r) : '';
}

let gpuBackend: WebGPUBackend | null = null;
let tfjsPeer: TfjsPeer | null | undefined;
/** The running suite's progress (null when idle); Stop sets `stopping`. */
let progress: BenchProgress | null = null;
let caseStarted = 0;

function showProgress(): void {
  if (progress?.current) progressEl.textContent = benchProgressText(progress, performance.now() - caseStarted);
}

/**
 * The suite, one case at a time: the cases runSuite would run (filter and opt-in keywords), each
 * through runSuite with its own name as the filter and what is left of the deadline; their
 * results merged into one report. Ends early after Stop or a lost device.
 */
async function runCases(ctx: SuiteContext, peer: TfjsPeer | null, onCase: (c: CaseResult) => void) {
  const t0 = performance.now();
  const started = new Date().toISOString();
  const spec = filterInput.value;
  const filter = makeFilter(spec);
  const names = suiteCases(ctx)
    .filter((d) => filter(d.name) && (!d.optIn || spec.includes(d.optIn)))
    .map((d) => d.name);
  const deadlineMs = params.has('deadline') ? Number(params.get('deadline')) * 1e3 : undefined;
  const p: BenchProgress = { total: names.length, doneMs: [], current: null, stopping: false };
  progress = p;
  const cases: CaseResult[] = [];
  const errors: BenchReport['errors'] = [];
  let features: string[] = [];
  const tick = setInterval(showProgress, 1000);
  try {
    probed = null;
    if (probesBox.checked && names.length > 0) {
      statusEl.textContent = 'roofline probes (bandwidth, FMA)…';
      probed = await runProbes(
        ctx,
        names.map((name) => ({ name })),
        quickBox.checked ? QUICK_PLAN : DEFAULT_PLAN,
        (m) => (statusEl.textContent = m.trim()),
        errors,
      );
    }
    for (const name of names) {
      if (p.stopping || ctx.be.rt.isLost) break;
      p.current = name;
      caseStarted = performance.now();
      showProgress();
      const r = await runSuite(ctx, {
        quick: quickBox.checked,
        filter: (n) => n === name,
        filterSpec: spec || null,
        deadlineMs: deadlineMs === undefined ? undefined : Math.max(0, deadlineMs - (performance.now() - t0)),
        log: (m) => (statusEl.textContent = m.trim().replace(/^\[1\/1\] /, '')), // progressEl counts the cases
        onCase,
        peaks: probed?.peaks ?? null,
        earlier: cases,
      });
      cases.push(...r.cases);
      errors.push(...r.errors);
      features = r.features;
      p.doneMs = [...p.doneMs, performance.now() - caseStarted];
    }
  } finally {
    clearInterval(tick);
    p.current = null;
  }
  const wall = performance.now() - t0;
  progressEl.textContent = benchDoneText(p, wall);
  const report: BenchReport = {
    ...partialReport(ctx.be.deviceLabel, cases, peer),
    features,
    started,
    wall_s: wall / 1e3,
    errors,
  };
  return { report, stopped: p.stopping && p.doneMs.length < p.total };
}

async function run(): Promise<void> {
  runButton.disabled = true;
  copyButton.disabled = true;
  window.__bench = { state: 'running', report: null, error: null };
  try {
    statusEl.textContent = 'acquiring the GPU…';
    gpuBackend ??= await WebGPUBackend.create(navigator.gpu);
    adapterEl.textContent = gpuBackend.deviceLabel;
    if (peerBox.checked && tfjsPeer === undefined) {
      statusEl.textContent = 'loading tfjs-backend-webgpu…';
      tfjsPeer = await loadTfjs(
        undefined,
        () => import('@tensorflow/tfjs-core/dist/register_all_gradients'),
        (m) => (statusEl.textContent = m),
      );
    }
    const peer = peerBox.checked ? (tfjsPeer ?? null) : null;
    const done: CaseResult[] = [];
    renderTable(partialReport(gpuBackend.deviceLabel, done, peer));
    stopButton.disabled = false;
    const { report, stopped } = await runCases(makeContext(gpuBackend, peer), peer, (c) => {
      done.push(c);
      renderTable(partialReport(gpuBackend!.deviceLabel, done, peer));
    });
    renderTable(report);
    notes.textContent = formatNotes(report);
    jsonEl.textContent = JSON.stringify(report, null, 2);
    statusEl.textContent = `${stopped ? 'stopped' : 'done'}: ${report.cases.length} case(s) in ${report.wall_s.toFixed(1)} s${report.errors.length ? `, ${report.errors.length} failed (see notes)` : ''}`;
    copyButton.disabled = false;
    window.__bench = { state: 'done', report, error: null };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    statusEl.textContent = `error: ${msg}`;
    window.__bench = { state: 'error', report: null, error: msg };
  } finally {
    progress = null;
    runButton.disabled = false;
    stopButton.disabled = true;
  }
}

copyButton.addEventListener('click', async () => {
  const report = window.__bench?.report;
  if (!report) return;
  const text = JSON.stringify(report);
  try {
    await navigator.clipboard.writeText(text);
    copyButton.textContent = 'Copied';
  } catch {
    // No clipboard permission (e.g. an insecure context): select the JSON for a manual copy.
    const details = jsonEl.parentElement as HTMLDetailsElement;
    details.open = true;
    getSelection()?.selectAllChildren(jsonEl);
    copyButton.textContent = 'Selected: press Ctrl+C';
  }
  setTimeout(() => (copyButton.textContent = 'Copy JSON'), 2000);
});
runButton.addEventListener('click', () => void run());
stopButton.addEventListener('click', () => {
  if (!progress) return;
  progress.stopping = true;
  stopButton.disabled = true;
  showProgress();
});
if (params.get('run') === '1') void run();
