import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../config';
import { validateConfig, type RunConfig } from '../config';
import { findPreset } from '../config';
import { Rng } from '../engine/rng';
import { modelConfigOf, parameterShapes } from '../model/config';
import {
  CheckpointError,
  checkpointFromSafetensors,
  checkpointToSafetensors,
  decodeSafetensors,
  encodeSafetensors,
} from './checkpoint';

// ---- helpers ---------------------------------------------------------------------------------

/** Build a safetensors file by hand, straight from the format description. */
function handBuilt(
  headerJson: string,
  data: Uint8Array = new Uint8Array(0),
  opts: { claimLen?: bigint } = {},
): Uint8Array {
  const h = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.claimLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32le(values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => {
    dv.setFloat32(4 * i, v, true);
  });
  return b;
}

function errorOf(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError, but nothing was thrown');
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function tinyConfig(): RunConfig {
  const base = structuredClone(findPreset('micro-dense')!.config);
  base.model = {
    ...base.model,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    intermediate_size: 4,
  };
  return validateConfig(base);
}

function tinyCheckpoint(withOptimizer: boolean): Checkpoint {
  const config = tinyConfig();
  const rng = new Rng(5);
  const params: Checkpoint['params'] = {};
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [name, shape] of parameterShapes(modelConfigOf(config, 5))) {
    const n = shape.reduce((a, b) => a * b, 1);
    params[name] = { shape, data: Float32Array.from(rng.normalArray(n, 0.02)) };
    m[name] = Float32Array.from(rng.normalArray(n, 1e-3));
    v[name] = Float32Array.from(rng.normalArray(n, 1e-6)).map(Math.abs);
  }
  const ckpt: Checkpoint = {
    format: 'v3lab-checkpoint',
    version: 1,
    preset: 'micro-dense',
    seed: 7,
    step: 12,
    config,
    params,
  };
  if (withOptimizer) {
    ckpt.optimizer = { step: 12, m, v };
    ckpt.samplerState = [123456789, 3];
  }
  return ckpt;
}

/** A valid v3lab checkpoint re-encoded after `edit` changed its tensors or metadata. */
function edited(
  edit: (t: Record<string, { shape: number[]; data: Float32Array }>, meta: Record<string, string>) => void,
): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(checkpointToSafetensors(tinyCheckpoint(true)));
  edit(tensors, metadata);
  return encodeSafetensors(tensors, metadata);
}

// ---- the raw format ---------------------------------------------------------------------------

