export * from './types.ts';
export * from './port.ts';
export { openStore, storeConfigFromArg, type StoreConfig } from './open.ts';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite.ts';
export { openPostgresStore, redactUrl, type PostgresStoreOptions } from './postgres.ts';
export { kvUpdate } from './kv-update.ts';
export { migrations, migrateToLatest } from './migrations.ts';
