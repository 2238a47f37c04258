// Derived model figures shown live in the model panel, from the config being edited. The vocab
// size comes from the corpus: exact after a run was built (RunInfo.vocabSize) for the same data,
// otherwise an estimate — the built-in corpora have fixed alphabets, a text has its distinct characters.
// The training memory estimate uses the run's vocabulary or a nominal one (NOMINAL_VOCAB).

import type { RunConfig } from '../config';
import type { Backend } from '../engine/backend';
import type { RunInfo } from '../lab/api';
import type { MemoryEstimate } from '../model/memory';
import {
  activeParams,
  countParams,
  forwardFlopsPerToken,
  kvCacheBytesPerToken,
  kvCacheValuesPerLayer,
  mhaEquivalentValuesPerLayer,
  modelConfigOf,
  type ModelConfig,
} from '../model/config';
import { checkMemory, runMemory } from '../run/memory';

/** Distinct characters of the built-in corpora (measured from generateCorpus). */
export const BUILTIN_VOCAB: Record<'grammar' | 'arith' | 'task', number> = { grammar: 27, arith: 14, task: 24 };

/** Distinct characters (code points) of a text; a flat bitmap keeps 4M characters to a few ms. */
export function distinctChars(text: string): number {
  const bmp = new Uint8Array(65536);
  const astral = new Set<number>();
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        astral.add(((c - 0xd800) << 10) + (d - 0xdc00));
        i++;
        continue;
      }
    }
    if (!bmp[c]) {
      bmp[c] = 1;
      n++;
    }
  }
  return n + astral.size;
}

export interface VocabGuess {
  size: number;
  estimated: boolean;
}

export function estimateVocab(
  data: RunConfig['data'],
  known: { data: RunConfig['data']; vocabSize: number } | null,
  textVocab: () => number,
): VocabGuess {
  if (known && known.data.corpus === data.corpus && (data.corpus !== 'text' || known.data.text === data.text)) {
    return { size: known.vocabSize, estimated: false };
  }
  if (data.corpus === 'text') return { size: Math.max(1, textVocab()), estimated: true };
  return { size: BUILTIN_VOCAB[data.corpus], estimated: true };
}

/**
 * KV cache per token over all layers, beside what standard multi-head attention with the same
 * heads would cache. MLA caches the latent c (kv_lora_rank) plus one shared RoPE key
 * (qk_rope_head_dim) per layer instead of n_h·(d_nope + d_rope + d_v); GQA caches K and V of
 * num_key_value_heads heads instead of all of them.
 */
export interface KvFigures {
  kind: 'mla' | 'gqa' | 'mha';
  layers: number;
  values: number;
  mhaValues: number;
  bytes: { f32: number; bf16: number };
  mhaBytes: { f32: number; bf16: number };
  /** MHA equivalent ÷ this config: how many times smaller the cache is. */
  ratio: number;
}

export function kvFigures(c: ModelConfig): KvFigures {
  const layers = c.num_hidden_layers;
  const values = layers * kvCacheValuesPerLayer(c);
  const mhaValues = layers * mhaEquivalentValuesPerLayer(c);
  return {
    kind: c.attention === 'mla' ? 'mla' : c.num_key_value_heads < c.num_attention_heads ? 'gqa' : 'mha',
    layers,
    values,
    mhaValues,
    bytes: { f32: kvCacheBytesPerToken(c, 4), bf16: kvCacheBytesPerToken(c, 2) },
    mhaBytes: { f32: mhaValues * 4, bf16: mhaValues * 2 },
    ratio: mhaValues / values,
  };
}

export interface DerivedFigures {
  params: number;
  activeParams: number;
  kvBytesPerToken: number;
  kv: KvFigures;
  flopsPerToken: number;
  vocab: VocabGuess;
}

/** Figures at context length seq_len for the config's model (and architecture) section. */
export function deriveFigures(cfg: RunConfig, vocab: VocabGuess): DerivedFigures {
  const c = modelConfigOf(cfg, vocab.size);
  const seqLen = cfg.data.seq_len;
  const params = countParams(c);
  return {
    params,
    // Dense: every parameter is used for every token; MoE: only the chosen experts'.
    activeParams: activeParams(c),
    kvBytesPerToken: kvCacheBytesPerToken(c),
    kv: kvFigures(c),
    flopsPerToken: forwardFlopsPerToken(c, seqLen),
    vocab,
  };
}

/** The vocabulary a memory estimate uses before a run exists: printable ASCII and newline. */
export const NOMINAL_VOCAB = 96;

export interface MemoryFigure {
  estimate: MemoryEstimate;
  vocab: number;
  /** The vocabulary is the run's (built from the same data), not the nominal one. */
  exact: boolean;
  /** The lab's refusal of this config (a ConfigError message naming the field), or null. */
  refusal: string | null;
}

/**
 * The pre-flight memory estimate of training `cfg` (run/memory.ts runMemory), and whether the
 * lab's memory check (checkMemory) would refuse it on a backend of this kind. The adapter's
 * per-buffer limits are only known in the worker, so the page checks the budget alone.
 */
export function memoryFigure(cfg: RunConfig, info: RunInfo | null, backend: 'webgpu' | 'cpu'): MemoryFigure {
  const same =
    info?.config &&
    info.config.data.corpus === cfg.data.corpus &&
    (cfg.data.corpus !== 'text' || info.config.data.text === cfg.data.text);
  const vocab = same ? info.vocabSize : NOMINAL_VOCAB;
  let refusal: string | null = null;
  try {
    // checkMemory reads only the backend's name here (a stand-in without adapter limits).
    checkMemory({ name: backend } as Backend, cfg, vocab);
  } catch (err) {
    refusal = err instanceof Error ? err.message : String(err);
  }
  return { estimate: runMemory(cfg, vocab), vocab, exact: !!same, refusal };
}