describe('safetensors encode/decode', () => {
  it('round-trips f32 bit-exactly, including NaN payloads, -0, infinities and denormals', () => {
    const odd = new Float32Array(
      new Uint32Array([0x7fc00001, 0xffc12345, 0x7f800001, 0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000])
        .buffer,
    );
    const tensors = {
      b: { shape: [2, 4], data: odd },
      a: { shape: [3], data: new Float32Array([1.5, -2, 3.25e-30]) },
      scalar: { shape: [], data: new Float32Array([42]) },
      empty: { shape: [0, 3], data: new Float32Array(0) },
    };
    const bytes = encodeSafetensors(tensors, { hello: 'wörld', n: '1' });
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ hello: 'wörld', n: '1' });
    expect(Object.keys(back.tensors)).toEqual(['a', 'b', 'empty', 'scalar']);
    for (const [k, t] of Object.entries(tensors)) {
      expect(back.tensors[k].shape).toEqual(t.shape);
      expect(bits(back.tensors[k].data)).toEqual(bits(t.data));
    }
  });

  it('writes the documented layout: u64 length, space-padded JSON header, sorted packed data', () => {
    const bytes = encodeSafetensors({
      z: { shape: [1], data: new Float32Array([2]) },
      a: { shape: [2], data: new Float32Array([1, -1]) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
    );
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect(Array.from(bytes.subarray(8 + n))).toEqual(Array.from(f32le([1, -1, 2])));
    // Deterministic: the same tensors in any insertion order give the same bytes.
    const again = encodeSafetensors({
      a: { shape: [2], data: new Float32Array([1, -1]) },
      z: { shape: [1], data: new Float32Array([2]) },
    });
    expect(Array.from(again)).toEqual(Array.from(bytes));
  });

  it('decodes a file built by hand from the spec (unpadded header, unaligned data, any key order)', () => {
    const header =
      '{"w":{"shape":[2,2],"data_offsets":[0,16],"dtype":"F32"},' +
      '"__metadata__":{"format":"pt"},' +
      '"bias":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}';
    const file = handBuilt(header, f32le([1, 2, 3, 4, -0.5]));
    expect((8 + header.length) % 4).not.toBe(0); // data really is unaligned
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.w.shape).toEqual([2, 2]);
    expect(Array.from(tensors.w.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(tensors.bias.data)).toEqual([-0.5]);
    // also when the bytes are a view into a larger buffer
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    expect(Array.from(decodeSafetensors(big.subarray(3)).tensors.w.data)).toEqual([1, 2, 3, 4]);
  });

  it('converts F16 and BF16 to f32 exactly', () => {
    // f16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), -0, inf, NaN
    const half = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x8000, 0x7c00, 0x7e00];
    // bf16: 1, -3.5, 2^-133 (subnormal)
    const bf = [0x3f80, 0xc060, 0x0001];
    const data = new Uint8Array(2 * (half.length + bf.length));
    const dv = new DataView(data.buffer);
    [...half, ...bf].forEach((h, i) => {
      dv.setUint16(2 * i, h, true);
    });
    const file = handBuilt(
      `{"h":{"dtype":"F16","shape":[8],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}`,
      data,
    );
    const { tensors } = decodeSafetensors(file);
    const h = Array.from(tensors.h.data);
    expect(h.slice(0, 5)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14]);
    expect(Object.is(h[5], -0)).toBe(true);
    expect(h[6]).toBe(Infinity);
    expect(Number.isNaN(h[7])).toBe(true);
    expect(Array.from(tensors.b.data)).toEqual([1, -3.5, 2 ** -133]);
  });

  describe('rejects corrupt files with a message naming the problem', () => {
    const ok = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const cases: Array<[string, () => Uint8Array, RegExp, { maxHeaderBytes?: number }?]> = [
      ['shorter than 8 bytes', () => new Uint8Array([1, 0, 0]), /file is 3 bytes: too short/],
      ['empty file', () => new Uint8Array(0), /file is 0 bytes/],
      [
        'header length larger than the file',
        () => handBuilt(ok, f32le([1, 2]), { claimLen: 5000n }),
        /header length 5000 is larger than the file \(\d+ bytes/,
      ],
      [
        'header length beyond the cap',
        () => handBuilt(ok, f32le([1, 2]), { claimLen: 0xffffffffffffffffn }),
        /header length 18446744073709551615 is larger than the limit of 16777216 bytes/,
      ],
      [
        'header length beyond a custom cap',
        () => handBuilt(ok, f32le([1, 2])),
        /larger than the limit of 16 bytes/,
        { maxHeaderBytes: 16 },
      ],
      ['header not JSON', () => handBuilt('{"x": nope}'), /header is not valid JSON/],
      ['header not an object', () => handBuilt('[1,2,3]'), /header does not start with "\{"/],
      ['header cut short', () => handBuilt('{   '), /header is not valid JSON/],
      ['header null', () => handBuilt('null'), /header does not start with "\{"/],
      ['header too short to be JSON', () => handBuilt('{'), /header length 1 is too small/],
      ['entry not an object', () => handBuilt('{"x":3}'), /tensor "x": header entry is a number/],
      [
        'unsupported dtype',
        () => handBuilt('{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', new Uint8Array(8)),
        /tensor "x" has dtype F64; v3lab reads F32/,
      ],
      [
        'unknown dtype',
        () => handBuilt('{"x":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)),
        /tensor "x" has unknown dtype "Q4"; v3lab reads F32/,
      ],
      [
        'dtype missing',
        () => handBuilt('{"x":{"shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)),
        /tensor "x": dtype is a undefined/,
      ],
      [
        'negative dim',
        () => handBuilt('{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)),
        /tensor "x": shape \[-1\] is not a list of non-negative integers/,
      ],
      [
        'fractional dim',
        () => handBuilt('{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', new Uint8Array(4)),
        /tensor "x": shape \[1.5\] is not/,
      ],
      [
        'shape not an array',
        () => handBuilt('{"x":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}', new Uint8Array(8)),
        /tensor "x": shape "2" is not/,
      ],
      [
        'offsets not a pair',
        () => handBuilt('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', new Uint8Array(8)),
        /tensor "x": data_offsets \[0\] is not a pair/,
      ],
      [
        'offsets reversed',
        () => handBuilt('{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', new Uint8Array(8)),
        /tensor "x": data_offsets \[8, 0\] end before they begin/,
      ],
      [
        'offsets past the end',
        () => handBuilt(ok, f32le([1])),
        /tensor "x": data_offsets \[0, 8\] run past the end of the data \(4 bytes/,
      ],
      [
        'size inconsistent with shape',
        () => handBuilt('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', f32le([1, 2])),
        /tensor "x": data_offsets \[0, 8\] span 8 bytes but shape \[3\] of F32 needs 12/,
      ],
      [
        'overlapping tensors',
        () =>
          handBuilt(
            '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
            f32le([1, 2, 3]),
          ),
        /tensor "b": data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/,
      ],
      [
        'gap between tensors',
        () =>
          handBuilt(
            '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
            f32le([1, 2, 3]),
          ),
        /gap of 4 bytes after tensor "a", before tensor "b"/,
      ],
      [
        'gap at the start',
        () => handBuilt('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32le([1, 2])),
        /gap of 4 bytes at the start of the data, before tensor "a"/,
      ],
      [
        'trailing bytes',
        () => handBuilt(ok, f32le([1, 2, 3])),
        /4 bytes of data after the last tensor "x" belong to no tensor/,
      ],
      [
        'metadata value not a string',
        () => handBuilt('{"__metadata__":{"step":3}}'),
        /__metadata__ value "step" is a number; metadata values must be strings/,
      ],
      ['metadata not an object', () => handBuilt('{"__metadata__":["a"]}'), /__metadata__ is an array/],
      [
        '__proto__ tensor',
        () => handBuilt('{"__proto__":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'),
        /"__proto__" is not allowed/,
      ],
    ];
    for (const [what, make, re, opts] of cases) {
      it(what, () => {
        expect(errorOf(() => decodeSafetensors(make(), opts)).message).toMatch(re);
      });
    }

    it('header bytes that are not UTF-8', () => {
      const h = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]); // {"\xff":1}
      const file = new Uint8Array(8 + h.length);
      new DataView(file.buffer).setBigUint64(0, BigInt(h.length), true);
      file.set(h, 8);
      expect(errorOf(() => decodeSafetensors(file)).message).toMatch(/header is not valid UTF-8/);
    });

    it('non-Uint8Array input', () => {
      expect(errorOf(() => decodeSafetensors('hello' as unknown as Uint8Array)).message).toMatch(
        /expected the file's bytes/,
      );
    });
  });

  it('refuses to encode inconsistent tensors', () => {
    expect(errorOf(() => encodeSafetensors({ x: { shape: [3], data: new Float32Array(2) } })).message).toMatch(
      /tensor "x": shape \[3\] has 3 elements but data has 2/,
    );
    expect(
      errorOf(() => encodeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } })).message,
    ).toMatch(/cannot be named/);
  });
});

