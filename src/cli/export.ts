// `npm run lab -- export` and `npm run lab -- import`: the Hugging Face DeepSeek-V3 format from
// the command line.
//   export (--preset NAME [--seed S] [--set path=value]… | --checkpoint FILE) --out DIR
//          [--dtype f32|bf16|fp8] [--trainer torchtitan]
//     A preset alone exports the model the lab would create for that preset and seed (the same
//     Trainer init, on the CPU reference); a checkpoint exports its weights and run.
//   import DIR [--json]
//     Validates an export directory (any HF DeepSeek-V3 model v3lab can compute) and prints a
//     summary; a bad directory is a one-line error naming the problem (exit 2).
// Errors are thrown as Error with one line; main.ts prints "error: …" and exits 2.

import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Checkpoint } from '../lab/api';
import type { RunConfig } from '../config';
import { countParams } from '../model/config';
import { CHECKPOINT_MAX_BYTES, parseSets, readBoundedFile, requirePreset, writeJsonLine } from './args';
import { EXPORT_OPTIONS, IMPORT_OPTIONS } from './options';

function fail(msg: string): never {
  throw new Error(msg);
}

export async function cmdExport(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: EXPORT_OPTIONS, strict: true });
  const { EXPORT_DTYPES, checkExportable, compatNotes, exportModel, runTokenizer } = await import('../export/index');
  const { modelConfigOf } = await import('../model/config');
  if ((values.preset === undefined) === (values.checkpoint === undefined))
    fail('export: give exactly one of --preset NAME or --checkpoint FILE');
  if (!values.out) fail('--out DIR is required');
  const dtype = values.dtype as (typeof EXPORT_DTYPES)[number];
  if (!EXPORT_DTYPES.includes(dtype)) fail(`--dtype: "${values.dtype}" is not one of ${EXPORT_DTYPES.join(', ')}`);
  if (values.trainer !== undefined && values.trainer !== 'torchtitan')
    fail(`--trainer: "${values.trainer}" is not supported (available: torchtitan)`);
  if (values.checkpoint !== undefined && (values.seed !== undefined || values.set !== undefined))
    fail('--seed and --set go with --preset; a checkpoint carries its own');

  let params: Map<string, Float32Array>;
  let cfg: RunConfig;
  let run: { preset: string; seed: number; step: number };
  let tokenizer: { chars: readonly string[] };
  if (values.preset !== undefined) {
    const preset = requirePreset(values.preset);
    const rawSeed = values.seed ?? '0';
    const seed = Number(rawSeed);
    if (!/^\d+$/.test(rawSeed.trim()) || !Number.isSafeInteger(seed) || seed > 2 ** 32 - 1)
      fail(`--seed: "${rawSeed}" is not an integer in [0, 2^32)`);
    const { applyOverrides } = await import('../config');
    cfg = applyOverrides(preset.config, parseSets(values.set, { example: 'model.hidden_size=128' }));
    // Refuse MHA before building anything (the vocabulary does not matter for that check).
    checkExportable(modelConfigOf(cfg, 1));
    // Exactly what the lab builds for this preset and seed: the run's corpus, tokenizer and
    // seeded init (on the CPU reference; weights are created on the host either way).
    const { CpuBackend } = await import('../backends/cpu/backend');
    const { RunPipeline } = await import('../run/pipeline');
    const trainer = new RunPipeline(new CpuBackend(), cfg, seed);
    try {
      const ckpt = await trainer.checkpoint(preset.name, true);
      params = new Map(Object.entries(ckpt.params).map(([k, v]) => [k, v.data]));
      tokenizer = trainer.state.tokenizer;
    } finally {
      trainer.dispose();
    }
    run = { preset: preset.name, seed, step: 0 };
  } else {
    const { checkpointFromSafetensors } = await import('../train/checkpoint');
    const file = resolve(values.checkpoint!);
    const { CHECKPOINT_MAX_HEADER_BYTES } = await import('../train/checkpoint');
    const bytes = await readBoundedFile('--checkpoint', file, CHECKPOINT_MAX_BYTES, CHECKPOINT_MAX_HEADER_BYTES);
    let ckpt: Checkpoint;
    try {
      ckpt = checkpointFromSafetensors(bytes);
    } catch (e) {
      fail(`${values.checkpoint}: ${(e as Error).message}`);
    }
    cfg = ckpt.config;
    checkExportable(modelConfigOf(cfg, 1));
    tokenizer = runTokenizer(cfg, ckpt.seed);
    const rows = ckpt.params['model.embed_tokens.weight'].shape[0];
    if (rows !== tokenizer.chars.length)
      fail(
        `${values.checkpoint}: its embedding has ${rows} rows but the run's corpus (data.corpus "${cfg.data.corpus}", seed ${ckpt.seed}) gives ${tokenizer.chars.length} characters`,
      );
    params = new Map(Object.entries(ckpt.params).map(([k, v]) => [k, v.data]));
    run = { preset: ckpt.preset, seed: ckpt.seed, step: ckpt.step };
  }

  const outDir = resolve(values.out);
  const files = exportModel(params, cfg, tokenizer, {
    dtype,
    trainer: values.trainer === 'torchtitan' ? 'torchtitan' : null,
    run,
    torchtitanPath: outDir,
  });
  await mkdir(outDir, { recursive: true });
  let total = 0;
  for (const [name, bytes] of files) {
    const path = join(outDir, ...name.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    total += bytes.length;
  }
  const model = modelConfigOf(cfg, tokenizer.chars.length);
  process.stdout.write(
    `exported ${run.preset} (seed ${run.seed}, step ${run.step}): ${countParams(model).toLocaleString('en-US')} params, ${dtype}, ${files.size} files, ${(total / 2 ** 20).toFixed(2)} MiB → ${outDir}\n`,
  );
  for (const name of files.keys()) process.stdout.write(`  ${name}\n`);
  for (const n of compatNotes(model, dtype)) if (n.level === 'warn') process.stderr.write(`note: ${n.text}\n`);
  return 0;
}

