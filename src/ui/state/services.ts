// The page's two long-lived handles outside the rendered state: the lab worker's client and the
// run history's persistence. Each is made lazily; tests swap what makes them (a fake lab, an
// in-memory history) through the setters the store exports.

import type { LabClient } from '../lab-client';
import { RunPersistence, type RunStoreLike } from '../persist';

/** The lab worker's client: made on first use, dropped after a crash, made again on demand. */
export class WorkerLink {
  private client: LabClient | null = null;

  constructor(private factory: () => LabClient) {}

  /** For tests: build the client some other way (takes effect at the next ensure()). */
  setFactory(factory: () => LabClient): void {
    this.factory = factory;
  }

  /** The client, if one is running. */
  get current(): LabClient | null {
    return this.client;
  }

  ensure(): LabClient {
    this.client ??= this.factory();
    return this.client;
  }

  /** Terminate the worker (after it crashed); the next ensure() starts a fresh one. */
  drop(): void {
    this.client?.dispose();
    this.client = null;
  }
}

/** The run history's persistence, and the end-of-run saves a new run (and whenSaved) wait for. */
export class RunHistory {
  private persistence: RunPersistence | null = null;
  private opener: (() => Promise<RunStoreLike>) | undefined;
  private finishing: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (err: unknown, what: string) => void) {}

  /** For tests: keep the run history somewhere other than IndexedDB. */
  setOpener(open: () => Promise<RunStoreLike>): void {
    this.opener = open;
    this.persistence = null;
  }

  get store(): RunPersistence {
    this.persistence ??= new RunPersistence(this.onError, this.opener);
    return this.persistence;
  }

  /** Record the end-of-run saves (status, checkpoint) now in flight. */
  track(work: Promise<void>): void {
    this.finishing = work;
  }

  /** Resolves when the latest end-of-run saves have landed. */
  get finished(): Promise<void> {
    return this.finishing;
  }

  /** Resolves once the end-of-run saves and every pending IndexedDB write have landed. */
  async whenSaved(): Promise<void> {
    await this.finishing;
    await this.persistence?.flush();
  }
}
