import type { CompiledQuery, Kysely, Updateable } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { encodeJson, toApproval, toJournal, toKv, toRun, toStep } from './codec.ts';
import {
  runStream,
  type CreateRunResult,
  type KvPutOptions,
  type NewRun,
  type RunFilter,
  type RunPatch,
  type StepPatch,
  type Store,
  type StoreDriver,
} from './port.ts';
import type { ApprovalsTable, Database, RunsTable, StepsTable } from './schema.ts';
import {
  ACTIVE_RUN_STATUSES,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  type DecideApprovalResult,
  type JournalEntry,
  type JournalInput,
  type JsonValue,
  type KvEntry,
  type Lease,
  type RunRecord,
  type StepRecord,
} from './types.ts';

type Db = Kysely<Database>;

/** Something kysely can compile: every query builder. */
interface Compilable {
  compile(): CompiledQuery;
}

/** Synchronous execution on the SQLite connection (better-sqlite3), for transactions. */
export interface SyncExecutor {
  /** Runs `fn` in `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws). */
  transaction<T>(fn: () => T): T;
  /** Runs one compiled query and returns its rows (empty for statements without rows). */
  execute(query: CompiledQuery): unknown[];
}

/** Yields a query to the transaction runner and returns its rows, typed. */
function* rows<Row>(query: Compilable): Generator<Compilable, Row[], unknown[]> {
  return (yield query) as Row[];
}

/** The insert of one journal entry (returns the row). */
function journalInsert(db: Db, stream: string, entry: JournalInput, now: number): Compilable {
  return db
    .insertInto('journal')
    .values({ stream, type: entry.type, at: now, data: encodeJson(entry.data ?? null) })
    .returningAll();
}

/**
 * The Store on any kysely dialect. SQLite and PostgreSQL share every query; the one
 * difference is that PostgreSQL fenced writes lock the run row (`FOR SHARE`) so a claim
 * committing concurrently cannot slip between the ticket check and the write. SQLite has a
 * single writer, so its statements are already serialised.
 */
export class SqlStore implements Store {
  readonly driver: StoreDriver;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #onClose: () => Promise<void>;
  readonly #sync: SyncExecutor | undefined;

  constructor(db: Db, driver: StoreDriver, clock: Clock, onClose: () => Promise<void>, sync?: SyncExecutor) {
    this.#db = db;
    this.#sync = sync;
    this.driver = driver;
    this.#clock = clock;
    this.#onClose = onClose;
  }

  /**
   * Runs a multi-statement body atomically. The body is a generator that yields queries and
   * receives their rows, so one body serves both engines: on SQLite it runs synchronously
   * inside `BEGIN IMMEDIATE` (no other JavaScript can run in between, so two connections in
   * one process never wait on each other while the event loop is blocked by better-sqlite3's
   * synchronous busy wait; the write lock is taken up front so busy_timeout applies); on
   * PostgreSQL it runs in a kysely transaction.
   */
  #transaction<R>(body: (db: Db) => Generator<Compilable, R, unknown[]>): Promise<R> {
    const sync = this.#sync;
    if (sync !== undefined) {
      try {
        return Promise.resolve(
          sync.transaction(() => {
            const gen = body(this.#db);
            let next = gen.next([]);
            while (next.done !== true) next = gen.next(sync.execute(next.value.compile()));
            return next.value;
          }),
        );
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return this.#db.transaction().execute(async (trx) => {
      const gen = body(trx);
      let next = gen.next([]);
      while (next.done !== true) next = gen.next((await trx.executeQuery(next.value.compile())).rows);
      return next.value;
    });
  }

  async close(): Promise<void> {
    await this.#db.destroy();
    await this.#onClose();
  }

  // ---- runs -------------------------------------------------------------------------------

