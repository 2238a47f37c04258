import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import { MAX_RUN_FILE_CHARS, RunFileError, exportRunJson, importRunJson, type RunRecord } from './runfile';

function sampleRun(): RunRecord {
  return {
    id: 'run-1',
    name: 'micro-dense #1',
    createdAt: 1_700_000_000_000,
    preset: 'micro-dense',
    seed: 42,
    config: structuredClone(findPreset('micro-dense')!.config),
    metrics: [
      { step: 1, loss: 3.4, val_loss: null, lr: 1e-4, grad_norm: 2.5, tokens_per_s: 1200 },
      { step: 2, loss: 3.1, val_loss: 3.2, lr: 2e-4, grad_norm: 1.9, tokens_per_s: 1300.5 },
      { step: 3, loss: NaN, val_loss: Infinity, lr: 3e-4, grad_norm: -Infinity, tokens_per_s: 0 },
      { step: 4, loss: 2.9, val_loss: null, lr: 4e-4, grad_norm: 1.2, tokens_per_s: 1250 },
    ],
    changes: [
      { step: 2, path: 'optim.lr', value: 0.001 },
      { step: 3, path: 'optim.schedule', value: 'wsd' },
    ],
    samples: [{ step: 4, temperature: 0.8, text: 'the cat "sat"\non the mat ✓' }],
    status: 'done',
    adapter: 'SwiftShader',
    backend: 'webgpu',
  };
}

/** Export, let `edit` change the parsed document, and import the result. */
function importEdited(edit: (doc: Record<string, any>) => void): RunRecord {
  const doc = JSON.parse(exportRunJson(sampleRun()));
  edit(doc);
  return importRunJson(JSON.stringify(doc));
}

function errorOf(fn: () => unknown): RunFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunFileError);
    return e as RunFileError;
  }
  throw new Error('expected a RunFileError, but nothing was thrown');
}

