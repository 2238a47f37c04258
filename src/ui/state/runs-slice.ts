// The run history: every run of this browser (IndexedDB, through persist.ts), the baseline the
// runs table compares against, the runs overlaid on the charts and the seed groups drawn there.

import type { RunRecord } from '../../lab/runfile';
import { RUN_ACTIVE } from '../run/machine';
import { resumeOfferOf } from '../run/resume';
import { sortRuns } from '../runs';
import type { LabContext } from './context';
import { NO_PROGRESS, type HistorySlice } from './types';

/**
 * Load the saved runs into the table. Runs that were training or paused when the page closed are
 * marked stopped; the newest of them with a kept checkpoint is offered for resuming. With no
 * current run, the newest run is drawn on the charts (its charts reopen after a reload).
 */
export async function loadHistory(ctx: LabContext): Promise<void> {
  const store = ctx.history.store;
  const runs = await store.list();
  const interrupted = runs.filter((r) => r.status === 'running' || r.status === 'paused');
  for (const r of interrupted) {
    r.status = 'stopped';
    await store.saveNow(r);
  }
  const newest = [...runs].sort((a, b) => b.createdAt - a.createdAt)[0];
  ctx.set((s) => ({
    runs: sortRuns([...runs.filter((r) => !s.runs.some((x) => x.id === r.id)), ...s.runs]),
    resumeOffer: s.run ? null : resumeOfferOf(interrupted),
    overlayIds: newest && !s.run && !s.overlayIds.length ? [newest.id] : s.overlayIds,
  }));
  ctx.bumpRuns();
}

/** Add a run to the table and save it. */
export async function addRun(ctx: LabContext, run: RunRecord): Promise<void> {
  ctx.set((s) => ({ runs: sortRuns([...s.runs, run]) }));
  ctx.bumpRuns();
  await ctx.history.store.saveNow(run);
}

function deleteRun(ctx: LabContext, id: string): void {
  const { get, set } = ctx;
  const run = get().runs.find((r) => r.id === id);
  if (!run) return;
  if (get().run?.id === id && RUN_ACTIVE.has(get().phase)) {
    ctx.banner('info', `${run.name} is the current run: stop or reset it before deleting it.`);
    return;
  }
  ctx.askConfirm(
    {
      testId: 'confirm-delete',
      title: `Delete ${run.name}?`,
      body: 'Its config, metrics, samples and weights are removed from this browser. Export it first to keep a copy.',
      confirmLabel: 'Delete',
    },
    async () => {
      set((s) => ({
        runs: s.runs.filter((r) => r.id !== id),
        overlayIds: s.overlayIds.filter((x) => x !== id),
        baselineId: s.baselineId === id ? null : s.baselineId,
        ...(s.run?.id === id ? { run: null, info: null, columns: null, progress: NO_PROGRESS } : {}),
      }));
      ctx.bumpRuns();
      await ctx.history.store.delete(id);
    },
  );
}

export function historySlice(ctx: LabContext): HistorySlice {
  const { set } = ctx;
  return {
    runs: [],
    runsVersion: 0,
    baselineId: null,
    overlayIds: [],
    bandGroupIds: [],
    setBaseline(id) {
      set({ baselineId: id });
    },
    toggleOverlay(id) {
      set((s) => ({
        overlayIds: s.overlayIds.includes(id) ? s.overlayIds.filter((x) => x !== id) : [...s.overlayIds, id],
      }));
    },
    toggleBand(id) {
      set((s) => ({
        bandGroupIds: s.bandGroupIds.includes(id) ? s.bandGroupIds.filter((x) => x !== id) : [...s.bandGroupIds, id],
      }));
    },
    deleteRun: (id) => deleteRun(ctx, id),
    renameRun(id, name) {
      const run = ctx.get().runs.find((r) => r.id === id);
      const next = name.trim().slice(0, 80);
      if (!run || !next || next === run.name) return;
      run.name = next;
      ctx.bumpRuns();
      ctx.set((s) => ({ version: s.version + 1 })); // chart legends name overlaid runs
      void ctx.history.store.saveNow(run);
    },
  };
}
