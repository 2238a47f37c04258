// Title and the adapter the worker is training on.

import { useLab } from '../store';

export function Header() {
  const phase = useLab((s) => s.phase);
  const adapter = useLab((s) => s.adapter);
  const backend = useLab((s) => s.backend);
  const text = adapter
    ? `${adapter}${backend === 'cpu' ? ' (slow)' : ''}`
    : phase === 'connecting'
      ? 'connecting…'
      : phase === 'unavailable'
        ? 'no WebGPU'
        : '–';
  return (
    <header className="header" data-testid="panel-header">
      <div>
        <h1>v3lab</h1>
        <p className="tagline">Train small DeepSeek-V3-shaped language models in your browser, on your GPU.</p>
      </div>
      <p className="adapter">
        <span className="muted small">{backend === 'cpu' ? 'backend' : 'adapter'}</span>
        <span data-testid="adapter-info" data-backend={backend ?? ''} className={adapter ? 'adapter-name' : 'muted'}>
          {text}
        </span>
      </p>
    </header>
  );
}
