// Vitest global setup: find out, once, which adapter the WGSL will run on and print it.
// Fails the whole run with install instructions if there is none.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  const probe = `
    const { DRIVER_CHOICE, nodeGpu, NO_ADAPTER_HELP } = await import('./src/backends/webgpu/node.ts');
    const { describeAdapter } = await import('./src/backends/webgpu/device.ts');
    const a = await nodeGpu().requestAdapter();
    if (!a) { console.log('NONE ' + NO_ADAPTER_HELP + ' (driver choice: ' + DRIVER_CHOICE + ')'); process.exit(0); }
    console.log('OK ' + describeAdapter(a) + ' via ' + DRIVER_CHOICE + '; features: ' + [...a.features].filter(f => ['shader-f16','subgroups','timestamp-query'].includes(f)).join(', '));
    process.exit(0);
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  const line = out.split('\n').pop() ?? '';
  if (!line.startsWith('OK ')) {
    throw new Error(line.replace(/^NONE /, '') || 'could not probe for a WebGPU adapter');
  }
  console.log(`\n[v3lab tests] WebGPU adapter: ${line.slice(3)}\n`);
}
