// Shared helpers for the e2e specs: opening the lab, reading its numbers, and the main-thread
// probe (long tasks + timer drift) that runs in the page from before its first script.

import { expect, type Page } from '@playwright/test';
import type { StepMetrics } from '../src/lab/api';
import type { Phase } from '../src/ui/store';

/**
 * How long a spec waits for work on the page (compiling shaders, training steps, a sample) before
 * it fails. SwiftShader on a busy 2-core machine is 2-5x slower than idle, so every such wait uses
 * this one generous bound; the specs stay bounded by steps, and this only catches a hang.
 */
export const WORK_MS = 10 * 60_000;

/**
 * How long a spec waits for a whole short run (Start to done: shader compiles plus a few steps).
 * Under a second `npm test` and other builds on the 2-core machine, the MoE + MLA run of
 * v3-panels.spec took over 10 min; specs that wait this long set their test timeout above it.
 */
export const RUN_MS = 20 * 60_000;

/** Page errors (uncaught exceptions) collected during a test; each test asserts none. */
export function trackPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Open the lab (optionally with a link hash) and wait for the adapter to be reported. */
export async function openLab(page: Page, hash = ''): Promise<string> {
  await page.goto(`/${hash}`);
  const adapter = page.getByTestId('adapter-info');
  // Acquiring a device (and the worker's first module load) can take a while on SwiftShader.
  await expect(adapter).not.toHaveText(/connecting|^–$|^$/, { timeout: WORK_MS });
  return ((await adapter.textContent()) ?? '').trim();
}

export const phaseOf = (page: Page) => page.evaluate(() => window.__v3lab!.phase()) as Promise<Phase>;
export const metricsOf = (page: Page) => page.evaluate(() => window.__v3lab!.metrics()) as Promise<StepMetrics[]>;

/** The step shown in step-count ("12 / 30" → 12). */
export async function shownStep(page: Page): Promise<number> {
  const t = (await page.getByTestId('step-count').textContent()) ?? '';
  return Number(t.split('/')[0].trim());
}

export async function waitForPhase(page: Page, re: RegExp, timeout = WORK_MS): Promise<Phase> {
  await expect.poll(() => phaseOf(page), { timeout, intervals: [250, 500, 1000] }).toMatch(re);
  return phaseOf(page);
}

export async function waitForStep(page: Page, atLeast: number, timeout = WORK_MS): Promise<number> {
  await expect.poll(() => shownStep(page), { timeout, intervals: [250, 500] }).toBeGreaterThanOrEqual(atLeast);
  return shownStep(page);
}

export function log(msg: string): void {
  console.log(`[e2e] ${msg}`);
}

declare global {
  interface Window {
    __probe?: {
      longTasks: Array<{ start: number; duration: number }>;
      ticks: Array<{ at: number; late: number }>;
    };
  }
}

/**
 * Installed before the page's scripts: records every long task (> 50 ms, PerformanceObserver
 * 'longtask') and the lateness of a 20 ms interval timer (event-loop delay).
 */
export async function installMainThreadProbe(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const probe = {
      longTasks: [] as Array<{ start: number; duration: number }>,
      ticks: [] as Array<{ at: number; late: number }>,
    };
    window.__probe = probe;
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) probe.longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      // no longtask support: the timer probe still runs
    }
    const PERIOD = 20;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      probe.ticks.push({ at: now, late: Math.max(0, now - last - PERIOD) });
      last = now;
    }, PERIOD);
  });
}

export interface ProbeResult {
  longestTaskMs: number;
  longTasks: number;
  maxTimerLateMs: number;
  p99TimerLateMs: number;
  ticks: number;
}

