import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LifelineError, errorMessage } from '../core/errors.ts';
import type { StoreDriver } from './port.ts';

/**
 * Versioned schema migrations, in code so they ship inside the build. Names sort in order;
 * a released migration is never edited — add the next one instead. `driver` picks the few
 * types that differ (auto-increment keys).
 */
export function migrations(driver: StoreDriver): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('workflow_runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('workflow', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('output', 'text')
          .addColumn('error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_ticket', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_expires_at', 'bigint')
          .execute();
        await db.schema.createIndex('workflow_runs_status').on('workflow_runs').columns(['status']).execute();
        await db.schema
          .createIndex('workflow_runs_created')
          .on('workflow_runs')
          .columns(['created_at'])
          .execute();

        await db.schema
          .createTable('workflow_steps')
          .addColumn('run_id', 'text', (c) => c.notNull().references('workflow_runs.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('idx', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('output', 'text')
          .addColumn('error', 'text')
          .addColumn('started_at', 'bigint')
          .addColumn('finished_at', 'bigint')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('workflow_steps_pk', ['run_id', 'name'])
          .execute();

        await db.schema
          .createTable('workflow_approvals')
          .addColumn('run_id', 'text', (c) => c.notNull().references('workflow_runs.id').onDelete('cascade'))
          .addColumn('step', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('summary', 'text')
          .addColumn('requested_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('decided_at', 'bigint')
          .addColumn('decided_by', 'text')
          .addColumn('reason', 'text')
          .addPrimaryKeyConstraint('workflow_approvals_pk', ['run_id', 'step'])
          .execute();
        await db.schema
          .createIndex('workflow_approvals_status')
          .on('workflow_approvals')
          .columns(['status'])
          .execute();

        await db.schema
          .createTable('journal')
          .addColumn('seq', driver === 'postgres' ? 'bigserial' : 'integer', (c) =>
            driver === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('stream', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('journal_stream_seq').on('journal').columns(['stream', 'seq']).execute();

        await db.schema
          .createTable('kv_entries')
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint')
          .addPrimaryKeyConstraint('kv_entries_pk', ['namespace', 'key'])
          .execute();
      },
    },
  };
}

/** Table names kysely's Migrator uses for its bookkeeping. */
export const MIGRATION_TABLE = 'lifeline_migrations';
export const MIGRATION_LOCK_TABLE = 'lifeline_migrations_lock';

/** Brings the schema to the latest version; `where` names the database in errors. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  driver: StoreDriver,
  where: string,
): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations(driver)) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new LifelineError(
      'store.migrate',
      `cannot migrate the ${driver} store${failed === undefined ? '' : ` (migration ${failed})`}: ${errorMessage(error)}`,
      {
        where,
        fix: 'check the database is reachable and writable, and that it was not created by a newer Lifeline version',
        cause: error,
      },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
