import { describe, expect, it } from 'vitest';
import { fmtBytes, fmtCount, fmtDuration, fmtFlops, fmtLoss, fmtValue } from './format';

describe('format', () => {
  it('formats the progress numbers', () => {
    expect(fmtLoss(2.345678)).toBe('2.3457');
    expect(fmtLoss(null)).toBe('–');
    expect(fmtDuration(59.4)).toBe('59s');
    expect(fmtDuration(125)).toBe('2m 05s');
    expect(fmtDuration(3 * 3600 + 60)).toBe('3h 01m');
    expect(fmtDuration(null)).toBe('–');
  });

  it('formats the derived figures', () => {
    expect(fmtCount(85696)).toBe('85,696');
    expect(fmtCount(1_234_567)).toBe('1.23 M');
    expect(fmtBytes(1024)).toBe('1.00 KiB');
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtFlops(183_940)).toBe('183.94 kFLOP');
    expect(fmtFlops(2.5e9)).toBe('2.50 GFLOP');
  });

  it('keeps table values short', () => {
    expect(fmtValue(0.1 + 0.2)).toBe('0.3');
    expect(fmtValue(64)).toBe('64');
    expect(fmtValue('x'.repeat(40))).toHaveLength(22);
  });
});
