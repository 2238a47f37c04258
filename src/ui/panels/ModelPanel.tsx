// Model shape fields, with the derived figures (parameters, KV cache, FLOPs) updated as you type.

import { useMemo } from 'react';
import { FIELDS } from '../../lab/config';
import { deriveFigures, distinctChars, estimateVocab } from '../derived';
import { fmtBytes, fmtCount, fmtFlops } from '../format';
import { useLab } from '../store';
import { FieldGrid } from './FieldInput';
import { Panel, sectionFields } from './Panel';

const MODEL_FIELDS = [...sectionFields(FIELDS, 'arch'), ...sectionFields(FIELDS, 'model'), ...otherFields()];

/** Sections no panel claims yet (later capabilities) show up here rather than nowhere. */
function otherFields() {
  const claimed = ['model', 'arch', 'optim', 'train', 'data'];
  return FIELDS.filter((f) => !claimed.includes(f.path.slice(0, f.path.indexOf('.'))));
}

export function ModelPanel() {
  return (
    <Panel title="Model" testId="panel-model">
      <FieldGrid fields={MODEL_FIELDS} />
      <DerivedFigures />
    </Panel>
  );
}

function DerivedFigures() {
  const config = useLab((s) => s.evaluated.config);
  const text = useLab((s) => s.draft['data.text'] ?? '');
  const info = useLab((s) => s.info);
  // Counting distinct characters of a long text is done once per text, not per render.
  const textVocab = useMemo(() => distinctChars(text), [text]);
  const figures = useMemo(() => {
    if (!config) return null;
    const known = info?.config ? { data: info.config.data, vocabSize: info.vocabSize } : null;
    const vocab = estimateVocab(config.data, known, () => textVocab);
    return deriveFigures(config, vocab);
  }, [config, info, textVocab]);

  if (!figures) return <p className="muted small derived">Fix the marked fields to see the derived figures.</p>;
  const approx = figures.vocab.estimated ? '≈ ' : '';
  return (
    <dl className="derived" data-testid="model-derived">
      <div>
        <dt title="all weights, embeddings and lm_head included">total params</dt>
        <dd data-testid="derived-params">
          {approx}
          {fmtCount(figures.params)}
        </dd>
      </div>
      <div>
        <dt title="parameters used for each token (all of them for a dense model)">active / token</dt>
        <dd data-testid="derived-active">
          {approx}
          {fmtCount(figures.activeParams)}
        </dd>
      </div>
      <div>
        <dt title="K and V of every layer at f32, per cached token">KV cache / token</dt>
        <dd data-testid="derived-kv">{fmtBytes(figures.kvBytesPerToken)}</dd>
      </div>
      <div>
        <dt title="forward pass at context seq_len (2 FLOPs per multiply-add)">FLOPs / token</dt>
        <dd data-testid="derived-flops">
          {approx}
          {fmtFlops(figures.flopsPerToken)}
        </dd>
      </div>
      <div>
        <dt title="character vocabulary of the corpus">vocab</dt>
        <dd>
          {approx}
          {figures.vocab.size}
        </dd>
      </div>
    </dl>
  );
}
