// Attention patterns: for a chosen layer and head, the attention probabilities of the current
// run's model on a short text, as a T × T heatmap (query rows, key columns; causal, so keys after
// the query are empty). "Show" asks the lab when it is free: at once when paused or finished,
// or between two training chunks while training (the run carries on).

import { useMemo, useState } from 'react';
import { attentionImage } from '../charts/heatmap';
import { HeatmapCanvas } from '../charts/HeatmapCanvas';
import { attentionLimit, defaultAttentionText } from '../inspect';
import { CAN_INSPECT, useLab } from '../store';
import { Panel } from './Panel';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function AttentionPanel() {
  const cfg = useLab((s) => s.info?.config ?? s.run?.config ?? null);
  const defaultText = useLab((s) =>
    defaultAttentionText(s.info?.config ?? s.run?.config ?? null, s.run?.samples ?? []),
  );
  const view = useLab((s) => s.attention);
  const error = useLab((s) => s.attentionError);
  const busy = useLab((s) => s.inspecting !== null);
  const mine = useLab((s) => s.inspecting === 'attention');
  const canInspect = useLab((s) => s.info !== null && CAN_INSPECT.has(s.phase));
  const inspect = useLab((s) => s.inspectAttention);

  const [layerPick, setLayer] = useState(0);
  const [headPick, setHead] = useState(0);
  const [typed, setTyped] = useState<string | null>(null);

  const layers = cfg?.model.num_hidden_layers ?? 1;
  const heads = cfg?.model.num_attention_heads ?? 1;
  const layer = Math.min(layerPick, layers - 1);
  const head = Math.min(headPick, heads - 1);
  const text = typed ?? defaultText;
  const limit = cfg ? attentionLimit(cfg) : 0;
  const length = Array.from(text).length;
  const problem = !cfg
    ? null
    : length === 0
      ? 'type a text'
      : length > limit
        ? `${length} characters; at most ${limit}`
        : null;

  const image = useMemo(() => (view ? attentionImage(view.tokens, view.probs) : null), [view]);

  return (
    <Panel title="Attention" testId="panel-attention">
      <div className="inspect-tools">
        <label>
          layer
          <select data-testid="attention-layer" value={layer} onChange={(e) => setLayer(Number(e.target.value))}>
            {range(layers).map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          head
          <select data-testid="attention-head" value={head} onChange={(e) => setHead(Number(e.target.value))}>
            {range(heads).map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
        <label
          className="grow"
          title={`up to ${limit} characters (data.seq_len, at most 256 here) from the corpus' vocabulary; Ctrl+Enter shows`}
        >
          text
          {/* A textarea: corpus lines end in newlines, which a text input would drop. */}
          <textarea
            rows={2}
            data-testid="attention-text"
            spellCheck={false}
            value={text}
            aria-invalid={problem ? true : undefined}
            onChange={(e) => setTyped(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !problem && canInspect && !busy)
                void inspect(text, layer, head);
            }}
          />
        </label>
        <button
          type="button"
          data-testid="attention-show"
          disabled={!canInspect || busy || problem !== null}
          onClick={() => void inspect(text, layer, head)}
        >
          {mine ? 'Reading…' : 'Show'}
        </button>
        {typed !== null && (
          <button
            type="button"
            className="link"
            onClick={() => setTyped(null)}
            title="the start of the latest sample, or an example line"
          >
            default text
          </button>
        )}
      </div>
      {!cfg && <p className="muted small">Start a run to look at its attention patterns.</p>}
      {problem && cfg && <p className="field-error">text: {problem}</p>}
      {error && (
        <p className="field-error" role="alert" data-testid="attention-error">
          {error}
        </p>
      )}
      {view && (
        <p className="muted small" data-testid="attention-caption">
          Layer {view.layer}, head {view.head}, at step {view.step}: row = query, column = key it attends to; shade = √p
          (rows sum to 1); keys after the query are masked.
        </p>
      )}
      <HeatmapCanvas
        build={() => image}
        stamp={image}
        height="square"
        maxSize={560}
        label="attention heatmap: query rows, key columns"
        testId="attention-heatmap"
        empty={cfg ? 'Press Show to read this head’s attention on the text.' : ''}
      />
    </Panel>
  );
}
