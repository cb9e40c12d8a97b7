import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { systemClock, type Clock } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { migrateToLatest } from './migrations.ts';
import type { Store } from './port.ts';
import type { Database } from './schema.ts';
import { SqlStore } from './sql-store.ts';

/** Options for {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Time source for leases, TTLs and timestamps. Default: the system clock. */
  clock?: Clock;
}

const INT8_OID = 20;

/** Our int8 columns hold epoch milliseconds and counters, all well inside 2^53. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (v: string) => Number(v)
      : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(
          oid,
          format,
        )) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL with its password replaced, safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable postgres url>';
  }
}

/** Opens (and migrates) the PostgreSQL store: the scale option, shared by many replicas. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const where = redactUrl(opts.url);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    types,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener that
  // would crash the process. The next query reports the problem instead.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'postgres', where);
  } catch (err) {
    await db.destroy();
    if (err instanceof LifelineError) throw err;
    throw new LifelineError('store.connect', `cannot use the PostgreSQL store: ${(err as Error).message}`, {
      where,
      fix: 'check the server is running and the URL (host, port, database, credentials) is right',
      cause: err,
    });
  }
  return new SqlStore(db, 'postgres', opts.clock ?? systemClock, () => Promise.resolve());
}
