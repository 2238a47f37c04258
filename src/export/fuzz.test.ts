// Import under corruption (seeded): random truncations and byte flips of a valid export, and
// oversize or hostile headers. With v3lab.json every corrupted file must be rejected with an
// ImportError (one line); without it (a plain HF directory, no checksums) the structure checks
// must reject every truncation, and a flip may only be accepted when it left the structure valid
// (e.g. a weight's bits). Nothing may throw anything else, and each import must be quick.

import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { modelConfigOf, parameterShapes, type ModelConfig } from '../model/config';
import { CharTokenizer } from '../train/data/tokenizer';
import { ImportError } from './errors';
import { exportModel } from './export';
import { importModel } from './import';
import { DEFAULT_MAX_HEADER_BYTES } from './safetensors';

const TOKENIZER = CharTokenizer.fromText('abcdefg .\n');
const c: ModelConfig = {
  ...modelConfigOf(findPreset('micro-v3')!.config, TOKENIZER.vocabSize),
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  q_lora_rank: 4,
  kv_lora_rank: 4,
  qk_nope_head_dim: 2,
  qk_rope_head_dim: 2,
  v_head_dim: 2,
  intermediate_size: 8,
  n_routed_experts: 4,
  num_experts_per_tok: 2,
  n_group: 2,
  topk_group: 1,
  moe_intermediate_size: 4,
  first_k_dense_replace: 1,
  num_nextn_predict_layers: 1,
};

function params(seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map(
    parameterShapes(c).map(([n, s]) => [
      n,
      Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.1),
    ]),
  );
}

type Outcome = { ok: true } | { ok: false; message: string };

