// Shown when the browser has no WebGPU: where to get it, and the slow CPU reference as a fallback.

import { NO_WEBGPU_MESSAGE, useLab } from '../store';

export function NoWebGpu() {
  const phase = useLab((s) => s.phase);
  const useCpu = useLab((s) => s.useCpu);
  if (phase !== 'unavailable') return null;
  return (
    <div className="notice notice-warn" data-testid="no-webgpu" role="status">
      <strong>WebGPU is not available in this browser.</strong>
      <p>{NO_WEBGPU_MESSAGE}</p>
      <p>
        <button type="button" data-testid="use-cpu" onClick={() => void useCpu()}>
          Use the CPU reference (slow)
        </button>{' '}
        <span className="muted small">
          float64 on the CPU, in the worker: micro presets only, a few seconds per step.
        </span>
      </p>
    </div>
  );
}
