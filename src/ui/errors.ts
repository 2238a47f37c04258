// Error text and classification for errors from the worker (comlink keeps name and message).

/** Text for an error thrown in the worker (comlink keeps name and message) or the page. */
export function describeError(err: unknown): string {
  if (err instanceof Error || (typeof err === 'object' && err !== null && 'message' in err)) {
    const e = err as { name?: string; message?: string };
    const name = e.name && !['Error', 'ConfigError'].includes(e.name) ? `${e.name}: ` : '';
    return `${name}${e.message || 'unknown error'}`;
  }
  return String(err);
}

export const errName = (err: unknown) =>
  typeof err === 'object' && err !== null ? (err as { name?: string }).name : undefined;
const errMessage = (err: unknown) =>
  typeof err === 'object' && err !== null ? String((err as { message?: string }).message ?? '') : String(err);

export function isDeviceLost(err: unknown): boolean {
  return errName(err) === 'DeviceLostError' || errMessage(err).startsWith('GPU device lost');
}
