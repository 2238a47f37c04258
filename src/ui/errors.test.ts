import { describe, expect, it } from 'vitest';
import { describeError, isDeviceLost } from './errors';

describe('errors', () => {
  it('recognizes device loss by name or message (comlink keeps both)', () => {
    expect(isDeviceLost({ name: 'DeviceLostError', message: 'x' })).toBe(true);
    expect(isDeviceLost(new Error('GPU device lost (destroyed): gone'))).toBe(true);
    expect(isDeviceLost(new Error('out of memory'))).toBe(false);
  });

  it('describes errors with their class unless it is plain or a config error', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError({ name: 'ConfigError', message: 'optim.lr: bad' })).toBe('optim.lr: bad');
    expect(describeError({ name: 'RunFileError', message: 'seed: expected number' })).toBe(
      'RunFileError: seed: expected number',
    );
    expect(describeError(42)).toBe('42');
  });
});