/** Probe results over [from, to] (page performance.now() times), minus the excluded windows. */
export async function readProbe(
  page: Page,
  from: number,
  to: number,
  exclude: Array<[number, number]> = [],
): Promise<ProbeResult> {
  return page.evaluate(
    ({ from, to, exclude }) => {
      const p = window.__probe!;
      const outside = (a: number, b: number) => exclude.every(([x, y]) => b < x || a > y);
      const tasks = p.longTasks.filter(
        (t) => t.start >= from && t.start + t.duration <= to && outside(t.start, t.start + t.duration),
      );
      const late = p.ticks
        .filter((t) => t.at >= from && t.at <= to && outside(t.at - t.late - 20, t.at))
        .map((t) => t.late);
      late.sort((a, b) => a - b);
      return {
        longestTaskMs: tasks.reduce((m, t) => Math.max(m, t.duration), 0),
        longTasks: tasks.length,
        maxTimerLateMs: late.length ? late[late.length - 1] : 0,
        p99TimerLateMs: late.length ? late[Math.floor(late.length * 0.99)] : 0,
        ticks: late.length,
      };
    },
    { from, to, exclude },
  );
}

export const pageNow = (page: Page) => page.evaluate(() => performance.now());

/** Values of every config input (config-<path>), by test id. */
export async function configValues(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
      '[data-testid^="config-"]',
    )) {
      const id = el.dataset.testid!;
      if (id.startsWith('config-error-')) continue;
      if ('value' in el) out[id] = el.value;
    }
    return out;
  });
}

/** Put a named mark into the Chrome trace (console.timeStamp → a 'TimeStamp' trace event). */
export const traceMark = (page: Page, name: string) => page.evaluate((n) => console.timeStamp(n), name);

export interface MainThreadCpu {
  /** Longest main-thread task by CPU time (thread time), in ms. */
  longestCpuMs: number;
  /** Its wall time, in ms. */
  longestCpuWallMs: number;
  /** Longest main-thread task by wall time, and the CPU time it used, in ms. */
  longestWallMs: number;
  longestWallCpuMs: number;
  /** Tasks that took 50 ms of CPU or more. */
  over50CpuMs: number;
  tasks: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { message?: string } };
}

/**
 * Main-thread tasks of the page's renderer in a Chrome trace (category 'toplevel' gives every
 * task with its wall and thread time), between two marks and outside the excluded mark pairs.
 * Thread time is the CPU the page's own work took; wall time also counts time the thread was
 * runnable but not scheduled (on a 2-core machine shared with a software GPU, that dominates).
 */
export function mainThreadTasks(
  traceJson: Buffer,
  from: string,
  to: string,
  exclude: Array<[string, string]> = [],
): MainThreadCpu {
  const parsed = JSON.parse(traceJson.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const ev = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const marks = new Map<string, TraceEvent>();
  for (const e of ev) if (e.name === 'TimeStamp' && e.args?.data?.message) marks.set(e.args.data.message, e);
  const a = marks.get(from);
  const b = marks.get(to);
  if (!a || !b) throw new Error(`trace marks ${from}/${to} not found`);
  const main = ev.find((e) => e.name === 'thread_name' && e.pid === a.pid && e.args?.name === 'CrRendererMain');
  const tid = main?.tid ?? a.tid;
  const skip = exclude.map(([x, y]) => [marks.get(x)?.ts ?? Infinity, marks.get(y)?.ts ?? -Infinity] as const);
  const tasks = ev.filter(
    (e) =>
      e.pid === a.pid &&
      e.tid === tid &&
      e.ph === 'X' &&
      e.name === 'ThreadControllerImpl::RunTask' &&
      e.ts >= a.ts &&
      e.ts + (e.dur ?? 0) <= b.ts &&
      skip.every(([x, y]) => e.ts + (e.dur ?? 0) < x || e.ts > y),
  );
  let byCpu = { cpu: 0, wall: 0 };
  let byWall = { cpu: 0, wall: 0 };
  let over50CpuMs = 0;
  for (const t of tasks) {
    const cpu = (t.tdur ?? t.dur ?? 0) / 1000;
    const wall = (t.dur ?? 0) / 1000;
    if (cpu >= 50) over50CpuMs++;
    if (cpu > byCpu.cpu) byCpu = { cpu, wall };
    if (wall > byWall.wall) byWall = { cpu, wall };
  }
  return {
    longestCpuMs: byCpu.cpu,
    longestCpuWallMs: byCpu.wall,
    longestWallMs: byWall.wall,
    longestWallCpuMs: byWall.cpu,
    over50CpuMs,
    tasks: tasks.length,
  };
}
