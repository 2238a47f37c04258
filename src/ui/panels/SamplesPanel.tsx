// Generated text: a sample every eval_every steps (between training chunks) and on demand, at the
// chosen temperature / top-k / top-p, continuing an optional prompt. The latest few are shown,
// newest first, each with its prompt and how it was made (plain or speculative, T, top-k, top-p,
// seed). Sample now draws a fresh seed each click unless the seed field holds one to repeat.
// Samples come from the generation engine (KV cache, sampling on the device); with an MTP module
// they can be decoded speculatively, and the decoding readout compares plain and speculative
// speed and the drafts' acceptance rate (V3 reports 85–90% and 1.8× at scale).

import type { DecodeStats } from '../../lab/api';
import { parseSeed } from '../draft';
import type { RunSample, SampleInfo } from '../state/types';
import { CAN_COMPARE, CAN_SAMPLE, SAMPLE_LENGTH, SAMPLES_SHOWN, useLab } from '../store';
import { Panel } from './Panel';
import { speculativeNote } from '../teaching';

function ReadoutRow({ label, s }: { label: string; s: DecodeStats | null }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td className="num">{s ? s.tokensPerSecond.toFixed(1) : '–'}</td>
      <td className="num">{s ? (s.tokens / Math.max(1, s.forwards)).toFixed(2) : '–'}</td>
      <td className="num">{s?.acceptanceRate != null ? `${(100 * s.acceptanceRate).toFixed(1)}%` : '–'}</td>
    </tr>
  );
}

