// The char tokenizer of the RL tasks: the template's four tags are single tokens. Text goes in and
// comes out with the tags spelled out (`<think>` …); in token space each tag is one private-use
// character (template.ts), so corpora, batches and samplers need nothing special.

import { CharTokenizer } from '../train/data/tokenizer';
import { fromTokenText, toTokenText } from './template';

export class TaggedTokenizer extends CharTokenizer {
  override unknown(text: string): string[] {
    return super.unknown(toTokenText(text));
  }

  override encode(text: string): Int32Array {
    return super.encode(toTokenText(text));
  }

  override decode(ids: ArrayLike<number>): string {
    return fromTokenText(super.decode(ids));
  }
}