describe('run files', () => {
  it('round-trips a run exactly, NaN and infinities included', () => {
    const run = sampleRun();
    const text = exportRunJson(run);
    const back = importRunJson(text);
    expect(back).toEqual(run);
    expect(Number.isNaN(back.metrics[2].loss)).toBe(true);
    expect(back.metrics[2].val_loss).toBe(Infinity);
    expect(back.metrics[2].grad_norm).toBe(-Infinity);
    expect(exportRunJson(back)).toBe(text);
  });

  it('starts with format and version, one array entry per line, and keeps the id', () => {
    const text = exportRunJson(sampleRun());
    const doc = JSON.parse(text);
    expect(Object.keys(doc).slice(0, 3)).toEqual(['format', 'version', 'id']);
    expect(doc.format).toBe('v3lab-run');
    expect(doc.version).toBe(1);
    expect(text).toContain(
      '\n    {"step":3,"loss":"NaN","val_loss":"Infinity","lr":0.0003,"grad_norm":"-Infinity","tokens_per_s":0},\n',
    );
    expect(importRunJson(text).id).toBe('run-1');
  });

  it('exports only the record fields', () => {
    const run = { ...sampleRun(), extra: 'ui state' } as RunRecord;
    expect(JSON.parse(exportRunJson(run)).extra).toBeUndefined();
    const empty = { ...sampleRun(), metrics: [], changes: [], samples: [] };
    expect(importRunJson(exportRunJson(empty))).toEqual(empty);
  });

  const bad: Array<[string, () => unknown, RegExp]> = [
    ['not JSON', () => importRunJson('{"format": "v3lab-run",'), /^not JSON: /],
    ['a JSON array', () => importRunJson('[1]'), /not a v3lab run file: expected a JSON object, got an array/],
    ['no format', () => importEdited((d) => delete d.format), /not a v3lab run file: it has no "format" field/],
    ['another format', () => importEdited((d) => (d.format = 'wandb')), /has format "wandb" \(expected "v3lab-run"\)/],
    [
      'a newer version',
      () => importEdited((d) => (d.version = 2)),
      /run file version 2 is not supported \(this v3lab reads version 1\)/,
    ],
    ['a string metric', () => importEdited((d) => (d.metrics[3].loss = 'low')), /metrics\[3\]\.loss: expected number/],
    [
      'a missing metric',
      () => importEdited((d) => delete d.metrics[1].grad_norm),
      /metrics\[1\]\.grad_norm: expected number/,
    ],
    ['a fractional step', () => importEdited((d) => (d.metrics[0].step = 1.5)), /metrics\[0\]\.step: expected int/],
    [
      'a bad val_loss',
      () => importEdited((d) => (d.metrics[0].val_loss = 'x')),
      /metrics\[0\]\.val_loss: .*expected number/,
    ],
    ['a missing field', () => importEdited((d) => delete d.name), /name: missing \(expected string\)/],
    ['an unknown field', () => importEdited((d) => (d.colour = 'red')), /colour: unknown field/],
    [
      'an unknown nested field',
      () => importEdited((d) => (d.samples[0].topk = 5)),
      /samples\[0\]\.topk: unknown field/,
    ],
    ['a bad status', () => importEdited((d) => (d.status = 'exploded')), /status: Invalid option: expected one of/],
    ['a bad backend', () => importEdited((d) => (d.backend = 'tpu')), /backend: Invalid option/],
    [
      'a bad change value',
      () => importEdited((d) => (d.changes[1].value = null)),
      /changes\[1\]\.value: expected string or number/,
    ],
    ['metrics not an array', () => importEdited((d) => (d.metrics = {})), /metrics: expected array, received object/],
    ['an empty id', () => importEdited((d) => (d.id = '')), /id: Too small/],
    ['a config field out of range', () => importEdited((d) => (d.config.optim.lr = 7)), /config\.optim\.lr: Too big/],
    [
      'an unknown config field',
      () => importEdited((d) => (d.config.model.mla = true)),
      /config\.model: Unrecognized key: "mla"/,
    ],
    [
      'a config cross-field rule',
      () => importEdited((d) => (d.config.model.num_attention_heads = 3)),
      /config\.model\.num_attention_heads: 3 does not divide/,
    ],
    ['a missing config', () => importEdited((d) => delete d.config), /config: missing \(expected object\)/],
    [
      'a config that is not an object',
      () => importEdited((d) => (d.config = 'micro')),
      /config: expected object, received string/,
    ],
    [
      'a val_loss of the wrong type',
      () => importEdited((d) => (d.metrics[2].val_loss = true)),
      /metrics\[2\]\.val_loss: expected number or null/,
    ],
  ];
  for (const [what, fn, re] of bad) {
    it(`rejects ${what}`, () => {
      const msg = errorOf(fn).message;
      expect(msg).toMatch(re);
    });
  }

  it('lists several problems at once', () => {
    const msg = errorOf(() =>
      importEdited((d) => {
        d.metrics[0].lr = 'fast';
        d.seed = 'x';
      }),
    ).message;
    expect(msg).toMatch(/seed: expected number/);
    expect(msg).toMatch(/metrics\[0\]\.lr: expected number/);
  });

  it('refuses oversized files before parsing them', () => {
    const huge = ' '.repeat(MAX_RUN_FILE_CHARS + 1);
    expect(errorOf(() => importRunJson(huge)).message).toMatch(
      /run file is too large: 50\.0 MB of text; the limit is 50 MB/,
    );
  });
});

describe('run files of MoE and MTP runs', () => {
  it('round-trip their extra metrics and boolean live changes', async () => {
    const { exportRunJson, importRunJson } = await import('./runfile');
    const { findPreset } = await import('../config');
    const run = {
      id: 'r',
      name: 'moe',
      createdAt: 1,
      preset: 'micro-moe',
      seed: 1,
      config: findPreset('micro-moe')!.config,
      metrics: [
        {
          step: 1,
          loss: 3,
          val_loss: null,
          lr: 0.001,
          grad_norm: 1,
          tokens_per_s: 10,
          max_vio: 0.5,
          max_vio_layers: [0.4, 0.6],
          expert_load: [
            [1, 2],
            [2, 1],
          ],
          router_bias: [[0.001, -0.001]],
          aux_loss: 0.9,
          mtp_loss: 3.1,
        },
      ],
      changes: [{ step: 2, path: 'model.norm_topk_prob', value: false }],
      samples: [],
      status: 'done' as const,
      adapter: 'a',
      backend: 'webgpu' as const,
    };
    expect(importRunJson(exportRunJson(run))).toEqual(run);
  });
});
