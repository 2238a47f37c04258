// Run history persistence: a thin layer over RunStore (IndexedDB) that coalesces saves. A run
// that is training is saved at most every SAVE_INTERVAL_MS (each save structured-clones its
// metrics); status changes are saved at once. If IndexedDB is unavailable (private mode, quota)
// the page keeps working from memory and says so once.

import type { RunRecord } from '../lab/runfile';
import { RunStore } from '../lab/runstore';

export const SAVE_INTERVAL_MS = 1000;

/** What the page needs of RunStore (tests pass an in-memory one). */
export type RunStoreLike = Pick<RunStore, 'list' | 'put' | 'delete' | 'putCheckpoint' | 'getCheckpoint'>;

export class RunPersistence {
  private store: RunStoreLike | null = null;
  private opening: Promise<RunStoreLike | null> | null = null;
  private dirty = new Map<string, RunRecord>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly onError: (err: unknown, what: string) => void,
    private readonly opener: () => Promise<RunStoreLike> = () => RunStore.open(),
  ) {}

  open(): Promise<RunStoreLike | null> {
    this.opening ??= this.opener().then(
      (s) => (this.store = s),
      (err) => {
        this.onError(
          err,
          'Run history is not available (IndexedDB could not be opened); runs are kept in this tab only',
        );
        return null;
      },
    );
    return this.opening;
  }

  async list(): Promise<RunRecord[]> {
    const s = await this.open();
    if (!s) return [];
    try {
      return await s.list();
    } catch (err) {
      this.onError(err, 'Could not read the run history');
      return [];
    }
  }

  /** Save soon (coalesced with other saves of the same run). */
  saveLater(run: RunRecord): void {
    this.dirty.set(run.id, run);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, SAVE_INTERVAL_MS);
  }

  /** Save now (and anything pending). */
  saveNow(run: RunRecord): Promise<void> {
    this.dirty.set(run.id, run);
    return this.flush();
  }

  flush(): Promise<void> {
    const runs = [...this.dirty.values()];
    this.dirty.clear();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return this.serial(async (s) => {
      for (const r of runs) await s.put(r);
    }, 'Could not save the run');
  }

  delete(id: string): Promise<void> {
    this.dirty.delete(id);
    return this.serial((s) => s.delete(id), 'Could not delete the run');
  }

  putCheckpoint(id: string, bytes: Uint8Array): Promise<void> {
    return this.serial((s) => s.putCheckpoint(id, bytes), "Could not save the run's weights");
  }

  async getCheckpoint(id: string): Promise<Uint8Array | undefined> {
    await this.chain;
    const s = await this.open();
    return s ? s.getCheckpoint(id) : undefined;
  }

  /** IndexedDB writes one after another, so a later save never lands before an earlier one. */
  private serial(fn: (s: RunStoreLike) => Promise<void>, what: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      const s = await this.open();
      if (!s) return;
      try {
        await fn(s);
      } catch (err) {
        this.onError(err, what);
      }
    });
    return this.chain;
  }
}
