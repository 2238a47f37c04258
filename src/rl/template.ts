// The R1-style template at toy scale, and the special tokens.
//
//   prompt:      "Q:{problem}\nA:<think>"          (the think tag is prefilled, as Dr. GRPO does)
//   completion:  "{reasoning}</think><answer>{answer}</answer>"   (generation stops at </answer>)
//
// R1's full preamble ("A conversation between User and Assistant…") is left out: at a few
// hundred thousand parameters and a 96-character context it would be most of every sequence.
// The four tags are single special tokens: in token space each is one private-use character
// (U+E000..U+E003): the corpus is written in token space, and TaggedTokenizer (tokenizer.ts)
// converts on encode and decode, so text shown to people and verifiers has the tags spelled out.

export const TAGS = ['<think>', '</think>', '<answer>', '</answer>'] as const;
const TOKEN_CHARS = ['\uE000', '\uE001', '\uE002', '\uE003'] as const;

/** Text with tags → token text (each tag one character). Stray private-use characters are kept. */
export function toTokenText(text: string): string {
  let out = text;
  TAGS.forEach((t, i) => {
    out = out.split(t).join(TOKEN_CHARS[i]);
  });
  return out;
}

/** Token text → text with the tags spelled out. */
export function fromTokenText(text: string): string {
  let out = text;
  TOKEN_CHARS.forEach((c, i) => {
    out = out.split(c).join(TAGS[i]);
  });
  return out;
}

/** The prompt of a problem (tags spelled out). */
export function promptOf(problem: string): string {
  return `Q:${problem}\nA:<think>`;
}

/** The characters the template itself adds to a task's alphabet, in token form. */
export const TEMPLATE_CHARS = `Q:A\n${TOKEN_CHARS.join('')}`;

/** Where a completion ends: the </answer> token. */
export const STOP_TAG = '</answer>';
