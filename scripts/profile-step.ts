// Diagnostics: where does a training step's GPU time go? Runs a few steps of a preset with
// per-dispatch timing (each kernel submitted alone and awaited; GPU timestamps around it where
// the adapter has 'timestamp-query') and prints time per kernel.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/profile-step.ts [preset] [steps]
import { createNodeBackend } from '../src/backends/webgpu/node';
import { stepPresets } from '../src/bench/presets';
import { RunPipeline } from '../src/run/pipeline';

// Every micro-* preset and the bench's browser-v3 step.
const preset = stepPresets().find((p) => p.name === (process.argv[2] ?? 'micro-dense'));
if (!preset) throw new Error(`unknown preset ${process.argv[2]}`);
const steps = Number(process.argv[3] ?? 3);
const be = await createNodeBackend();
const trainer = new RunPipeline(be, preset.config, 1);
const h = await trainer.runStep(); // warm-up: compiles every pipeline
h.loss.dispose();
h.normSq.dispose();
be.rt.profile = new Map();
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  const s = await trainer.runStep();
  s.loss.dispose();
  s.normSq.dispose();
}
const total = performance.now() - t0;
const rows = [...be.rt.profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
const kernelMs = rows.reduce((n, [, e]) => n + e.ms, 0);
console.log(
  `${preset.name} on ${be.deviceLabel}: ${(total / steps).toFixed(1)} ms/step profiled, ${rows.reduce((n, [, e]) => n + e.count, 0) / steps} dispatches/step; kernel times from ${be.rt.profileClock === 'gpu' ? 'GPU timestamps' : 'host wall time (includes submit latency)'}, ${(kernelMs / steps).toFixed(1)} ms/step in all`,
);
for (const [k, e] of rows)
  console.log(
    `${k.padEnd(40)} ${String(e.count / steps).padStart(5)}/step ${(e.ms / steps).toFixed(2).padStart(9)} ms/step ${((100 * e.ms) / kernelMs).toFixed(1).padStart(5)}%`,
  );
process.exit(0);
