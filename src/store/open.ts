import type { Clock } from '../core/clock.ts';
import type { LifelineConfig } from '../core/config.ts';
import type { Store } from './port.ts';
import { openPostgresStore } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';

/** The `store` section of the configuration. */
export type StoreConfig = LifelineConfig['store'];

/** Opens the Store a configuration names (migrating it to the latest schema). */
export function openStore(config: StoreConfig, opts: { clock?: Clock } = {}): Promise<Store> {
  const clock = opts.clock === undefined ? {} : { clock: opts.clock };
  return config.driver === 'sqlite'
    ? openSqliteStore({ path: config.path, ...clock })
    : openPostgresStore({ url: config.url, ...clock });
}

/**
 * Reads a `--store` value: a `postgres://` or `postgresql://` URL selects PostgreSQL,
 * anything else is a SQLite file path.
 */
export function storeConfigFromArg(value: string): StoreConfig {
  return /^postgres(ql)?:\/\//i.test(value)
    ? { driver: 'postgres', url: value }
    : { driver: 'sqlite', path: value };
}
