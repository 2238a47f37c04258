// The V3 accumulation-precision experiment (spec §3 "Promotion"; src/lowp/accum.ts): relative
// error of an E4M3, block-128 GEMM (A [64, K] in 1×128 tiles, B [64, K] in 128×128 blocks)
// against the exact product of its DEQUANTIZED inputs, so only accumulation error shows:
// f32 accumulation (DeepSeek's fp8_gemm), and an emulated 14-mantissa-bit accumulator with and
// without promotion to f32 every 128 elements, rounding to nearest even or truncating.
//
// Main table: uniform positive inputs U[0, 1). Every product is positive, so the running sum
// grows with K and each new product is ever smaller next to it: the limited accumulator's loss
// grows with K without the cancellations of signed data — V3's setting, and the clearest view.
// A second table repeats it on Gaussian inputs. Runs on the GPU; the CPU reference repeats one K
// as a cross-check (same codes, same f32 operation order: the numbers should agree).
//   node --import tsx --import ./scripts/register-raw.mjs scripts/fp8-accum-experiment.ts
import { CpuBackend } from '../src/backends/cpu/backend';
import { createNodeBackend } from '../src/backends/webgpu/node';
import { accumExperiment, formatAccumTable } from '../src/lowp/accum';

const Ks = [256, 512, 1024, 2048, 4096];
const gpu = await createNodeBackend();
console.log(`adapter: ${gpu.deviceLabel}`);
console.log(
  'E4M3, block 128, f32 scales; M = N = 64; error = ‖C − C_f64‖_F / ‖C_f64‖_F, C_f64 = exact product of the dequantized inputs\n',
);

const uniform = await accumExperiment(gpu, Ks, { dist: 'uniform' });
console.log('inputs U[0, 1) (all products positive):');
console.log(formatAccumTable(uniform));

console.log('\ninputs N(0, 1):');
console.log(formatAccumTable(await accumExperiment(gpu, Ks, { dist: 'normal' })));

const Kx = 1024;
const cpuRows = await accumExperiment(new CpuBackend(), [Kx], { dist: 'uniform' });
console.log(`\ncross-check, U[0, 1) at K = ${Kx}: CPU reference (f32-emulated) vs GPU`);
console.log(
  formatAccumTable([...cpuRows, ...uniform.filter((r) => r.K === Kx)], { labels: [`${Kx} cpu`, `${Kx} gpu`] }),
);
process.exit(0);
