// Lab work beside training. The worker runs one thing at a time: inspections (an attention
// pattern, quantization statistics) and samples on demand run at once when no training loop is
// going, one after another; while training they wait for the current chunk to end (the page
// pauses the lab for them) and the loop runs them before it carries on.

import type { Phase } from './machine';

type Job = () => Promise<void>;

export class LabQueue {
  /** Inspections waiting for the current training chunk to end. */
  private between: Job[] = [];
  /** Lab work started while no training loop runs; training (and a new run) waits for it. */
  private exclusive: Promise<void> = Promise.resolve();

  /** Resolves when the lab work started so far has ended. */
  get idle(): Promise<void> {
    return this.exclusive;
  }

  /** Jobs are waiting for the chunk to end. */
  get waiting(): boolean {
    return this.between.length > 0;
  }

  /** Run lab work after any other such work, while no training loop is running. */
  exclusively(job: Job): Promise<void> {
    const work = this.exclusive.then(job);
    this.exclusive = work.catch(() => {});
    return work;
  }

  /** Run a job now if no training is going, else between chunks (pausing the lab for it). */
  whenFree(job: Job, phase: Phase, pauseLab: () => void): Promise<void> {
    if (phase !== 'training' && phase !== 'pausing') return this.exclusively(job);
    return new Promise<void>((resolve) => {
      this.between.push(() => job().finally(resolve));
      if (phase === 'training') pauseLab();
    });
  }

  /** Between two chunks: run the waiting jobs in order. */
  async runWaiting(): Promise<void> {
    while (this.between.length) await this.between.shift()!();
  }

  /** The training loop ended: jobs queued as it ended run now, in order. */
  releaseWaiting(): void {
    const left = this.between;
    this.between = [];
    for (const job of left) void this.exclusively(job);
  }
}
