// The lab page: GPU status, run form (preset, seed, steps), Train / Pause / Stop, progress and
// the live loss chart. All state lives in the zustand store (store.ts); these components only
// render slices of it and call its actions.

import { Component, useEffect, type FormEvent, type ReactNode } from 'react';
import type { StepMetrics } from '../lab/api';
import type { FormField } from './form';
import { LossChart } from './LossChart';
import { CAN_START, CAN_STOP, useLab, type Phase } from './store';

const PHASE_TEXT: Record<Phase, string> = {
  connecting: 'Connecting to the GPU…',
  unavailable: 'WebGPU unavailable',
  idle: 'Ready',
  starting: 'Building model and data…',
  training: 'Training…',
  pausing: 'Pausing…',
  paused: 'Paused',
  stopping: 'Stopping…',
  done: 'Done',
  stopped: 'Stopped',
  failed: 'Failed',
};

function fmtLoss(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : Number.isFinite(x) ? x.toFixed(4) : String(x);
}

function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function lastVal(metrics: StepMetrics[]): number | null {
  for (let i = metrics.length - 1; i >= 0; i--) if (metrics[i].val_loss !== null) return metrics[i].val_loss;
  return null;
}

function GpuStatus() {
  const phase = useLab((s) => s.phase);
  const adapter = useLab((s) => s.adapter);
  const backend = useLab((s) => s.backend);
  const reason = useLab((s) => s.unavailableReason);

  if (phase === 'unavailable') {
    return (
      <div className="notice notice-warn" data-testid="no-webgpu" role="status">
        <strong>WebGPU is not available.</strong> {reason}
      </div>
    );
  }
  return (
    <p className="gpu">
      GPU adapter:{' '}
      {adapter ? (
        <>
          <span className="adapter" data-testid="adapter">
            {adapter}
          </span>
          {backend && <span className="muted"> ({backend})</span>}
        </>
      ) : (
        <span className="muted">{phase === 'connecting' ? 'connecting…' : 'not connected'}</span>
      )}
    </p>
  );
}

function ErrorBanner() {
  const error = useLab((s) => s.error);
  const dismiss = useLab((s) => s.dismissError);
  if (!error) return null;
  const [first, ...rest] = error.split('\n');
  return (
    <div className="notice notice-error" role="alert" data-testid="error">
      <div className="notice-head">
        <strong>{first}</strong>
        <button type="button" className="link" onClick={dismiss} aria-label="Dismiss error">
          Dismiss
        </button>
      </div>
      {rest.length > 0 && <pre className="notice-detail">{rest.join('\n')}</pre>}
    </div>
  );
}

function RunControls() {
  const phase = useLab((s) => s.phase);
  const presets = useLab((s) => s.presets);
  const form = useLab((s) => s.form);
  const formError = useLab((s) => s.formError);
  const setField = useLab((s) => s.setField);
  const train = useLab((s) => s.train);
  const pause = useLab((s) => s.pause);
  const stop = useLab((s) => s.stop);

  const editable = CAN_START.has(phase) || phase === 'connecting';
  const canTrain = CAN_START.has(phase) || phase === 'paused';
  const presetList = presets.length > 0 ? presets : [{ name: form.preset, description: '' }];
  const description = presets.find((p) => p.name === form.preset)?.description;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void train();
  };
  const invalid = (field: FormField) => formError?.field === field;
  const field = (name: FormField) => ({
    id: `field-${name}`,
    value: form[name],
    disabled: !editable,
    'aria-invalid': invalid(name) || undefined,
    'aria-describedby': invalid(name) ? 'form-error' : undefined,
  });

  return (
    <form className="controls" onSubmit={onSubmit} noValidate>
      <div className="fields">
        <label htmlFor="field-preset">
          Preset
          <select {...field('preset')} data-testid="preset" onChange={(e) => setField('preset', e.target.value)}>
            {presetList.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor="field-seed">
          Seed
          <input {...field('seed')} data-testid="seed" inputMode="numeric" onChange={(e) => setField('seed', e.target.value)} />
        </label>
        <label htmlFor="field-steps">
          Steps
          <input
            {...field('steps')}
            data-testid="steps"
            inputMode="numeric"
            placeholder="preset default"
            onChange={(e) => setField('steps', e.target.value)}
          />
        </label>
      </div>
      {description && <p className="muted preset-description">{description}</p>}
      {formError && (
        <p className="form-error" id="form-error" data-testid="form-error" role="alert">
          {formError.message}
        </p>
      )}
      <div className="buttons">
        <button type="submit" className="primary" data-testid="train-button" disabled={!canTrain}>
          {phase === 'paused' ? 'Resume' : phase === 'starting' ? 'Starting…' : 'Train'}
        </button>
        <button type="button" data-testid="pause-button" disabled={phase !== 'training'} onClick={() => void pause()}>
          Pause
        </button>
        <button type="button" data-testid="stop-button" disabled={!CAN_STOP.has(phase)} onClick={() => void stop()}>
          Stop
        </button>
        <span className="phase" data-testid="phase" data-phase={phase}>
          {PHASE_TEXT[phase]}
        </span>
      </div>
    </form>
  );
}

