// Every op: GPU vs CPU forward and backward, and CPU backward vs finite differences,
// at three shape regimes per seed (tiny, odd non-multiples of the tiles, larger).
import { describe, expect, it } from 'vitest';
import { cpu, gpuBackend } from '../test/gpu';
import { runCheck } from './harness';
import { OP_CHECKS } from './index';

describe('op checks (GPU vs CPU float64 reference, finite differences)', () => {
  for (const check of OP_CHECKS) {
    it(check.name, async () => {
      const gpu = await gpuBackend();
      for (const seed of [1, 2]) {
        const results = await runCheck(check, seed, cpu, gpu);
        for (const r of results) {
          expect
            .soft(
              r.ok,
              `${r.op} ${r.desc}: fwd ${r.forwardErr.toExponential(2)} bwd ${r.backwardErr?.toExponential(2)} fd ${r.finiteDiffErr?.toExponential(2)}`,
            )
            .toBe(true);
        }
      }
    });
  }
});