  async createRun(input: NewRun): Promise<CreateRunResult> {
    const now = this.#clock.now();
    const id = input.id ?? newId('run');
    const lease = input.lease;
    const row = await this.#db
      .insertInto('workflow_runs')
      .values({
        id,
        workflow: input.workflow,
        status: 'pending',
        input: encodeJson(input.input),
        output: null,
        error: null,
        created_at: now,
        updated_at: now,
        finished_at: null,
        lease_owner: lease?.owner ?? null,
        lease_ticket: lease === undefined ? 0 : 1,
        lease_expires_at: lease === undefined ? null : now + lease.ms,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) {
      const existing = await this.getRun(id);
      if (existing === undefined) throw new Error(`run ${id} neither inserted nor found`);
      return { run: existing, created: false };
    }
    const run = toRun(row);
    if (lease === undefined) return { run, created: true };
    return {
      run,
      created: true,
      lease: { runId: id, owner: lease.owner, ticket: run.leaseTicket, expiresAt: run.leaseExpiresAt ?? now },
    };
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflow_runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    let q = this.#db.selectFrom('workflow_runs').selectAll();
    if (filter.status !== undefined) {
      if (filter.status.length === 0) return [];
      q = q.where('status', 'in', [...filter.status]);
    }
    if (filter.workflow !== undefined) q = q.where('workflow', '=', filter.workflow);
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(toRun);
  }

  async listResumableRuns(
    opts: { workflows?: readonly string[]; limit?: number } = {},
  ): Promise<RunRecord[]> {
    const now = this.#clock.now();
    let q = this.#db
      .selectFrom('workflow_runs')
      .selectAll()
      .where('status', 'in', [...ACTIVE_RUN_STATUSES])
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]));
    if (opts.workflows !== undefined) {
      if (opts.workflows.length === 0) return [];
      q = q.where('workflow', 'in', [...opts.workflows]);
    }
    const rows = await q
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(opts.limit ?? 100)
      .execute();
    return rows.map(toRun);
  }

  async claimRun(runId: string, owner: string, leaseMs: number): Promise<Lease | undefined> {
    const now = this.#clock.now();
    const row = await this.#db
      .updateTable('workflow_runs')
      .set((eb) => ({
        lease_owner: owner,
        lease_ticket: eb('lease_ticket', '+', 1),
        lease_expires_at: now + leaseMs,
        updated_at: now,
      }))
      .where('id', '=', runId)
      .where('status', 'in', [...ACTIVE_RUN_STATUSES])
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .returning(['lease_ticket', 'lease_expires_at'])
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return { runId, owner, ticket: row.lease_ticket, expiresAt: row.lease_expires_at ?? now + leaseMs };
  }

  async renewLease(lease: Lease, leaseMs: number): Promise<Lease | undefined> {
    const expiresAt = this.#clock.now() + leaseMs;
    const result = await this.#db
      .updateTable('workflow_runs')
      .set({ lease_expires_at: expiresAt })
      .where('id', '=', lease.runId)
      .where('lease_ticket', '=', lease.ticket)
      .where('status', 'in', [...ACTIVE_RUN_STATUSES])
      .executeTakeFirst();
    return result.numUpdatedRows === 1n ? { ...lease, expiresAt } : undefined;
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    const result = await this.#db
      .updateTable('workflow_runs')
      .set({ lease_expires_at: null })
      .where('id', '=', lease.runId)
      .where('lease_ticket', '=', lease.ticket)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async updateRun(lease: Lease, patch: RunPatch, event?: JournalInput): Promise<RunRecord | undefined> {
    const now = this.#clock.now();
    const set: Updateable<RunsTable> = { updated_at: now };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.output !== undefined) set.output = patch.output === null ? null : encodeJson(patch.output);
    if (patch.error !== undefined) set.error = patch.error === null ? null : JSON.stringify(patch.error);
    if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
    if (patch.release === true) set.lease_expires_at = null;
    return this.#transaction(function* (db) {
      const [row] = yield* rows<RunsTable>(
        db
          .updateTable('workflow_runs')
          .set(set)
          .where('id', '=', lease.runId)
          .where('lease_ticket', '=', lease.ticket)
          .returningAll(),
      );
      if (row === undefined) return undefined;
      if (event !== undefined) yield* rows(journalInsert(db, runStream(lease.runId), event, now));
      return toRun(row);
    });
  }

  // ---- steps ------------------------------------------------------------------------------

  async ensureSteps(runId: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const now = this.#clock.now();
    await this.#db
      .insertInto('workflow_steps')
      .values(
        names.map((name, idx) => ({
          run_id: runId,
          name,
          idx,
          status: 'pending',
          attempts: 0,
          failures: 0,
          output: null,
          error: null,
          started_at: null,
          finished_at: null,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['run_id', 'name']).doNothing())
      .execute();
  }

  async listSteps(runId: string): Promise<StepRecord[]> {
    const rows = await this.#db
      .selectFrom('workflow_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('idx', 'asc')
      .execute();
    return rows.map(toStep);
  }

  async updateStep(
    lease: Lease,
    step: string,
    patch: StepPatch,
    event?: (updated: StepRecord) => JournalInput,
  ): Promise<StepRecord | undefined> {
    const now = this.#clock.now();
    const set: Updateable<StepsTable> = { updated_at: now };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.output !== undefined) set.output = patch.output === null ? null : encodeJson(patch.output);
    if (patch.error !== undefined) set.error = patch.error === null ? null : JSON.stringify(patch.error);
    if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
    if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
    const fence = (db: Db) => this.#fence(db, lease);
    return this.#transaction(function* (db) {
      const [row] = yield* rows<StepsTable>(
        db
          .updateTable('workflow_steps')
          .set((eb) => ({
            ...set,
            ...(patch.addAttempt === true ? { attempts: eb('attempts', '+', 1) } : {}),
            ...(patch.addFailure === true ? { failures: eb('failures', '+', 1) } : {}),
          }))
          .where('run_id', '=', lease.runId)
          .where('name', '=', step)
          .where((eb) => eb.exists(fence(db)))
          .returningAll(),
      );
      if (row === undefined) return undefined;
      const updated = toStep(row);
      if (event !== undefined) yield* rows(journalInsert(db, runStream(lease.runId), event(updated), now));
      return updated;
    });
  }

  /** A subquery that finds the run only while `lease` still holds its ticket. */
  #fence(db: Db, lease: Lease) {
    const q = db
      .selectFrom('workflow_runs')
      .select('id')
      .where('id', '=', lease.runId)
      .where('lease_ticket', '=', lease.ticket);
    return this.driver === 'postgres' ? q.forShare() : q;
  }

  // ---- approvals --------------------------------------------------------------------------

  async requestApproval(req: {
    runId: string;
    step: string;
    ttlMs: number;
    summary?: string;
  }): Promise<ApprovalRecord> {
    const now = this.#clock.now();
    await this.#db
      .insertInto('workflow_approvals')
      .values({
        run_id: req.runId,
        step: req.step,
        status: 'pending',
        summary: req.summary ?? null,
        requested_at: now,
        expires_at: now + req.ttlMs,
        decided_at: null,
        decided_by: null,
        reason: null,
      })
      .onConflict((oc) => oc.columns(['run_id', 'step']).doNothing())
      .execute();
    const approval = await this.getApproval(req.runId, req.step);
    if (approval === undefined)
      throw new Error(`approval ${req.runId}/${req.step} neither inserted nor found`);
    return approval;
  }

  async getApproval(runId: string, step: string): Promise<ApprovalRecord | undefined> {
    const row = await this.#db
      .selectFrom('workflow_approvals')
      .selectAll()
      .where('run_id', '=', runId)
      .where('step', '=', step)
      .executeTakeFirst();
    return row === undefined ? undefined : this.#effective(toApproval(row));
  }

  async listApprovals(filter: { runId?: string; status?: ApprovalStatus } = {}): Promise<ApprovalRecord[]> {
    const now = this.#clock.now();
    let q = this.#db.selectFrom('workflow_approvals').selectAll();
    if (filter.runId !== undefined) q = q.where('run_id', '=', filter.runId);
    const status = filter.status;
    if (status === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', now);
    else if (status === 'expired') {
      q = q.where((eb) =>
        eb.or([
          eb('status', '=', 'expired'),
          eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)]),
        ]),
      );
    } else if (status !== undefined) q = q.where('status', '=', status);
    const rows = await q.orderBy('requested_at', 'asc').orderBy('step', 'asc').execute();
    return rows.map((r) => this.#effective(toApproval(r)));
  }

  /** A pending gate past its TTL reads as expired (persisted lazily by the next decision). */
  #effective(approval: ApprovalRecord): ApprovalRecord {
    return approval.status === 'pending' && approval.expiresAt <= this.#clock.now()
      ? { ...approval, status: 'expired' }
      : approval;
  }

  async decideApproval(req: {
    runId: string;
    step: string;
    decision: ApprovalDecision;
    by: string;
    reason?: string;
  }): Promise<DecideApprovalResult> {
    const now = this.#clock.now();
    return this.#transaction(function* (db): Generator<Compilable, DecideApprovalResult, unknown[]> {
      // Persist expiry first, so a late decision finds the gate expired, not pending.
      yield* rows(
        db
          .updateTable('workflow_approvals')
          .set({ status: 'expired' })
          .where('status', '=', 'pending')
          .where('expires_at', '<=', now),
      );
      const [row] = yield* rows<ApprovalsTable>(
        db
          .updateTable('workflow_approvals')
          .set({ status: req.decision, decided_at: now, decided_by: req.by, reason: req.reason ?? null })
          .where('run_id', '=', req.runId)
          .where('step', '=', req.step)
          .where('status', '=', 'pending')
          .returningAll(),
      );
      if (row !== undefined) {
        const data = {
          step: req.step,
          by: req.by,
          ...(req.reason === undefined ? {} : { reason: req.reason }),
        };
        yield* rows(journalInsert(db, runStream(req.runId), { type: `approval.${req.decision}`, data }, now));
        return { outcome: 'decided', approval: toApproval(row) };
      }
      const [existing] = yield* rows<ApprovalsTable>(
        db
          .selectFrom('workflow_approvals')
          .selectAll()
          .where('run_id', '=', req.runId)
          .where('step', '=', req.step),
      );
      if (existing === undefined) return { outcome: 'not-found' };
      const approval = toApproval(existing);
      return { outcome: approval.status === 'expired' ? 'expired' : 'already-decided', approval };
    });
  }

  // ---- journal ----------------------------------------------------------------------------

  append(stream: string, entry: JournalInput): Promise<JournalEntry> {
    return appendWith(this.#db, stream, entry, this.#clock.now());
  }

  async read(stream: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<JournalEntry[]> {
    const rows = await this.#db
      .selectFrom('journal')
      .selectAll()
      .where('stream', '=', stream)
      .where('seq', '>', opts.afterSeq ?? 0)
      .orderBy('seq', 'asc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(toJournal);
  }

  // ---- key-value --------------------------------------------------------------------------

  async kvGet(namespace: string, key: string): Promise<KvEntry | undefined> {
    const now = this.#clock.now();
    const row = await this.#db
      .selectFrom('kv_entries')
      .selectAll()
      .where('namespace', '=', namespace)
      .where('key', '=', key)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    return row === undefined ? undefined : toKv(row);
  }

  async kvPut(
    namespace: string,
    key: string,
    value: JsonValue,
    opts: KvPutOptions = {},
  ): Promise<KvEntry | undefined> {
    const now = this.#clock.now();
    const text = encodeJson(value);
    const expiresAt = opts.ttlMs === undefined ? null : now + opts.ttlMs;
    const expect = opts.expectVersion;
    if (expect !== undefined && expect > 0) {
      const row = await this.#db
        .updateTable('kv_entries')
        .set((eb) => ({
          value: text,
          version: eb('version', '+', 1),
          updated_at: now,
          expires_at: expiresAt,
        }))
        .where('namespace', '=', namespace)
        .where('key', '=', key)
        .where('version', '=', expect)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toKv(row);
    }
    const row = await this.#db
      .insertInto('kv_entries')
      .values({ namespace, key, value: text, version: 1, updated_at: now, expires_at: expiresAt })
      .onConflict((oc) => {
        const update = oc.columns(['namespace', 'key']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          version: eb('kv_entries.version', '+', 1),
          updated_at: eb.ref('excluded.updated_at'),
          expires_at: eb.ref('excluded.expires_at'),
        }));
        // "Only when absent": an expired entry counts as absent and may be replaced.
        return expect === 0
          ? update.where((eb) =>
              eb.and([eb('kv_entries.expires_at', 'is not', null), eb('kv_entries.expires_at', '<=', now)]),
            )
          : update;
      })
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : toKv(row);
  }

  async kvDelete(namespace: string, key: string, opts: { expectVersion?: number } = {}): Promise<boolean> {
    let q = this.#db.deleteFrom('kv_entries').where('namespace', '=', namespace).where('key', '=', key);
    if (opts.expectVersion !== undefined) q = q.where('version', '=', opts.expectVersion);
    const result = await q.executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async kvList(namespace: string, opts: { prefix?: string; limit?: number } = {}): Promise<KvEntry[]> {
    const now = this.#clock.now();
    let q = this.#db
      .selectFrom('kv_entries')
      .selectAll()
      .where('namespace', '=', namespace)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    const prefix = opts.prefix;
    if (prefix !== undefined && prefix !== '') {
      // substr/length compare characters exactly on both engines (LIKE is case-insensitive in
      // SQLite and collation-dependent ranges differ in PostgreSQL).
      q = q.where((eb) => eb(eb.fn('substr', ['key', eb.lit(1), eb.val(prefix.length)]), '=', prefix));
    }
    const rows = await q
      .orderBy('key', 'asc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(toKv);
  }
}

async function appendWith(db: Db, stream: string, entry: JournalInput, now: number): Promise<JournalEntry> {
  const row = await db
    .insertInto('journal')
    .values({ stream, type: entry.type, at: now, data: encodeJson(entry.data ?? null) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toJournal(row);
}