export async function cmdImport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: IMPORT_OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1)
    fail('usage: import DIR (an export directory: config.json, model.safetensors, tokenizer.json)');
  const dir = resolve(positionals[0]);
  try {
    if (!(await stat(dir)).isDirectory()) fail(`${positionals[0]} is not a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(`${positionals[0]} does not exist`);
    throw e;
  }
  const {
    importConfig,
    importModel,
    modelBytesLimit,
    ImportError,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_TOKENIZER_BYTES,
  } = await import('../export/index');
  const present = new Set(await readdir(dir));
  const files = new Map<string, Uint8Array>();
  const load = async (name: string, limit: number) => {
    if (present.has(name)) files.set(name, await readBoundedFile(name, join(dir, name), limit));
  };
  try {
    await load('config.json', MAX_CONFIG_BYTES);
    await load('v3lab.json', MAX_MANIFEST_BYTES);
    await load('tokenizer.json', MAX_TOKENIZER_BYTES);
    // The weights file is bounded by what config.json can need, checked before reading it.
    const { config } = importConfig(files);
    await load('model.safetensors', modelBytesLimit(config));
    if (present.has('model.safetensors.index.json')) files.set('model.safetensors.index.json', new Uint8Array(0));
    const m = importModel(files);
    const c = m.config;
    const summary = {
      ok: true,
      dir,
      model_type: 'deepseek_v3',
      params: countParams(c),
      hidden_size: c.hidden_size,
      layers: c.num_hidden_layers,
      ffn:
        c.ffn === 'moe'
          ? `moe (first ${c.first_k_dense_replace} dense; ${c.n_routed_experts} routed + ${c.n_shared_experts} shared, top-${c.num_experts_per_tok})`
          : 'dense',
      heads: c.num_attention_heads,
      mla: {
        q_lora_rank: c.q_lora_rank,
        kv_lora_rank: c.kv_lora_rank,
        qk_nope_head_dim: c.qk_nope_head_dim,
        qk_rope_head_dim: c.qk_rope_head_dim,
        v_head_dim: c.v_head_dim,
      },
      mtp: c.num_nextn_predict_layers,
      vocab: c.vocab_size,
      tensors: m.tensorCount,
      dtypes: m.dtypes,
      run: m.run ? { preset: m.run.preset, seed: m.run.seed, step: m.run.step } : null,
      checksums: files.has('v3lab.json') ? 'verified' : 'none (no v3lab.json)',
      notes: m.notes,
    };
    if (values.json) writeJsonLine(summary);
    else {
      const dt = Object.entries(m.dtypes)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      process.stdout.write(
        [
          `valid DeepSeek-V3 export: ${dir}`,
          `  model     ${summary.params.toLocaleString('en-US')} params; hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} MLA heads, ffn ${summary.ffn}${c.num_nextn_predict_layers ? `, MTP depth ${c.num_nextn_predict_layers}` : ''}`,
          `  vocab     ${c.vocab_size} characters`,
          `  weights   ${m.tensorCount} tensors (${dt})`,
          `  run       ${m.run ? `preset ${m.run.preset}, seed ${m.run.seed}, step ${m.run.step}` : 'not a v3lab export (no v3lab.json)'}`,
          `  checksums ${summary.checksums}`,
          ...m.notes.map((n) => `  note      ${n}`),
        ].join('\n') + '\n',
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof ImportError) fail(`${positionals[0]}: ${e.message}`);
    throw e;
  }
}
