// Export the current run as a Hugging Face DeepSeek-V3 model: the run's weights (a weights-only
// checkpoint from the lab), its tokenizer (rebuilt from the run's corpus and seed) and config,
// written by src/export and downloaded as one zip (config.json, model.safetensors,
// tokenizer.json, README.md, … in a folder named after the run). Optionally the TorchTitan
// handoff files. The lab must not be training while it hands over its weights.

import { zipSync } from 'fflate';
import { useState } from 'react';
import { compatNotes, EXPORT_DTYPES, exportModel, runTokenizer, type ExportDtype } from '../../export/index';
import type { Checkpoint } from '../../lab/api';
import { modelConfigOf } from '../../model/config';
import { describeError } from '../errors';
import { download } from '../download';
import { useLab } from '../store';
import { Panel } from './Panel';
import './export.css';

/** Phases in which the lab is idle with a run, so it can hand over a checkpoint. */
const CAN_EXPORT = new Set(['paused', 'done', 'stopped']);

const DTYPE_HELP: Record<ExportDtype, string> = {
  f32: 'float32: bit-exact weights',
  bf16: 'bfloat16: half the size (the routing bias stays float32)',
  fp8: "FP8 E4M3 block linears with 128×128 scales, like DeepSeek's checkpoints",
};

/** Build the export of a checkpoint as a zip: { name, bytes, notes }. */
export function exportZip(
  ckpt: Checkpoint,
  dtype: ExportDtype,
  torchtitan: boolean,
): { name: string; bytes: Uint8Array; notes: string[] } {
  const tokenizer = runTokenizer(ckpt.config, ckpt.seed);
  const params = new Map(Object.entries(ckpt.params).map(([k, v]) => [k, v.data]));
  const files = exportModel(params, ckpt.config, tokenizer, {
    dtype,
    trainer: torchtitan ? 'torchtitan' : null,
    run: { preset: ckpt.preset, seed: ckpt.seed, step: ckpt.step },
  });
  const folder = `${ckpt.preset}-seed${ckpt.seed}-step${ckpt.step}-hf-${dtype}`;
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  // Stored, not deflated: safetensors barely compress and storing is instant.
  for (const [name, bytes] of files) entries[`${folder}/${name}`] = [bytes, { level: 0 }];
  const notes = compatNotes(modelConfigOf(ckpt.config, tokenizer.vocabSize), dtype)
    .filter((n) => n.level === 'warn')
    .map((n) => n.text);
  return { name: `${folder}.zip`, bytes: zipSync(entries), notes };
}

export function ExportPanel({ takeCheckpoint }: { takeCheckpoint: () => Promise<Checkpoint> }) {
  const info = useLab((s) => s.info);
  const phase = useLab((s) => s.phase);
  const [dtype, setDtype] = useState<ExportDtype>('f32');
  const [torchtitan, setTorchtitan] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ name: string; size: number; notes: string[] } | null>(null);

  const mla = info?.config.arch.attention === 'mla';
  const idle = info !== null && CAN_EXPORT.has(phase);
  const reason = !info
    ? 'Start a run to export its model.'
    : !mla
      ? 'Export needs multi-head latent attention (arch.attention = mla): DeepSeek-V3 has no MHA layout.'
      : !idle
        ? 'Pause the run to export its weights.'
        : null;

  async function run() {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const ckpt = await takeCheckpoint();
      await new Promise((r) => setTimeout(r, 0)); // let "Exporting…" paint before the work
      const z = exportZip(ckpt, dtype, torchtitan);
      download(z.name, z.bytes as Uint8Array<ArrayBuffer>, 'application/zip');
      setDone({ name: z.name, size: z.bytes.length, notes: z.notes });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Panel title="Export (Hugging Face)" testId="panel-export">
      <p className="muted small">
        The current weights as a DeepSeek-V3 model for transformers, DeepSeek's inference code or TorchTitan:
        config.json, model.safetensors, tokenizer.json and a README on loading it.{' '}
        <code>npm run lab -- import DIR</code> checks an unzipped export.
      </p>
      <div className="export-tools">
        <label title="weight format of model.safetensors">
          weights
          <select
            data-testid="export-dtype"
            value={dtype}
            disabled={busy}
            onChange={(e) => setDtype(e.target.value as ExportDtype)}
          >
            {EXPORT_DTYPES.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <label title="also write torchtitan/train.toml and torchtitan/mapping.json to continue the run in TorchTitan">
          <input
            type="checkbox"
            data-testid="export-torchtitan"
            checked={torchtitan}
            disabled={busy}
            onChange={(e) => setTorchtitan(e.target.checked)}
          />
          TorchTitan config
        </label>
        <button
          type="button"
          className="primary"
          data-testid="export-hf"
          disabled={busy || reason !== null}
          onClick={() => void run()}
        >
          {busy ? 'Exporting…' : 'Download .zip'}
        </button>
      </div>
      <p className="muted small export-help">{DTYPE_HELP[dtype]}</p>
      {reason && (
        <p className="muted small" data-testid="export-reason">
          {reason}
        </p>
      )}
      {error && (
        <p className="export-error" role="alert" data-testid="export-error">
          {error}
        </p>
      )}
      {done && (
        <div className="export-done" data-testid="export-done">
          <p className="small">
            Saved {done.name} ({(done.size / 2 ** 20).toFixed(1)} MiB).
          </p>
          {done.notes.length > 0 && (
            <ul className="small export-notes">
              {done.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Panel>
  );
}
