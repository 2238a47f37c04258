// Finding results kept in the browser's IndexedDB (through `idb`, as the run history is kept in
// lab/runstore.ts), keyed by (finding, config, seeds, adapter): `config` is a hash of the arms'
// full configs at the size run, so a retuned preset is a new key and an old result is never
// passed off as the new experiment's. A database of its own, so the run history's schema is
// untouched. Without IndexedDB the view keeps results in memory only.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { armConfig } from '../../findings/train';
import { findFinding, type JudgedResult } from '../../findings';

export interface CachedFinding {
  key: string;
  finding: string;
  config: string;
  seeds: number[];
  quick: boolean;
  adapter: string;
  savedAt: number;
  result: JudgedResult;
}

interface FindingsDB extends DBSchema {
  results: { key: string; value: CachedFinding };
}

/** FNV-1a of a string, as 8 hex digits. */
export function hashText(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The hash of what a finding runs at a size: its arms' full configs (none for a simulator or a kernel table). */
export function configKey(name: string, quick: boolean): string {
  const f = findFinding(name);
  if (!f) return 'unknown';
  const arms = f.experiment(quick).map((a) => [a.arm, armConfig(a)]);
  return hashText(JSON.stringify([name, quick, f.sizes, arms]));
}

export function cacheKey(name: string, config: string, seeds: readonly number[], adapter: string): string {
  return `${name}|${config}|${seeds.join(',')}|${adapter}`;
}

export class FindingCache {
  private db: Promise<IDBPDatabase<FindingsDB> | null> | null = null;
  private readonly memory = new Map<string, CachedFinding>();

  constructor(private readonly dbName = 'v3lab-findings') {}

  private open(): Promise<IDBPDatabase<FindingsDB> | null> {
    this.db ??= (
      typeof indexedDB === 'undefined'
        ? Promise.resolve(null)
        : openDB<FindingsDB>(this.dbName, 1, {
            upgrade(db) {
              if (!db.objectStoreNames.contains('results')) db.createObjectStore('results', { keyPath: 'key' });
            },
          })
    ).catch(() => null);
    return this.db;
  }

  async put(rec: CachedFinding): Promise<void> {
    this.memory.set(rec.key, rec);
    const db = await this.open();
    await db?.put('results', rec).catch(() => undefined);
  }

  /** The newest result of (finding, config, seeds) on any adapter. */
  async latest(name: string, config: string, seeds: readonly number[]): Promise<CachedFinding | null> {
    const db = await this.open();
    const all = db ? await db.getAll('results').catch(() => [...this.memory.values()]) : [...this.memory.values()];
    const want = seeds.join(',');
    const hits = all.filter((r) => r.finding === name && r.config === config && r.seeds.join(',') === want);
    return hits.sort((a, b) => b.savedAt - a.savedAt)[0] ?? null;
  }
}
