// Model shape fields, with the derived figures (parameters, training memory, KV cache, FLOPs)
// updated as you type.
// The KV-cache readout puts the config's cache per token beside what standard multi-head
// attention with the same heads would cache — MLA's headline saving.

import { useMemo } from 'react';
import type { RunConfig } from '../../config';
import { formatBytes } from '../../model/memory';
import { deriveFigures, distinctChars, estimateVocab, type KvFigures, memoryFigure } from '../derived';
import { fmtBytes, fmtCount, fmtFlops } from '../format';
import { useLab } from '../store';
import { FieldGrid } from './FieldInput';
import { Panel, splitPanel } from './Panel';

/** The model panel's fields: the architecture choices first, then the shape. */
const MODEL_FIELDS = splitPanel('model', 'arch').flat();

export function ModelPanel() {
  return (
    <Panel title="Model" testId="panel-model" accordion>
      <FieldGrid fields={MODEL_FIELDS} name="model" />
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

  if (!figures || !config)
    return <p className="muted small derived">Fix the marked fields to see the derived figures.</p>;
  const approx = figures.vocab.estimated ? '≈ ' : '';
  const moe = config.arch.ffn === 'moe';
  return (
    <>
      <dl className="derived" data-testid="model-derived">
        <div>
          <dt title="all weights, embeddings and lm_head included">total params</dt>
          <dd data-testid="derived-params">
            {approx}
            {fmtCount(figures.params)}
          </dd>
        </div>
        <MemoryFigure config={config} />
        <div>
          <dt title="parameters used for each token: all of them for a dense model; for MoE the shared experts and K of the routed ones">
            active / token
          </dt>
          <dd data-testid="derived-active">
            {approx}
            {fmtCount(figures.activeParams)}
            {moe && (
              <span className="muted small">
                {' '}
                ({((100 * figures.activeParams) / figures.params).toFixed(0)}% of total)
              </span>
            )}
          </dd>
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
      <KvCache kv={figures.kv} model={config.model} />
    </>
  );
}

/**
 * The pre-flight memory estimate of training this config (derived.ts memoryFigure), beside the
 * parameter count. Over the lab's budget it says so in the words the lab will use to refuse it.
 */
function MemoryFigure({ config }: { config: RunConfig }) {
  const info = useLab((s) => s.info);
  const backend = useLab((s) => s.backend) ?? 'webgpu';
  const est = useMemo(() => memoryFigure(config, info, backend), [config, info, backend]);
  const parts = est.estimate.parts.map((p) => `${p.name} ${formatBytes(p.bytes)}`).join(', ');
  const vocabNote = est.exact ? `vocab ${est.vocab}` : `a nominal vocab of ${est.vocab}`;
  return (
    <div
      className={est.refusal ? 'derived-span' : undefined}
      title={`training memory estimate (${vocabNote}): ${parts}`}
    >
      <dt>memory (training)</dt>
      <dd data-testid="derived-memory" data-bytes={est.estimate.total}>
        {est.exact ? '' : '≈ '}
        {formatBytes(est.estimate.total)}
      </dd>
      {est.refusal && (
        <dd className="derived-over" role="alert" data-testid="derived-memory-over">
          {est.refusal}
        </dd>
      )}
    </div>
  );
}

/** How the cached values per layer are counted, for this config and for its MHA equivalent. */
function kvFormulas(kv: KvFigures, m: RunConfig['model']): [string, string] {
  const L = `× ${kv.layers} layer${kv.layers === 1 ? '' : 's'}`;
  if (kv.kind === 'mla') {
    return [
      `latent + RoPE key: (${m.kv_lora_rank} + ${m.qk_rope_head_dim}) ${L}`,
      `${m.num_attention_heads} heads × (${m.qk_nope_head_dim} + ${m.qk_rope_head_dim} + ${m.v_head_dim}) ${L}`,
    ];
  }
  const hd = m.hidden_size / m.num_attention_heads;
  return [
    `K and V: 2 × ${m.num_key_value_heads} kv heads × ${hd} ${L}`,
    `2 × ${m.num_attention_heads} heads × ${hd} ${L}`,
  ];
}

function KvCache({ kv, model }: { kv: KvFigures; model: RunConfig['model'] }) {
  const [mine, mha] = kvFormulas(kv, model);
  const name = kv.kind === 'mla' ? 'MLA' : kv.kind === 'gqa' ? 'GQA' : 'MHA';
  const ratio =
    kv.ratio >= 1.005
      ? `${kv.ratio.toFixed(kv.ratio < 10 ? 2 : 1)}× smaller than MHA`
      : kv.ratio > 0.995
        ? 'same as MHA'
        : `${(1 / kv.ratio).toFixed(2)}× larger than MHA`;
  return (
    <div className="kv" data-testid="derived-kv-cache">
      <table className="kv-table">
        <caption>KV cache per token, all layers</caption>
        <thead>
          <tr>
            <th />
            <th title="numbers cached per token">values</th>
            <th>f32</th>
            <th>bf16</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row" title={mine}>
              this config ({name})<span className="kv-formula">{mine}</span>
            </th>
            <td className="num" data-testid="derived-kv-values">
              {kv.values.toLocaleString('en-US')}
            </td>
            <td className="num" data-testid="derived-kv">
              {fmtBytes(kv.bytes.f32)}
            </td>
            <td className="num">{fmtBytes(kv.bytes.bf16)}</td>
          </tr>
          <tr>
            <th scope="row" title={mha}>
              MHA equivalent<span className="kv-formula">{mha}</span>
            </th>
            <td className="num" data-testid="derived-kv-mha-values">
              {kv.mhaValues.toLocaleString('en-US')}
            </td>
            <td className="num" data-testid="derived-kv-mha">
              {fmtBytes(kv.mhaBytes.f32)}
            </td>
            <td className="num">{fmtBytes(kv.mhaBytes.bf16)}</td>
          </tr>
        </tbody>
      </table>
      <p className="kv-ratio" data-testid="derived-kv-ratio">
        {ratio}
      </p>
    </div>
  );
}
