import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { sleep, systemClock, type Clock } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { migrateToLatest } from './migrations.ts';
import type { Store } from './port.ts';
import type { Database } from './schema.ts';
import { SqlStore, type SyncExecutor } from './sql-store.ts';

/** Options for {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; its directory is created. `:memory:` gives a private in-memory store. */
  path: string;
  /** How long a writer waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Time source for leases, TTLs and timestamps. Default: the system clock. */
  clock?: Clock;
}

/**
 * Opens (creating and migrating) the embedded SQLite store: WAL journal so readers never
 * block the writer, `busy_timeout` so several processes (CLI, server, workers) can share
 * the file, `synchronous=NORMAL` (durable at checkpoints, never corrupt).
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  let sqlite: BetterSqlite3.Database;
  try {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    sqlite = new BetterSqlite3(opts.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    throw new LifelineError('store.open', `cannot open the SQLite store: ${(err as Error).message}`, {
      where: opts.path,
      fix: 'check the path is a writable file location (or pass --store / store.path to another one)',
      cause: err,
    });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    // Two processes migrating a fresh file at once: the loser gets SQLITE_BUSY (a deferred
    // transaction cannot wait for the write lock), then finds the schema up to date.
    for (let attempt = 1; ; attempt++) {
      try {
        await migrateToLatest(db as Kysely<unknown>, 'sqlite', opts.path);
        break;
      } catch (err) {
        const code = (err as { cause?: { code?: unknown } }).cause?.code;
        if (attempt >= 10 || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) throw err;
        await sleep(50 * attempt);
      }
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const sync: SyncExecutor = {
    transaction: (fn) => sqlite.transaction(fn).immediate(),
    execute: (query) => {
      const statement = sqlite.prepare(query.sql);
      const params = query.parameters as unknown[];
      if (statement.reader) return statement.all(...params);
      statement.run(...params);
      return [];
    },
  };
  return new SqlStore(db, 'sqlite', opts.clock ?? systemClock, () => Promise.resolve(), sync);
}
