// Generated text: a sample every eval_every steps (between training chunks) and on demand, at the
// chosen temperature, continuing an optional prompt. The latest few are shown, newest first.

import { SAMPLE_LENGTH, SAMPLES_SHOWN, useLab } from '../store';
import { Panel } from './Panel';

export function SamplesPanel() {
  const run = useLab((s) => s.run);
  useLab((s) => s.version); // samples are appended in place
  const temperature = useLab((s) => s.temperature);
  const prompt = useLab((s) => s.prompt);
  const sampling = useLab((s) => s.sampling);
  const canSample = useLab((s) => s.info !== null && ['training', 'paused', 'done', 'stopped'].includes(s.phase));
  const setTemperature = useLab((s) => s.setTemperature);
  const setPrompt = useLab((s) => s.setPrompt);
  const sampleNow = useLab((s) => s.sampleNow);
  const samples = run ? run.samples.slice(-SAMPLES_SHOWN).reverse() : [];

  return (
    <Panel title="Samples" testId="panel-samples">
      <div className="sample-tools">
        <label title="softmax temperature: 0 picks the most likely character, higher is more random">
          temperature
          <input type="range" data-testid="sample-temperature" min={0} max={2} step={0.05} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} />
          <span className="num">{temperature.toFixed(2)}</span>
        </label>
        <label title="text to continue (characters must be in the corpus); empty starts a new line">
          prompt
          <input type="text" data-testid="sample-prompt" value={prompt} placeholder="(new line)" onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <button type="button" data-testid="sample-now" disabled={!canSample || sampling} onClick={() => void sampleNow()}>
          {sampling ? 'Sampling…' : 'Sample now'}
        </button>
      </div>
      {samples.length === 0 ? (
        <p className="muted small">
          Every eval_every steps the model continues the prompt for {SAMPLE_LENGTH} characters; samples appear here.
        </p>
      ) : (
        <ol className="samples" data-testid="samples-list">
          {samples.map((s, i) => (
            <li key={`${s.step}-${i}-${run!.samples.length}`}>
              <span className="sample-meta">
                step {s.step} · T={s.temperature.toFixed(2)}
              </span>
              <pre className="sample-text">{s.text}</pre>
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}
