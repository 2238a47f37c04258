// Runs that survive a reload. While a run trains, the lab takes its automatic checkpoint every
// `train.checkpoint_every` steps and every CHECKPOINT_EVERY_S seconds; each new one is copied to
// IndexedDB beside the run record (whose `checkpointStep` says which step it holds), and the
// metrics are saved as they arrive (persist.ts). After a reload the latest interrupted run with
// such a checkpoint is offered for resuming: the lab restores it exactly as after a lost device
// (weights, AdamW moments, batch sampler), so the steps after it equal an uninterrupted run's.

import type { StepTick } from '../../lab/api';
import type { RunRecord } from '../../lab/runfile';
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
