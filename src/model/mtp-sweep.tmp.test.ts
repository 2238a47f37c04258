import { it } from 'vitest';
import { mtpChecks } from '../check/mtp';
import { runCheck } from '../check/harness';
import { cpu, gpuBackend } from '../test/gpu';
it('sweep', async () => {
  const gpu = await gpuBackend();
  const worst = { f: 0, b: 0, d: 0 };
  for (let seed = 1; seed <= 60; seed++) {
    for (const r of await runCheck(mtpChecks[0], seed, cpu, gpu)) {
      worst.f = Math.max(worst.f, r.forwardErr); worst.b = Math.max(worst.b, r.backwardErr!); worst.d = Math.max(worst.d, r.finiteDiffErr!);
      console.log(`${r.ok ? 'ok ' : 'BAD'} seed ${seed} ${r.desc}: fwd ${r.forwardErr.toExponential(2)} bwd ${r.backwardErr?.toExponential(2)} fd ${r.finiteDiffErr?.toExponential(2)}`);
    }
  }
  console.log('WORST ' + JSON.stringify(worst));
}, 3_000_000);