function Progress() {
  const metrics = useLab((s) => s.metrics);
  const run = useLab((s) => s.run);
  const stepsPerSec = useLab((s) => s.stepsPerSec);
  const phase = useLab((s) => s.phase);

  const last = metrics.length ? metrics[metrics.length - 1] : null;
  const step = last?.step ?? 0;
  const total = run?.totalSteps ?? null;
  const active = phase === 'training' || phase === 'pausing';
  const eta = active && total !== null && stepsPerSec ? fmtDuration((total - step) / stepsPerSec) : '–';

  return (
    <dl className="progress">
      <div>
        <dt>Step</dt>
        <dd data-testid="step">
          {step} / {total ?? '–'}
        </dd>
      </div>
      <div>
        <dt>Loss</dt>
        <dd data-testid="loss">{fmtLoss(last?.loss)}</dd>
      </div>
      <div>
        <dt>Val loss</dt>
        <dd data-testid="val-loss">{fmtLoss(lastVal(metrics))}</dd>
      </div>
      <div>
        <dt>Tokens/s</dt>
        <dd data-testid="tokens-per-s">{last ? Math.round(last.tokens_per_s).toLocaleString('en-US') : '–'}</dd>
      </div>
      <div>
        <dt>ETA</dt>
        <dd data-testid="eta">{eta}</dd>
      </div>
      {run && (
        <div>
          <dt>Params</dt>
          <dd data-testid="params">{run.params.toLocaleString('en-US')}</dd>
        </div>
      )}
    </dl>
  );
}

function Chart() {
  const metrics = useLab((s) => s.metrics);
  const total = useLab((s) => s.run?.totalSteps ?? null);
  return <LossChart metrics={metrics} totalSteps={total} />;
}

/** Keeps a rendering bug from blanking the page: shows it in place of the broken part. */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="notice notice-error" role="alert" data-testid="error">
          <div className="notice-head">
            <strong>The page hit a bug: {this.state.error.message}</strong>
            <button type="button" className="link" onClick={() => this.setState({ error: null })}>
              Try again
            </button>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}

export function App() {
  const connect = useLab((s) => s.connect);
  useEffect(() => {
    void connect();
  }, [connect]);

  return (
    <main className="app">
      <header>
        <h1>v3lab</h1>
        <p className="tagline">
          Train small DeepSeek-V3-shaped language models in your browser, on your own GPU, with WebGPU.
        </p>
      </header>
      <ErrorBoundary>
        <GpuStatus />
        <ErrorBanner />
        <section className="card">
          <RunControls />
          <Progress />
        </section>
        <section className="card">
          <h2>Loss</h2>
          <Chart />
        </section>
      </ErrorBoundary>
    </main>
  );
}
