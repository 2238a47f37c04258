// The run history in the browser's IndexedDB (through `idb`): one database with two object
// stores, 'runs' (RunRecord, keyed by its id) and 'checkpoints' (the run's final checkpoint as
// safetensors bytes, keyed by the run id). Records survive page reloads.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunRecord } from './runfile';

interface LabDB extends DBSchema {
  runs: { key: string; value: RunRecord };
  checkpoints: { key: string; value: Uint8Array };
}

const DB_VERSION = 1;

export class RunStore {
  private constructor(private readonly db: IDBPDatabase<LabDB>) {}

  static async open(dbName = 'v3lab'): Promise<RunStore> {
    const db = await openDB<LabDB>(dbName, DB_VERSION, {
      upgrade(db) {
        if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('checkpoints')) db.createObjectStore('checkpoints');
      },
    });
    return new RunStore(db);
  }

  /** All runs, newest first. */
  async list(): Promise<RunRecord[]> {
    const runs = await this.db.getAll('runs');
    return runs.sort((a, b) => b.createdAt - a.createdAt);
  }

  get(id: string): Promise<RunRecord | undefined> {
    return this.db.get('runs', id);
  }

  async put(run: RunRecord): Promise<void> {
    await this.db.put('runs', run);
  }

  /** Remove a run and its checkpoint together. */
  async delete(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'checkpoints'], 'readwrite');
    await Promise.all([tx.objectStore('runs').delete(id), tx.objectStore('checkpoints').delete(id), tx.done]);
  }

  async putCheckpoint(id: string, bytes: Uint8Array): Promise<void> {
    // Structured clone stores a view's whole underlying buffer; store just these bytes.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    await this.db.put('checkpoints', own, id);
  }

  getCheckpoint(id: string): Promise<Uint8Array | undefined> {
    return this.db.get('checkpoints', id);
  }

  close(): void {
    this.db.close();
  }
}