function DecodingReadout() {
  const decoding = useLab((s) => s.decoding);
  const { plain, speculative } = decoding;
  const model = useLab((s) => s.run?.config.model);
  const speedup =
    plain && speculative && plain.tokensPerSecond > 0 ? speculative.tokensPerSecond / plain.tokensPerSecond : null;
  return (
    <table className="decode-readout small" data-testid="decode-readout">
      <thead>
        <tr>
          <th>decoding</th>
          <th title="characters per second over the whole sample, prefill included">chars/s</th>
          <th title="characters emitted per main-model forward">chars/forward</th>
          <th title="share of MTP drafts the main model accepted">acceptance</th>
        </tr>
      </thead>
      <tbody>
        <ReadoutRow label="plain" s={plain} />
        <ReadoutRow label="speculative" s={speculative} />
      </tbody>
      {speedup !== null && (
        <tfoot>
          <tr>
            <td colSpan={4} data-testid="decode-speedup">
              speculative / plain: {speedup.toFixed(2)}× chars/s (V3 at scale: ≈1.8×, 85–90% acceptance)
              <p className="muted small" data-testid="decode-note">
                {speculativeNote(speedup, model?.num_hidden_layers ?? 1, model?.num_nextn_predict_layers ?? 1)}
              </p>
            </td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}

/** "plain · T=0.80 · top-k off · top-p 1.00 · seed 123" — how a sample was made. */
export function sampleMode(i: SampleInfo): string {
  const parts = [
    i.mode,
    `T=${i.temperature.toFixed(2)}`,
    i.topK > 0 ? `top-k ${i.topK}` : 'top-k off',
    i.topP < 1 ? `top-p ${i.topP.toFixed(2)}` : 'top-p off',
    `seed ${i.seed}`,
  ];
  return parts.join(' · ');
}

/** One sample: its step and how it was made, the prompt, and the text that continues it. */
function SampleItem({ sample, info }: { sample: RunSample; info: SampleInfo | undefined }) {
  return (
    <li data-testid="sample-item" data-seed={info?.seed ?? ''} data-mode={info?.mode ?? ''}>
      <span className="sample-meta">
        step {sample.step} ·{' '}
        {info ? sampleMode(info) : `T=${sample.temperature.toFixed(2)} (prompt, mode and seed not recorded)`}
      </span>
      <pre className="sample-text">
        {info && (
          <span className="sample-prompt" data-testid="sample-item-prompt" title="the prompt">
            {info.prompt === '' ? '⏎' : info.prompt}
          </span>
        )}
        <span data-testid="sample-text">{sample.text}</span>
      </pre>
    </li>
  );
}

export function SamplesPanel() {
  const run = useLab((s) => s.run);
  useLab((s) => s.version); // samples are appended in place
  const sampleInfo = useLab((s) => s.sampleInfo);
  const hasMtp = useLab((s) => (s.info?.config.model.num_nextn_predict_layers ?? 0) > 0);
  const samples = run ? run.samples.slice(-SAMPLES_SHOWN).reverse() : [];

  return (
    <Panel title="Samples" testId="panel-samples">
      <SampleTools hasMtp={hasMtp} />
      {hasMtp && <DecodingReadout />}
      {samples.length === 0 ? (
        <p className="muted small">
          Every eval_every steps the model continues the prompt for {SAMPLE_LENGTH} characters; samples appear here.
        </p>
      ) : (
        <ol className="samples" data-testid="samples-list">
          {samples.map((s, i) => (
            <SampleItem key={`${s.step}-${i}-${run!.samples.length}`} sample={s} info={sampleInfo.get(s)} />
          ))}
        </ol>
      )}
    </Panel>
  );
}

/** Temperature, top-k, top-p, speculative decoding, the prompt, and the sample buttons. */
function SampleTools({ hasMtp }: { hasMtp: boolean }) {
  const temperature = useLab((s) => s.temperature);
  const prompt = useLab((s) => s.prompt);
  const sampling = useLab((s) => s.sampling);
  const canSample = useLab((s) => s.info !== null && CAN_SAMPLE.has(s.phase));
  const setTemperature = useLab((s) => s.setTemperature);
  const topK = useLab((s) => s.topK);
  const topP = useLab((s) => s.topP);
  const speculative = useLab((s) => s.speculative);
  const comparing = useLab((s) => s.comparing);
  const setSampling = useLab((s) => s.setSampling);
  const compareDecoding = useLab((s) => s.compareDecoding);
  const canCompare = useLab((s) => s.info !== null && CAN_COMPARE.has(s.phase));
  const setPrompt = useLab((s) => s.setPrompt);
  const sampleNow = useLab((s) => s.sampleNow);
  const sampleSeed = useLab((s) => s.sampleSeed);
  const setSampleSeed = useLab((s) => s.setSampleSeed);
  const seed = sampleSeed.trim() === '' ? null : parseSeed(sampleSeed);
  const seedError = seed && 'error' in seed ? `seed: ${seed.error}` : null;
  return (
    <div className="sample-tools">
      <label title="softmax temperature: 0 picks the most likely character, higher is more random">
        temperature
        <input
          type="range"
          data-testid="sample-temperature"
          min={0}
          max={2}
          step={0.05}
          value={temperature}
          onChange={(e) => setTemperature(Number(e.target.value))}
        />
        <span className="num">{temperature.toFixed(2)}</span>
      </label>
      <label title="keep only the k most likely characters; 0 = off">
        top-k
        <input
          type="number"
          data-testid="sample-topk"
          min={0}
          step={1}
          value={topK}
          onChange={(e) => setSampling({ topK: Math.max(0, Math.floor(Number(e.target.value) || 0)) })}
        />
      </label>
      <label title="nucleus: keep the most likely characters until they hold this much probability; 1 = off">
        top-p
        <input
          type="range"
          data-testid="sample-topp"
          min={0.05}
          max={1}
          step={0.05}
          value={topP}
          onChange={(e) => setSampling({ topP: Number(e.target.value) })}
        />
        <span className="num">{topP.toFixed(2)}</span>
      </label>
      {hasMtp && (
        <label title="draft the next character with the MTP module and verify it with the main model in the same forward">
          <input
            type="checkbox"
            data-testid="sample-speculative"
            checked={speculative}
            onChange={(e) => setSampling({ speculative: e.target.checked })}
          />
          speculative (MTP)
        </label>
      )}
      <label title="text to continue (characters must be in the corpus); empty starts a new line">
        prompt
        <input
          type="text"
          data-testid="sample-prompt"
          value={prompt}
          placeholder="(new line)"
          onChange={(e) => setPrompt(e.target.value)}
        />
      </label>
      <label title="the seed of the next sample asked for: empty draws a fresh one each time; a sample's seed repeats it">
        seed
        <input
          type="text"
          inputMode="numeric"
          data-testid="sample-seed"
          value={sampleSeed}
          placeholder="fresh"
          aria-invalid={!!seedError}
          onChange={(e) => setSampleSeed(e.target.value)}
        />
      </label>
      <button
        type="button"
        data-testid="sample-now"
        disabled={!canSample || sampling || !!seedError}
        title={seedError ?? undefined}
        onClick={() => void sampleNow()}
      >
        {sampling ? 'Sampling…' : 'Sample now'}
      </button>
      {hasMtp && (
        <button
          type="button"
          data-testid="compare-decoding"
          disabled={!canCompare || sampling || comparing}
          title="sample the prompt plainly, then speculatively, and compare speed"
          onClick={() => void compareDecoding()}
        >
          {comparing ? 'Comparing…' : 'Plain vs speculative'}
        </button>
      )}
    </div>
  );
}
