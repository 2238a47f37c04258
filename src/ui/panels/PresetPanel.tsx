// Preset, seed and the share link: the three things that name an experiment.

import { PRESETS } from '../../config';
import { isMicroPreset, useLab } from '../store';
import { Panel } from './Panel';

export function PresetPanel() {
  const presetName = useLab((s) => s.presetName);
  const presetError = useLab((s) => s.presetError);
  const seedText = useLab((s) => s.seedText);
  const seedError = useLab((s) => s.seedError);
  const backend = useLab((s) => s.backend);
  const busy = useLab((s) => s.phase === 'starting' || s.phase === 'stopping');
  const setPreset = useLab((s) => s.setPreset);
  const setSeed = useLab((s) => s.setSeed);
  const description = PRESETS.find((p) => p.name === presetName)?.description;

  return (
    <Panel title="Preset" testId="panel-presets" accordion>
      <div className="field-grid">
        <div className={`field${presetError ? ' field-invalid' : ''}`}>
          <label htmlFor="field-preset">preset</label>
          <select
            id="field-preset"
            data-testid="preset-select"
            value={presetName}
            disabled={busy}
            title="a named starting config; loading one replaces the config below"
            onChange={(e) => setPreset(e.target.value)}
          >
            {PRESETS.map((p) => (
              <option key={p.name} value={p.name} disabled={backend === 'cpu' && !isMicroPreset(p.name)}>
                {p.name}
              </option>
            ))}
          </select>
          {presetError && (
            <span className="field-error" data-testid="config-error-preset" role="alert">
              {presetError}
            </span>
          )}
        </div>
        <div className={`field${seedError ? ' field-invalid' : ''}`}>
          <label
            htmlFor="field-seed"
            title="seeds the weights, the corpus and the batches: same seed, same adapter, same curve"
          >
            seed
          </label>
          <input
            id="field-seed"
            data-testid="config-seed"
            type="text"
            inputMode="numeric"
            autoComplete="off"
            title="seeds the weights, the corpus and the batches: same seed, same adapter, same curve"
            value={seedText}
            disabled={busy}
            aria-invalid={seedError ? true : undefined}
            onChange={(e) => setSeed(e.target.value)}
          />
          {seedError && (
            <span className="field-error" data-testid="config-error-seed" role="alert">
              {seedError}
            </span>
          )}
        </div>
      </div>
      {description && <p className="muted small">{description}</p>}
      <ShareLink />
    </Panel>
  );
}

function ShareLink() {
  const copy = useLab((s) => s.copyShareLink);
  const url = useLab((s) => s.shareUrl);
  const copied = useLab((s) => s.shareCopied);
  return (
    <div className="share">
      <button
        type="button"
        data-testid="share-link"
        onClick={() => void copy()}
        title="a link that opens this exact config (preset, seed, changed values) and replays the run's live changes"
      >
        Copy link
      </button>
      {url && (
        <>
          <span className="muted small">{copied ? 'Copied.' : 'Copy it from here:'}</span>
          <input
            className="share-url"
            data-testid="share-link-url"
            readOnly
            value={url}
            onFocus={(e) => e.target.select()}
            aria-label="share link"
          />
        </>
      )}
      <LiveInLink />
    </div>
  );
}

/** What the link does with live changes: the current run's are carried and replayed, with its start config. */
function LiveInLink() {
  const run = useLab((s) => s.run);
  const script = useLab((s) => s.liveScript);
  useLab((s) => s.version); // changes are appended to the run in place
  const changes = run?.changes.length ? run.changes : script;
  if (!changes.length) return null;
  const list = changes.map((c) => `step ${c.step}: ${c.path} → ${String(c.value)}`).join('; ');
  return (
    <p className="muted small" data-testid="share-link-live">
      {run?.changes.length
        ? `The link holds the config ${run.name} started with and replays its ${changes.length} live change${changes.length > 1 ? 's' : ''} at the same steps (${list}), so Start reproduces the run.`
        : `This link replays ${changes.length} live change${changes.length > 1 ? 's' : ''} at their steps when the run is started (${list}).`}
    </p>
  );
}
