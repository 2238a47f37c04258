// The lab's character tokenizer as Hugging Face `tokenizers` files, and back.
//
// tokenizer.json is a `tokenizers` BPE model with the characters as its vocabulary and no merges,
// no normalizer and no pre-tokenizer: BPE starts from single characters and, with nothing to
// merge, maps each character to its id — exactly CharTokenizer.encode. The Fuse decoder joins
// tokens without spaces, so decode is CharTokenizer.decode too. tokenizer_config.json names the
// class (PreTrainedTokenizerFast) so AutoTokenizer.from_pretrained(dir) loads it. There are no
// special tokens (no BOS/EOS/PAD): generation stops at max_new_tokens.
//
// Ids are the lab's: characters sorted by UTF-16 code units (CharTokenizer's order). Import
// checks that order, since the lab rebuilds the tokenizer from the character set.

import type { RunConfig } from '../config';
import { runCorpus } from '../run/corpus';
import { CharTokenizer } from '../train/data/tokenizer';
import { ImportError } from './errors';

export interface Vocabulary {
  readonly chars: readonly string[];
}

/** The tokenizer a run trains with: the corpus its config and seed generate (as the Trainer does). */
export function runTokenizer(cfg: RunConfig, seed: number): CharTokenizer {
  return runCorpus(cfg, seed).tokenizer;
}

export function tokenizerJson(v: Vocabulary): string {
  const vocab: Record<string, number> = {};
  v.chars.forEach((c, i) => {
    vocab[c] = i;
  });
  const doc = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export function tokenizerConfigJson(maxLength: number): string {
  const doc = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
    add_bos_token: false,
    add_eos_token: false,
    bos_token: null,
    eos_token: null,
    unk_token: null,
    pad_token: null,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The vocabulary of a tokenizer.json (checked: one character per id, ids 0..V−1, the lab's order). */
export function parseTokenizerJson(raw: unknown, vocabSize: number): string[] {
  const bad = (msg: string): never => {
    throw new ImportError(`tokenizer.json: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not a JSON object');
  const model = (raw as Record<string, unknown>).model;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) return bad('has no "model" object');
  const m = model as Record<string, unknown>;
  if (m.type !== undefined && m.type !== 'BPE' && m.type !== 'WordLevel')
    bad(`model.type is ${JSON.stringify(m.type)}; v3lab's tokenizer is a character vocabulary (BPE without merges)`);
  if (Array.isArray(m.merges) && m.merges.length > 0)
    bad(`model has ${m.merges.length} BPE merges; v3lab's tokenizer is one character per token`);
  const vocab = m.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab))
    return bad('model.vocab is not an object of token → id');
  const entries = Object.entries(vocab as Record<string, unknown>);
  if (entries.length !== vocabSize) bad(`has ${entries.length} tokens but config.json's vocab_size is ${vocabSize}`);
  const chars: string[] = new Array(vocabSize);
  for (const [tok, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize)
      bad(`token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}, not an integer in [0, ${vocabSize})`);
    if (Array.from(tok).length !== 1) bad(`token ${JSON.stringify(tok).slice(0, 40)} is not a single character`);
    if (chars[id as number] !== undefined)
      bad(`id ${id} is given to both ${JSON.stringify(chars[id as number])} and ${JSON.stringify(tok)}`);
    chars[id as number] = tok;
  }
  for (let i = 1; i < vocabSize; i++) {
    if (!(chars[i - 1] < chars[i]))
      bad(
        `ids are not in v3lab's order (characters sorted by code unit): ${JSON.stringify(chars[i - 1])} has id ${i - 1}, ${JSON.stringify(chars[i])} has id ${i}`,
      );
  }
  return chars;
}
