// The worker owns the GPU: it builds the lab on a WebGPU backend and exposes the LabApi to the
// page with comlink. Nothing else lives here.

import * as Comlink from 'comlink';
import { WebGPUBackend } from '../backends/webgpu/backend';
import { createLab } from '../lab/lab';

const lab = createLab(() => WebGPUBackend.create(navigator.gpu));
Comlink.expose(lab);
