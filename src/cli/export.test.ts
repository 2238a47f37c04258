// `npm run lab -- export / import` as a user runs them: a preset alone exports exactly the model
// the lab creates for that seed; a checkpoint exports its weights; import validates and
// summarizes; bad input is one line on stderr and exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../backends/cpu/backend';
import { importModel } from '../export/import';
import { findPreset } from '../config';
import { applyOverrides } from '../config';
import { checkpointToSafetensors } from '../train/checkpoint';
import { RunPipeline } from '../run/pipeline';
import { cmdExport, cmdImport } from './export';
import { SLOW_MS } from '../test/timeouts';

function lab(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './scripts/register-raw.mjs', 'src/cli/main.ts', ...args],
    { encoding: 'utf8', timeout: SLOW_MS },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof lab>, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

const tmp = mkdtempSync(join(tmpdir(), 'v3lab-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function readDir(dir: string): Map<string, Uint8Array> {
  const names = [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
    'v3lab.json',
    'README.md',
    'deepseek_ref_config.json',
  ];
  return new Map(
    names.filter((n) => existsSync(join(dir, n))).map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))]),
  );
}

describe('CLI export / import', () => {
  it('export --preset exports the model the lab creates for that seed; import validates it', async () => {
    const out = join(tmp, 'micro-v3');
    const r = lab(
      'export',
      '--preset',
      'micro-v3',
      '--seed',
      '5',
      '--set',
      'data.corpus_chars=20000',
      '--out',
      out,
      '--trainer',
      'torchtitan',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^exported micro-v3 \(seed 5, step 0\)/);
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'README.md',
      'v3lab.json',
      'torchtitan/train.toml',
      'torchtitan/mapping.json',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);

    // The same weights as the lab's Trainer for this preset, seed and override.
    const cfg = applyOverrides(findPreset('micro-v3')!.config, { 'data.corpus_chars': '20000' });
    const t = new RunPipeline(new CpuBackend(), cfg, 5);
    const ckpt = await t.checkpoint('micro-v3', true);
    const imp = importModel(readDir(out));
    expect(imp.tokenizer.chars).toEqual(t.state.tokenizer.chars);
    for (const [name, p] of Object.entries(ckpt.params)) expect(imp.params.get(name), name).toEqual(p.data);
    expect(imp.run).toMatchObject({ preset: 'micro-v3', seed: 5, step: 0 });

    const i = lab('import', out);
    expect(i.code, i.err).toBe(0);
    expect(i.out).toMatch(/^valid DeepSeek-V3 export/);
    expect(i.out).toMatch(/2 layers, 4 MLA heads, ffn moe \(first 1 dense; 8 routed \+ 1 shared, top-2\), MTP depth 1/);
    expect(i.out).toMatch(/checksums verified/);
    const j = lab('import', out, '--json');
    expect(j.code, j.err).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({
      ok: true,
      layers: 2,
      mtp: 1,
      run: { preset: 'micro-v3', seed: 5, step: 0 },
    });
  });

  it('export --checkpoint exports a trained checkpoint (bf16), and import reports a corrupted copy', async () => {
    const cfg = applyOverrides(findPreset('micro-mla')!.config, {
      'data.corpus_chars': '20000',
      'data.batch_size': 2,
      'data.seq_len': 16,
    });
    const t = new RunPipeline(new CpuBackend(), cfg, 3);
    await t.runStep();
    const ckpt = await t.checkpoint('micro-mla');
    const file = join(tmp, 'run.safetensors');
    writeFileSync(file, checkpointToSafetensors(ckpt));
    const out = join(tmp, 'from-ckpt');
    const r = lab('export', '--checkpoint', file, '--out', out, '--dtype', 'bf16');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^exported micro-mla \(seed 3, step 1\).*bf16/);
    const imp = importModel(readDir(out));
    expect(imp.run).toMatchObject({ preset: 'micro-mla', seed: 3, step: 1 });
    expect(imp.config.ffn).toBe('dense');

    // Flip one byte in the weights: the checksum names the file.
    const st = new Uint8Array(readFileSync(join(out, 'model.safetensors')));
    st[st.length - 3] ^= 0x40;
    writeFileSync(join(out, 'model.safetensors'), st);
    expectOneLineError(lab('import', out), /model.safetensors fails its checksum/);
    // Truncate it: the structure check names it.
    writeFileSync(join(out, 'model.safetensors'), st.subarray(0, 1000));
    expectOneLineError(lab('import', out), /model.safetensors: .*(truncated|corrupt)/);
  });

  it('bad input: one line on stderr, exit 2 (through main), and each problem named', async () => {
    expectOneLineError(lab('export', '--preset', 'micro-dense', '--out', join(tmp, 'x')), /arch.attention is "mha"/);
    expectOneLineError(lab('import', tmp), /config.json is missing/);
    // The same functions in-process (main.ts prints their message as the one line).
    const rejects = (p: Promise<number>, pattern: RegExp) => expect(p).rejects.toThrow(pattern);
    await rejects(cmdExport(['--out', join(tmp, 'x')]), /exactly one of --preset NAME or --checkpoint FILE/);
    await rejects(cmdExport(['--preset=micro-v3']), /--out DIR is required/);
    await rejects(cmdExport(['--preset=nope', '--out', join(tmp, 'x')]), /unknown preset "nope"/);
    await rejects(
      cmdExport(['--preset=micro-v3', '--seed=-1', '--out', join(tmp, 'x')]),
      /--seed: "-1" is not an integer/,
    );
    await rejects(
      cmdExport(['--preset=micro-v3', '--dtype', 'f16', '--out', join(tmp, 'x')]),
      /--dtype: "f16" is not one of f32, bf16, fp8/,
    );
    await rejects(
      cmdExport(['--preset=micro-v3', '--trainer', 'megatron', '--out', join(tmp, 'x')]),
      /--trainer: "megatron" is not supported/,
    );
    await rejects(
      cmdExport(['--checkpoint', join(tmp, 'missing.safetensors'), '--out', join(tmp, 'x')]),
      /--checkpoint: cannot read .*missing\.safetensors: it does not exist/,
    );
    await rejects(cmdImport([join(tmp, 'nothing-here')]), /does not exist/);
    await rejects(cmdImport([]), /usage: import DIR/);
  });
});
