// The page's handle on the lab worker. The worker owns the GPU; the page only talks to it through
// comlink. If the worker itself dies (a load error, an uncaught exception), comlink calls in
// flight would wait forever, so every call here races a "crashed" promise that rejects instead.

import * as Comlink from 'comlink';
import type { WorkerApi } from '../worker/lab.worker';

export interface LabClient {
  /** Run one call against the worker's API; rejects if the worker crashes meanwhile. */
  call<T>(fn: (lab: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T>;
  /** Terminate the worker (and with it the GPU device and any run). */
  dispose(): void;
}

export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
}

export function startLabWorker(): LabClient {
  const worker = new Worker(new URL('../worker/lab.worker.ts', import.meta.url), { type: 'module', name: 'v3lab-lab' });
  const lab = Comlink.wrap<WorkerApi>(worker);

  let fail: (err: Error) => void = () => {};
  const crashed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  crashed.catch(() => {}); // observed through call(); never an unhandled rejection by itself

  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault();
    const where = e.filename ? ` (${e.filename.split('/').pop()}:${e.lineno})` : '';
    fail(new WorkerCrashedError(`The lab worker failed: ${e.message || 'it could not be loaded'}${where}`));
  });
  worker.addEventListener('messageerror', () => {
    fail(new WorkerCrashedError('The lab worker sent a message that could not be read.'));
  });

  let disposed = false;
  return {
    call(fn) {
      if (disposed) return Promise.reject(new WorkerCrashedError('The lab worker was shut down.'));
      return Promise.race([fn(lab), crashed]);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      fail(new WorkerCrashedError('The lab worker was shut down.'));
      lab[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
