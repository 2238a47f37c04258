// What every slice of the page store works with: the store's set/get, the worker and history
// handles, notices (banners, the confirm dialog) and the runs table's version counter. One
// context per store; its bookkeeping (banner ids, the pending confirm action) is not rendered.

import type { StoreApi } from 'zustand';
import { describeError } from '../errors';
import type { RunHistory, WorkerLink } from './services';
import type { Banner, ConfirmRequest, LabState } from './types';

export type SetLab = StoreApi<LabState>['setState'];
export type GetLab = () => LabState;

export class LabContext {
  private bannerSeq = 0;
  /** What to do when the confirm dialog is answered yes. */
  private confirmAction: (() => void | Promise<void>) | null = null;
  /** When the runs table was last told to re-render (metrics bump it at most once a second). */
  runsBumpedAt = 0;

  constructor(
    readonly set: SetLab,
    readonly get: GetLab,
    readonly worker: WorkerLink,
    readonly history: RunHistory,
  ) {}

  /** Show a notice; one with the same kind and title is replaced. Returns its id. */
  banner(kind: Banner['kind'], title: string, lines: string[] = []): number {
    const id = ++this.bannerSeq;
    this.set((s) => ({
      banners: [...s.banners.filter((b) => !(b.title === title && b.kind === kind)), { id, kind, title, lines }],
    }));
    return id;
  }

  reportError(err: unknown, title?: string): void {
    this.banner('error', title ? `${title}: ${describeError(err)}` : describeError(err));
  }

  askConfirm(req: ConfirmRequest, action: () => void | Promise<void>): void {
    this.confirmAction = action;
    this.set({ confirm: req });
  }

  /** Close the dialog; on yes, run its action (errors go to a banner). */
  answerConfirm(yes: boolean): void {
    const action = this.confirmAction;
    this.confirmAction = null;
    this.set({ confirm: null });
    if (yes && action) void Promise.resolve(action()).catch((err) => this.reportError(err));
  }

  /** Rows of the runs table changed in place (status, metrics): re-render it. */
  bumpRuns(): void {
    this.runsBumpedAt = performance.now();
    this.set((s) => ({ runsVersion: s.runsVersion + 1 }));
  }
}