// ---- v3lab checkpoints --------------------------------------------------------------------------

describe('v3lab checkpoints', () => {
  it('round-trips a full checkpoint (params, moments, sampler state, metadata)', () => {
    const ckpt = tinyCheckpoint(true);
    const back = checkpointFromSafetensors(checkpointToSafetensors(ckpt));
    expect(back.format).toBe('v3lab-checkpoint');
    expect(back.version).toBe(1);
    expect(back.preset).toBe(ckpt.preset);
    expect(back.seed).toBe(ckpt.seed);
    expect(back.step).toBe(ckpt.step);
    expect(back.config).toEqual(ckpt.config);
    expect(back.samplerState).toEqual(ckpt.samplerState);
    expect(Object.keys(back.params)).toEqual(Object.keys(ckpt.params)); // parameterShapes order
    for (const [name, p] of Object.entries(ckpt.params)) {
      expect(back.params[name].shape).toEqual(p.shape);
      expect(bits(back.params[name].data)).toEqual(bits(p.data));
      expect(bits(back.optimizer!.m[name])).toEqual(bits(ckpt.optimizer!.m[name]));
      expect(bits(back.optimizer!.v[name])).toEqual(bits(ckpt.optimizer!.v[name]));
    }
    expect(back.optimizer!.step).toBe(12);
    // Same checkpoint, same bytes.
    expect(Array.from(checkpointToSafetensors(back))).toEqual(Array.from(checkpointToSafetensors(ckpt)));
  });

  it('keeps HF names and the documented metadata keys', () => {
    const { tensors, metadata } = decodeSafetensors(checkpointToSafetensors(tinyCheckpoint(true)));
    expect(tensors['model.layers.0.self_attn.q_proj.weight'].shape).toEqual([8, 8]);
    expect(tensors['optimizer.m.lm_head.weight'].shape).toEqual([5, 8]);
    expect(tensors['optimizer.v.model.norm.weight'].shape).toEqual([8]);
    expect(Object.keys(metadata).sort()).toEqual([
      'config',
      'format',
      'optimizer_step',
      'preset',
      'sampler_state',
      'seed',
      'step',
      'version',
    ]);
    expect(metadata.format).toBe('v3lab-checkpoint');
    expect(JSON.parse(metadata.config)).toEqual(tinyConfig());
  });

  it('reads weights-only files', () => {
    const back = checkpointFromSafetensors(checkpointToSafetensors(tinyCheckpoint(false)));
    expect(back.optimizer).toBeUndefined();
    expect(back.samplerState).toBeUndefined();
    expect(Object.keys(back.params)).toHaveLength(parameterShapes(modelConfigOf(tinyConfig(), 5)).length);
  });

  it('infers the vocabulary from the embedding', () => {
    const ckpt = tinyCheckpoint(false);
    for (const name of ['model.embed_tokens.weight', 'lm_head.weight'])
      ckpt.params[name] = { shape: [11, 8], data: new Float32Array(88) };
    expect(checkpointFromSafetensors(checkpointToSafetensors(ckpt)).params['lm_head.weight'].shape).toEqual([11, 8]);
  });

  const bad: Array<[string, () => Uint8Array, RegExp[]]> = [
    [
      'a plain safetensors file',
      () => encodeSafetensors({ x: { shape: [1], data: new Float32Array(1) } }),
      [/not a v3lab checkpoint: the file has no "format" metadata/],
    ],
    ['another format', () => edited((_, m) => (m.format = 'pt')), [/has format "pt"/]],
    [
      'a newer version',
      () => edited((_, m) => (m.version = '2')),
      [/checkpoint version "2" is not supported \(this v3lab reads version 1\)/],
    ],
    ['a bad seed', () => edited((_, m) => (m.seed = 'x')), [/metadata "seed" is "x"; expected an integer/]],
    ['a negative step', () => edited((_, m) => (m.step = '-1')), [/metadata "step" is "-1"/]],
    ['config not JSON', () => edited((_, m) => (m.config = '{')), [/metadata "config" is not valid JSON/]],
    [
      'an invalid config',
      () =>
        edited(
          (_, m) =>
            (m.config = JSON.stringify({ ...JSON.parse(m.config), optim: { ...JSON.parse(m.config).optim, lr: 5 } })),
        ),
      [/checkpoint config: invalid config: optim\.lr/],
    ],
    [
      'no embedding',
      () => edited((t) => delete t['model.embed_tokens.weight']),
      [/tensor "model.embed_tokens.weight" is missing/],
    ],
    [
      'missing, unexpected and misshapen tensors',
      () =>
        edited((t) => {
          delete t['model.layers.0.mlp.up_proj.weight'];
          t['model.layers.7.mlp.up_proj.weight'] = { shape: [1], data: new Float32Array(1) };
          t['model.norm.weight'] = { shape: [9], data: new Float32Array(9) };
          t['optimizer.m.model.norm.weight'] = { shape: [9], data: new Float32Array(9) };
        }),
      [
        /missing tensors: "model.layers.0.mlp.up_proj.weight"; /,
        /unexpected tensors: "model.layers.7.mlp.up_proj.weight"/,
        /wrong shapes: "model.norm.weight" is \[9\], expected \[8\]; "optimizer.m.model.norm.weight" is \[9\], expected \[8\]/,
      ],
    ],
    [
      'a partial optimizer',
      () => edited((t) => delete t['optimizer.v.lm_head.weight']),
      [/missing tensors: "optimizer.v.lm_head.weight"/],
    ],
    [
      'moments without optimizer_step',
      () => edited((_, m) => delete m.optimizer_step),
      [/optimizer moments but no "optimizer_step"/],
    ],
    [
      'optimizer_step without moments',
      () =>
        edited((t) => {
          for (const k of Object.keys(t)) if (k.startsWith('optimizer.')) delete t[k];
        }),
      [/missing tensors: "optimizer.m.model.embed_tokens.weight"/],
    ],
    [
      'a bad sampler state',
      () => edited((_, m) => (m.sampler_state = '{"a":1}')),
      [/metadata "sampler_state" is not a list of numbers/],
    ],
  ];
  for (const [what, make, res] of bad) {
    it(`rejects ${what}`, () => {
      const msg = errorOf(() => checkpointFromSafetensors(make())).message;
      for (const re of res) expect(msg).toMatch(re);
    });
  }

  it('keeps long mismatch lists readable', () => {
    const bytes = edited((t) => {
      for (const k of Object.keys(t)) if (k.startsWith('model.layers.')) delete t[k];
    });
    expect(errorOf(() => checkpointFromSafetensors(bytes)).message).toMatch(/and \d+ more/);
  });

  it('fuzz: flipped bytes and truncations never throw anything but CheckpointError', () => {
    const good = checkpointToSafetensors(tinyCheckpoint(true));
    const headerEnd = 8 + Number(new DataView(good.buffer).getBigUint64(0, true));
    const rng = new Rng(2024);
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < 300; i++) {
      let f = good.slice();
      const mode = i % 3;
      if (mode === 0) {
        // truncate anywhere
        f = f.slice(0, rng.int(0, f.length - 1));
      } else {
        // flip 1-4 bytes, mostly in the length prefix and header where parsing happens
        const flips = rng.int(1, 4);
        for (let j = 0; j < flips; j++) {
          const pos = rng.next() < 0.85 ? rng.int(0, headerEnd - 1) : rng.int(0, f.length - 1);
          f[pos] = mode === 1 ? f[pos] ^ (1 << rng.int(0, 7)) : rng.int(0, 255);
        }
      }
      for (const read of [() => decodeSafetensors(f), () => checkpointFromSafetensors(f)]) {
        try {
          read();
          outcomes.ok++;
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw new Error(`case ${i}: threw ${String(e)} (not a CheckpointError)`);
          expect(e.message.length).toBeGreaterThan(10);
          outcomes.rejected++;
        }
      }
    }
    expect(outcomes.rejected).toBeGreaterThan(200);
  });
});