// A hang would be caught by the test timeout: nothing here is timed, so a busy machine cannot fail it.
function tryImport(files: Map<string, Uint8Array>): Outcome {
  try {
    importModel(files);
    return { ok: true };
  } catch (e) {
    // Anything but an ImportError (or an "internal error" one) is a crash of the validator.
    if (!(e instanceof ImportError)) throw new Error(`import threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    expect(e.message).not.toMatch(/internal error/);
    expect(e.message.length).toBeGreaterThan(10);
    expect(e.message).not.toMatch(/\n/);
    return { ok: false, message: e.message };
  }
}

function withFile(
  base: Map<string, Uint8Array>,
  name: string,
  bytes: Uint8Array,
  manifest: boolean,
): Map<string, Uint8Array> {
  const out = new Map(base);
  out.set(name, bytes);
  if (!manifest) out.delete('v3lab.json');
  return out;
}

describe('import fuzz (seeded)', () => {
  for (const dtype of ['f32', 'fp8'] as const) {
    const files = exportModel(params(1), c, TOKENIZER, { dtype });
    const st = files.get('model.safetensors')!;
    const headerEnd = 8 + Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));

    it(`${dtype}: the valid export imports, with and without v3lab.json`, () => {
      expect(tryImport(files).ok).toBe(true);
      expect(tryImport(withFile(files, 'model.safetensors', st, false)).ok).toBe(true);
    });

    it(`${dtype}: 200 random truncations of model.safetensors are all rejected`, () => {
      const rng = new Rng(dtype === 'f32' ? 101 : 102);
      const lengths = [0, 1, 7, 8, 9, headerEnd - 1, headerEnd, headerEnd + 1, st.length - 1];
      while (lengths.length < 200) lengths.push(rng.int(0, st.length - 1));
      for (const n of lengths) {
        for (const manifest of [true, false]) {
          const r = tryImport(withFile(files, 'model.safetensors', st.slice(0, n), manifest));
          expect(r.ok, `truncated to ${n} bytes (manifest ${manifest})`).toBe(false);
        }
      }
    });

    it(`${dtype}: 300 random byte flips in model.safetensors, config.json and tokenizer.json are all rejected with v3lab.json`, () => {
      const rng = new Rng(dtype === 'f32' ? 201 : 202);
      let acceptedWithoutManifest = 0;
      const reasons = new Map<string, number>();
      for (let k = 0; k < 300; k++) {
        const name = k % 5 === 3 ? 'config.json' : k % 5 === 4 ? 'tokenizer.json' : 'model.safetensors';
        const src = files.get(name)!;
        const bytes = src.slice();
        const flips = rng.int(1, 3);
        for (let f = 0; f < flips; f++) {
          // Half the flips land in the safetensors header, where the structure lives.
          const pos =
            name === 'model.safetensors' && rng.next() < 0.5 ? rng.int(0, headerEnd - 1) : rng.int(0, bytes.length - 1);
          bytes[pos] ^= rng.int(1, 255);
        }
        const r = tryImport(withFile(files, name, bytes, true));
        expect(r.ok, `flip ${k} in ${name}`).toBe(false);
        if (!r.ok) {
          const key = r.message
            .replace(/"[^"]*"/g, '"…"')
            .replace(/\d+/g, 'N')
            .slice(0, 50);
          reasons.set(key, (reasons.get(key) ?? 0) + 1);
        }
        // Without the manifest a flip may go unnoticed only if the files still make a valid model.
        if (tryImport(withFile(files, name, bytes, false)).ok) acceptedWithoutManifest++;
      }
      // The structural checks (not only the checksum) catch most header corruption.
      expect(reasons.size).toBeGreaterThan(5);
      expect(acceptedWithoutManifest).toBeLessThan(300);
    });
  }

  it('oversize and hostile headers are refused before anything is allocated', () => {
    const files = exportModel(params(2), c, TOKENIZER);
    const st = files.get('model.safetensors')!;
    const withLen = (n: bigint) => {
      const b = st.slice();
      new DataView(b.buffer).setBigUint64(0, n, true);
      return b;
    };
    for (const n of [BigInt(DEFAULT_MAX_HEADER_BYTES) + 1n, 2n ** 32n, 2n ** 53n, 2n ** 64n - 1n]) {
      for (const manifest of [true, false]) {
        const r = tryImport(withFile(files, 'model.safetensors', withLen(n), manifest));
        expect(r.ok).toBe(false);
        expect((r as { message: string }).message).toMatch(/header length \d+ is larger than the limit/);
      }
    }
    const pastEnd = tryImport(withFile(files, 'model.safetensors', withLen(BigInt(st.length)), false));
    expect((pastEnd as { message: string }).message).toMatch(/header length \d+ is larger than the file/);

    // A header that claims enormous tensors over a tiny buffer.
    const header = (h: unknown) => {
      const json = new TextEncoder().encode(typeof h === 'string' ? h : JSON.stringify(h));
      const b = new Uint8Array(8 + json.length + 16);
      new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
      b.set(json, 8);
      return b;
    };
    const hostile: Array<[unknown, RegExp]> = [
      [
        { 'model.norm.weight': { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 16] } },
        /span 16 bytes but shape \[1000000000, 1000000000\] of F32 needs/,
      ],
      [
        { 'model.norm.weight': { dtype: 'F32', shape: [4], data_offsets: [0, 2 ** 52] } },
        /run past the end of the data/,
      ],
      [{ 'model.norm.weight': { dtype: 'F32', shape: [4], data_offsets: [8, 4] } }, /end before they begin/],
      [
        { 'model.norm.weight': { dtype: 'F64', shape: [2], data_offsets: [0, 16] } },
        /dtype F64; v3lab reads F32, BF16, F16 and F8_E4M3/,
      ],
      [
        { 'model.norm.weight': { dtype: 'F32', shape: Array(100).fill(1), data_offsets: [0, 4] } },
        /is not a list of non-negative integers \(at most 8 dimensions\)/,
      ],
      ['{"__proto__":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', /tensor name "__proto__" is not allowed/],
      ['{"a":1}garbage', /header is not valid JSON/],
      [[1, 2, 3], /header does not start with "\{"/],
    ];
    for (const [h, pattern] of hostile) {
      const r = tryImport(withFile(files, 'model.safetensors', header(h), false));
      expect(r.ok).toBe(false);
      expect((r as { message: string }).message).toMatch(pattern);
    }
    // config.json larger than any config can be, and a config asking for a huge model over a
    // small file: refused from the sizes alone.
    const big = tryImport(withFile(files, 'config.json', new Uint8Array((1 << 20) + 1).fill(0x20), false));
    expect((big as { message: string }).message).toMatch(/config.json is \d+ bytes, more than/);
    const huge = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    Object.assign(huge, {
      hidden_size: 4096,
      num_hidden_layers: 64,
      intermediate_size: 16384,
      n_routed_experts: 512,
      moe_intermediate_size: 16384,
      n_group: 1,
      topk_group: 1,
    });
    const r = tryImport(withFile(files, 'config.json', new TextEncoder().encode(JSON.stringify(huge)), false));
    expect((r as { message: string }).message).toMatch(/model.safetensors does not match config.json/);
  });
});
