// The Findings view's state: each card's last result (from the IndexedDB cache or a run), a run
// in progress with its ETA, and the seeds and size the Run buttons use. Findings run one at a
// time in the findings worker (worker/findings.worker.ts).

import * as Comlink from 'comlink';
import { create } from 'zustand';
import { type JudgedResult, type Progress, seedsFor, findFinding } from '../../findings';
import type { FindingsWorkerApi } from '../../worker/findings.worker';
import { describeError } from '../errors';
import { cacheKey, configKey, FindingCache } from './cache';
import { DEFAULT_SEEDS } from './link';

export interface CardState {
  status: 'idle' | 'running' | 'done' | 'failed';
  progress: Progress | null;
  /** performance.now() when the run began (for the ETA). */
  startedAt: number | null;
  result: JudgedResult | null;
  /** When the shown result was measured (ms since the epoch); from the cache or the run. */
  savedAt: number | null;
  /** The result came from the cache (an earlier visit), not from a run in this page. */
  cached: boolean;
  error: string | null;
}

export const IDLE: CardState = {
  status: 'idle',
  progress: null,
  startedAt: null,
  result: null,
  savedAt: null,
  cached: false,
  error: null,
};

interface FindingsState {
  seeds: number;
  quick: boolean;
  cards: Record<string, CardState>;
  /** The finding running now (one at a time). */
  busy: string | null;
  setSeeds(n: number): void;
  setQuick(q: boolean): void;
  /** Show the cached result of each named finding at the current seeds and size (or none). */
  loadCached(names: readonly string[]): Promise<void>;
  run(name: string): Promise<void>;
}

type Client = { api: Comlink.Remote<FindingsWorkerApi>; crashed: Promise<never>; dispose(): void };

function startWorker(): Client {
  const worker = new Worker(new URL('../../worker/findings.worker.ts', import.meta.url), {
    type: 'module',
    name: 'v3lab-findings',
  });
  let fail: (e: Error) => void = () => {};
  const crashed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  crashed.catch(() => {});
  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault();
    fail(new Error(`The findings worker failed: ${e.message || 'it could not be loaded'}`));
  });
  return { api: Comlink.wrap<FindingsWorkerApi>(worker), crashed, dispose: () => worker.terminate() };
}

let client: Client | null = null;
/** Bumps with each cache lookup; a slower, older lookup never overwrites a newer one. */
let lookup = 0;
const cache = new FindingCache();

const seedList = (name: string, n: number, quick: boolean) => {
  const f = findFinding(name);
  return f ? seedsFor(f, quick, n) : [];
};

export const useFindings = create<FindingsState>()((set, get) => {
  const patch = (name: string, p: Partial<CardState>) =>
    set((s) => ({ cards: { ...s.cards, [name]: { ...(s.cards[name] ?? IDLE), ...p } } }));
  return {
    seeds: DEFAULT_SEEDS,
    quick: false,
    cards: {},
    busy: null,
    setSeeds: (n) => set({ seeds: n }),
    setQuick: (q) => set({ quick: q }),
    async loadCached(names) {
      const { seeds, quick } = get();
      const mine = ++lookup;
      for (const name of names) {
        if (get().cards[name]?.status === 'running') continue;
        const hit = await cache.latest(name, configKey(name, quick), seedList(name, seeds, quick)).catch(() => null);
        if (mine !== lookup || get().cards[name]?.status === 'running') return;
        patch(name, hit ? { ...IDLE, status: 'done', result: hit.result, savedAt: hit.savedAt, cached: true } : IDLE);
      }
    },
    async run(name) {
      if (get().busy) return;
      const { seeds: n, quick } = get();
      const seeds = seedList(name, n, quick);
      set({ busy: name });
      patch(name, { status: 'running', progress: null, startedAt: performance.now(), error: null });
      try {
        client ??= startWorker();
        const c = client;
        const onProgress = Comlink.proxy((p: Progress) => patch(name, { progress: p }));
        const result = await Promise.race([c.api.run({ name, seeds, quick }, onProgress), c.crashed]);
        const savedAt = Date.now();
        patch(name, { status: 'done', result, savedAt, cached: false, progress: null });
        const config = configKey(name, quick);
        await cache.put({
          key: cacheKey(name, config, seeds, result.adapter),
          finding: name,
          config,
          seeds,
          quick,
          adapter: result.adapter,
          savedAt,
          result,
        });
      } catch (err) {
        if (client && err instanceof Error && err.message.startsWith('The findings worker failed')) {
          client.dispose();
          client = null;
        }
        patch(name, { status: 'failed', error: describeError(err), progress: null });
      } finally {
        set({ busy: null });
      }
    },
  };
});
