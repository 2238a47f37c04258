// A character tokenizer: the vocabulary is the sorted set of characters in the corpus, so a
// corpus fixes its token ids. Decoding an unknown id gives U+FFFD.

export class CharTokenizer {
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: Iterable<string>) {
    this.chars = [...new Set(chars)].sort();
    if (this.chars.length === 0) throw new Error('tokenizer: empty vocabulary');
    this.index = new Map(this.chars.map((c, i) => [c, i]));
  }

  static fromText(text: string): CharTokenizer {
    return new CharTokenizer(Array.from(text));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  /** The distinct characters of `text` that are not in the vocabulary (in order of appearance). */
  unknown(text: string): string[] {
    return [...new Set(Array.from(text).filter((c) => !this.index.has(c)))];
  }

  encode(text: string): Int32Array {
    const cps = Array.from(text);
    const out = new Int32Array(cps.length);
    cps.forEach((c, i) => {
      const id = this.index.get(c);
      if (id === undefined) throw new Error(`tokenizer: character ${JSON.stringify(c)} is not in the vocabulary`);
      out[i] = id;
    });
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]] ?? '\uFFFD';
    return s;
  }
}
