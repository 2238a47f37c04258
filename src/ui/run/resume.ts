// Runs that survive a reload. While a run trains, the lab takes its automatic checkpoint every
// `train.checkpoint_every` steps and every CHECKPOINT_EVERY_S seconds; each new one is copied to
// IndexedDB beside the run record (whose `checkpointStep` says which step it holds), and the
// metrics are saved as they arrive (persist.ts). After a reload the latest interrupted run with
// such a checkpoint is offered for resuming: the lab restores it exactly as after a lost device
// (weights, AdamW moments, batch sampler), so the steps after it equal an uninterrupted run's.
// Live changes made after that checkpoint are replayed at their steps: each chunk of training
// ends just before the next one's step, where the lab's setLive applies it to that very step.

import { withPath } from '../../config';
import type { LiveChange, StepTick } from '../../lab/api';
import type { RunRecord } from '../../lab/runfile';
import { formatValue } from '../draft';
import { setDraft } from '../state/config-slice';
import type { LabContext } from '../state/context';

/** Seconds between the lab's automatic checkpoints, besides its step budget (train.checkpoint_every). */
export const CHECKPOINT_EVERY_S = 30;

/** A run the page can resume after a reload: from its kept checkpoint at `step`. */
export interface ResumeOffer {
  id: string;
  name: string;
  step: number;
  /** The step the run had reached when the page went away. */
  reached: number;
}

/** The run to offer after a reload: the newest one that was training or paused and has a checkpoint. */
export function resumeOfferOf(interrupted: readonly RunRecord[]): ResumeOffer | null {
  const r = [...interrupted].filter((x) => (x.checkpointStep ?? 0) > 0).sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!r) return null;
  const reached = r.metrics.length ? r.metrics[r.metrics.length - 1].step : r.checkpointStep!;
  return { id: r.id, name: r.name, step: r.checkpointStep!, reached: Math.max(reached, r.checkpointStep!) };
}

/** Copies each new automatic checkpoint of the current run from the worker to IndexedDB, one at a time. */
export class CheckpointKeeper {
  private busy = false;

  constructor(private readonly ctx: LabContext) {}

  /** A step tick: fetch and keep the lab's checkpoint if it is newer than the one kept. */
  onTick(run: RunRecord, tick: StepTick, isCurrent: () => boolean): void {
    if (this.busy || tick.checkpointStep <= (run.checkpointStep ?? 0)) return;
    this.busy = true;
    void this.keep(run, isCurrent).finally(() => {
      this.busy = false;
    });
  }

  private async keep(run: RunRecord, isCurrent: () => boolean): Promise<void> {
    const c = this.ctx.worker.current;
    if (!c) return;
    try {
      const got = await c.call((lab) => lab.lastCheckpointSafetensors());
      if (!got || !isCurrent() || got.step <= (run.checkpointStep ?? 0)) return;
      const store = this.ctx.history.store;
      await store.putCheckpoint(run.id, got.bytes);
      run.checkpointStep = got.step;
      // The record (metrics up to now, and the checkpoint's step) lands after the weights.
      await store.saveNow(run);
      this.ctx.bumpRuns();
    } catch {
      // The next checkpoint tries again; a run that ends saves its final weights anyway.
    }
  }
}

/** A run resumed from its checkpoint at step `k`: the live changes it keeps, and those to replay, in step order. */
export function splitChanges(changes: readonly LiveChange[], k: number): { kept: LiveChange[]; replay: LiveChange[] } {
  return {
    kept: changes.filter((x) => x.step <= k),
    replay: changes.filter((x) => x.step > k).sort((a, b) => a.step - b.step),
  };
}

/**
 * The next chunk of training with live changes still to replay, from `step` (steps done): the
 * changes due at the next step (to apply now: setLive applies at the next step), those left, and
 * the chunk's length, cut so it ends just before the next change's step (`cut` when it was).
 */
export function replayPlan(
  pending: readonly LiveChange[],
  step: number,
  maxSteps: number,
): { due: LiveChange[]; rest: LiveChange[]; maxSteps: number; cut: boolean } {
  const due = pending.filter((x) => x.step <= step + 1);
  const rest = pending.filter((x) => x.step > step + 1);
  const until = rest.length ? rest[0].step - 1 - step : Infinity;
  return { due, rest, maxSteps: Math.min(maxSteps, until), cut: until < maxSteps };
}

/** Apply replayed live changes through the lab (as the page's own are), recording each on the run. */
export async function applyReplay(ctx: LabContext, run: RunRecord, due: readonly LiveChange[]): Promise<void> {
  const c = ctx.worker.current;
  if (!c) return;
  for (const x of due) {
    let change: LiveChange;
    try {
      change = await c.call((lab) => lab.setLive(x.path, x.value));
    } catch (err) {
      ctx.reportError(err, `Could not replay the change of ${x.path} at step ${x.step}`);
      continue;
    }
    run.changes.push(change);
    const config = withPath(ctx.get().info?.config ?? run.config, x.path, change.value);
    ctx.set((s) => ({ info: s.info ? { ...s.info, config } : s.info, version: s.version + 1 }));
    setDraft(ctx, { ...ctx.get().draft, [x.path]: formatValue(change.value) });
  }
  ctx.history.store.saveLater(run);
}
