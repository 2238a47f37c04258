// The Findings view's worker: runs one finding at a time (src/findings/) on its own WebGPU device
// and reports progress to the page over comlink. Kept apart from the lab's worker, so a finding
// never disturbs the run being trained in the Lab view (and the lab's worker needs no new API).

import * as Comlink from 'comlink';
import type { Backend } from '../engine/backend';
import { findFinding, type JudgedResult, type Progress, runFinding } from '../findings';

export interface FindingRequest {
  name: string;
  seeds: number[];
  quick: boolean;
}

export interface FindingsWorkerApi {
  run(req: FindingRequest, onProgress: (p: Progress) => void): Promise<JudgedResult>;
}

let backend: Promise<Backend> | null = null;

function acquire(): Promise<Backend> {
  backend ??= import('../backends/webgpu/backend')
    .then(({ WebGPUBackend }) => WebGPUBackend.create(navigator.gpu))
    .catch((e: unknown) => {
      backend = null;
      throw e;
    });
  return backend;
}

const api: FindingsWorkerApi = {
  async run(req, onProgress) {
    const f = findFinding(req.name);
    if (!f) throw new Error(`unknown finding "${req.name}"`);
    const be = f.gpu === false ? (null as unknown as Backend) : await acquire();
    return runFinding(be, f, { seeds: req.seeds, quick: req.quick, onProgress: (p) => onProgress(p) });
  },
};

Comlink.expose(api);
