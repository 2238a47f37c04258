import { describe, expect, it } from 'vitest';
import { benchDoneText, benchEtaMs, benchProgressText, fmtSeconds } from './progress';

describe('bench page progress', () => {
  it('says which case of how many runs, with no ETA before the first case ends', () => {
    const p = { total: 12, doneMs: [], current: 'matmul_f32_256', stopping: false };
    expect(benchProgressText(p, 5000)).toBe('case 1 of 12 (matmul_f32_256) · ETA after the first case');
    expect(benchEtaMs(p, 5000)).toBeNull();
  });

  it('projects the cases left from the mean of those done, less what the current one has run', () => {
    const p = { total: 5, doneMs: [10_000, 30_000], current: 'fp8_gemm_256', stopping: false };
    // mean 20 s × 3 cases left (the current one included) − 5 s it has run
    expect(benchEtaMs(p, 5000)).toBe(55_000);
    expect(benchProgressText(p, 5000)).toBe(
      'case 3 of 5 (fp8_gemm_256) · ETA ≈ 55s (from 2 cases done; cases differ in cost)',
    );
    expect(benchEtaMs(p, 200_000)).toBe(0);
  });

  it('says what Stop waits for, and how many cases ran at the end', () => {
    const p = { total: 5, doneMs: [1000, 2000], current: 'moe_fwd', stopping: true };
    expect(benchProgressText(p, 0)).toBe(
      'case 3 of 5 (moe_fwd) · stopping after this case; the results so far are kept',
    );
    expect(benchDoneText({ ...p, doneMs: [1000, 2000, 3000], current: null }, 7400)).toBe(
      '3 of 5 cases run in 7s, stopped',
    );
    expect(benchDoneText({ total: 1, doneMs: [9000], current: null, stopping: false }, 12_000)).toBe(
      '1 of 1 case run in 12s',
    );
  });

  it('formats durations', () => {
    expect(fmtSeconds(59.4)).toBe('59s');
    expect(fmtSeconds(185)).toBe('3m 05s');
    expect(fmtSeconds(3720)).toBe('1h 02m');
  });
});
