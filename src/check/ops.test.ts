// Every op family's check, run once in the suite (the family test files in src/backends hold the
// targeted extras): GPU vs CPU forward and backward, and CPU backward vs finite differences, for
// seeds 1..3, each at the check's shape regimes (tiny, odd non-multiples of the tiles, larger).
// A new family's checks run here from their line in families.ts.
import { describe, expect, it } from 'vitest';
import { cpu, gpuBackend } from '../test/gpu';
import { formatResult, runCheck, worstErrors, type CheckResult } from './harness';
import { FAMILY_CHECKS } from './index';

describe('op checks (GPU vs CPU float64 reference, finite differences)', () => {
  for (const check of FAMILY_CHECKS) {
    it(check.name, async () => {
      const gpu = await gpuBackend();
      const results: CheckResult[] = [];
      for (const seed of [1, 2, 3]) results.push(...(await runCheck(check, seed, cpu, gpu)));
      for (const r of results) expect.soft(r.ok, formatResult(r)).toBe(true);
      console.log(worstErrors(check, results));
    });
  }
});
