// The module checks (the MoE layer, MLA, MTP: whole modules built from ops that ops.test.ts
// checks one by one), GPU vs CPU and by finite differences, seeds 1..2. A file of their own, so
// they run beside ops.test.ts.
import { describe, expect, it } from 'vitest';
import { cpu, gpuBackend } from '../test/gpu';
import { formatResult, runCheck, worstErrors, type CheckResult } from './harness';
import { MODULE_CHECKS } from './index';

describe('module checks (GPU vs CPU float64 reference, finite differences)', () => {
  for (const check of MODULE_CHECKS) {
    it(check.name, async () => {
      const gpu = await gpuBackend();
      const results: CheckResult[] = [];
      for (const seed of [1, 2]) results.push(...(await runCheck(check, seed, cpu, gpu)));
      for (const r of results) expect.soft(r.ok, formatResult(r)).toBe(true);
      console.log(worstErrors(check, results));
    });
  }
});
