// Number formatting for the page: losses, counts, bytes, FLOPs, durations.

export function fmtLoss(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** 1234 → "1,234"; 1.5e6 → "1.50 M" (SI suffixes from 10^6 on). */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
  ];
  for (const [v, s] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${s}`;
  return Math.round(n).toLocaleString('en-US');
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function fmtFlops(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units: Array<[number, string]> = [
    [1e12, 'TFLOP'],
    [1e9, 'GFLOP'],
    [1e6, 'MFLOP'],
    [1e3, 'kFLOP'],
  ];
  for (const [v, s] of units) if (n >= v) return `${(n / v).toFixed(2)} ${s}`;
  return `${Math.round(n)} FLOP`;
}

export function fmtDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function fmtRate(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}

/** A config value for tables: compact numbers, strings as they are (long ones cut). */
export function fmtValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  const s = String(v);
  return s.length > 24 ? `${s.slice(0, 21)}…` : s;
}

/** A config path's short name for labels: "optim.lr" → "lr". */
export function fieldKey(path: string): string {
  return path.slice(path.indexOf('.') + 1);
}
