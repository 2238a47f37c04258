// Data: a built-in synthetic corpus, or your own text (pasted or uploaded, up to MAX_TEXT_CHARS).
// Too-short texts are reported by the lab when the run is created (it knows seq_len and the split).

import { useRef } from 'react';
import { findField, MAX_TEXT_CHARS, panelFields } from '../../config';
import { useLab } from '../store';
import { FieldGrid, FieldInput } from './FieldInput';
import { Panel } from './Panel';

const CORPUS = findField('data.corpus')!;
const OTHER = panelFields('data').filter((f) => f !== CORPUS && f.path !== 'data.text');

export function DataPanel() {
  const corpus = useLab((s) => s.draft['data.corpus']);
  return (
    <Panel title="Data" testId="panel-data" accordion>
      <div className="field-grid">
        <FieldInput field={CORPUS} />
      </div>
      {corpus === 'text' && <TextCorpus />}
      <FieldGrid fields={OTHER} name="data" />
    </Panel>
  );
}

function TextCorpus() {
  const text = useLab((s) => s.draft['data.text'] ?? '');
  const error = useLab((s) => s.evaluated.errors['data.text']);
  const setField = useLab((s) => s.setField);
  const loadTextFile = useLab((s) => s.loadTextFile);
  const fileRef = useRef<HTMLInputElement>(null);
  return (
    <div className={`field text-corpus${error ? ' field-invalid' : ''}`}>
      <label htmlFor="field-data.text" title="the text for corpus 'text': each distinct character becomes a token">
        your text <span className="muted small">(up to {MAX_TEXT_CHARS.toLocaleString('en-US')} characters)</span>
      </label>
      <textarea
        id="field-data.text"
        data-testid="config-data.text"
        rows={5}
        spellCheck={false}
        placeholder="Paste a text here, or upload a .txt file."
        value={text}
        aria-invalid={error ? true : undefined}
        onChange={(e) => setField('data.text', e.target.value)}
      />
      <div className="row">
        <input
          ref={fileRef}
          type="file"
          accept=".txt,text/plain"
          data-testid="data-upload"
          aria-label="upload a .txt file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void loadTextFile(f);
            e.target.value = '';
          }}
        />
        <span className="muted small">{text.length.toLocaleString('en-US')} characters</span>
      </div>
      {error && (
        <span className="field-error" data-testid="config-error-data.text" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
