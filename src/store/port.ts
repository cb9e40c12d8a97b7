import type {
  ApprovalDecision,
  ApprovalRecord,
  ApprovalStatus,
  DecideApprovalResult,
  ErrorInfo,
  JournalEntry,
  JournalInput,
  JsonValue,
  KvEntry,
  Lease,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
} from './types.ts';

/** Which implementation backs a Store. */
export type StoreDriver = 'sqlite' | 'postgres';

/** A new run. */
export interface NewRun {
  /** Run id. Default: a new `run-…` id. An existing id is not overwritten (see {@link CreateRunResult}). */
  id?: string;
  workflow: string;
  input: JsonValue;
  /** Claim the new run for this owner at once (ticket 1). Default: created unclaimed. */
  lease?: { owner: string; ms: number };
}

/** What {@link Store.createRun} did. */
export interface CreateRunResult {
  run: RunRecord;
  /** False when a run with that id already existed (it is returned unchanged). */
  created: boolean;
  /** Set when the run was created with a lease. */
  lease?: Lease;
}

/** Filter for {@link Store.listRuns}. */
export interface RunFilter {
  /** Only runs in these statuses. Default: all. */
  status?: readonly RunStatus[];
  /** Only runs of this workflow. Default: all. */
  workflow?: string;
  /** At most this many, newest first. Default 100. */
  limit?: number;
}

/** A fenced change to a run. Fields left out are unchanged. */
export interface RunPatch {
  status?: RunStatus;
  output?: JsonValue | null;
  error?: ErrorInfo | null;
  finishedAt?: number | null;
  /** Give the lease up in the same write (expiry cleared, so any runner may claim it). */
  release?: boolean;
}

/** A fenced change to a step. Fields left out are unchanged. */
export interface StepPatch {
  status?: StepStatus;
  output?: JsonValue | null;
  error?: ErrorInfo | null;
  startedAt?: number | null;
  finishedAt?: number | null;
  /** Increment `attempts` by one. */
  addAttempt?: boolean;
  /** Increment `failures` by one. */
  addFailure?: boolean;
}

/** Options for {@link Store.kvPut}. */
export interface KvPutOptions {
  /**
   * Compare-and-set: write only when the entry's current version is this one; `0` means
   * "only when absent (or expired)". Default: unconditional write.
   */
  expectVersion?: number;
  /** The entry disappears this many ms after the write. Default: never. */
  ttlMs?: number;
}

/**
 * Lifeline's durable state: workflow runs, their steps, leases, approvals, append-only
 * journals (run event logs, audit) and a small key-value area with compare-and-set (heal
 * cooldowns and budgets, detector state). Everything that must survive a restart lives here.
 *
 * Fenced writes take a {@link Lease} and are refused (return `undefined`/`false`) when the
 * run's ticket moved on, i.e. another runner claimed it. Times come from the Store's clock.
 */
export interface Store {
  readonly driver: StoreDriver;

  /** Creates a run, or returns the existing one when `id` is taken. */
  createRun(run: NewRun): Promise<CreateRunResult>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Runs newest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * Non-terminal runs of these workflows whose lease expired or was released, oldest first:
   * the runs a starting runner must resume. Default: every workflow; at most `limit` (default 100).
   */
  listResumableRuns(opts?: { workflows?: readonly string[]; limit?: number }): Promise<RunRecord[]>;
  /** Claims a non-terminal run whose lease is free or expired; the ticket increases by one. */
  claimRun(runId: string, owner: string, leaseMs: number): Promise<Lease | undefined>;
  /** Extends a lease still held (same ticket); `undefined` when it was lost. */
  renewLease(lease: Lease, leaseMs: number): Promise<Lease | undefined>;
  /** Gives a held lease up (any runner may claim the run at once). False when it was lost. */
  releaseLease(lease: Lease): Promise<boolean>;
  /** Fenced run update, with an optional event appended to `run/<id>` in the same transaction. */
  updateRun(lease: Lease, patch: RunPatch, event?: JournalInput): Promise<RunRecord | undefined>;

  /** Inserts `pending` rows for steps not yet known (unfenced: carries no result). */
  ensureSteps(runId: string, names: readonly string[]): Promise<void>;
  /** Steps of a run in workflow order. */
  listSteps(runId: string): Promise<StepRecord[]>;
  /**
   * Fenced step update; `event` (built from the updated step) is appended to `run/<id>` in the
   * same transaction, so the event log and the memoized state never disagree.
   */
  updateStep(
    lease: Lease,
    step: string,
    patch: StepPatch,
    event?: (updated: StepRecord) => JournalInput,
  ): Promise<StepRecord | undefined>;

  /** Opens an approval gate, or returns the existing one (its TTL is not restarted). */
  requestApproval(req: {
    runId: string;
    step: string;
    ttlMs: number;
    summary?: string;
  }): Promise<ApprovalRecord>;
  getApproval(runId: string, step: string): Promise<ApprovalRecord | undefined>;
  listApprovals(filter?: { runId?: string; status?: ApprovalStatus }): Promise<ApprovalRecord[]>;
  /**
   * Records approve/deny on a pending, unexpired gate and appends `approval.<decision>` to
   * the run's event log in the same transaction.
   */
  decideApproval(req: {
    runId: string;
    step: string;
    decision: ApprovalDecision;
    by: string;
    reason?: string;
  }): Promise<DecideApprovalResult>;

  /** Appends to an append-only journal stream (`run/<id>`, `audit`, ...). */
  append(stream: string, entry: JournalInput): Promise<JournalEntry>;
  /** Entries of a stream in append order, after `afterSeq` (default 0), at most `limit` (default 1000). */
  read(stream: string, opts?: { afterSeq?: number; limit?: number }): Promise<JournalEntry[]>;

  /** The entry, unless absent or expired. */
  kvGet(namespace: string, key: string): Promise<KvEntry | undefined>;
  /** Writes a document; with `expectVersion`, only if the version matches (else `undefined`). */
  kvPut(namespace: string, key: string, value: JsonValue, opts?: KvPutOptions): Promise<KvEntry | undefined>;
  /** Deletes; with `expectVersion`, only if it matches. True when something was deleted. */
  kvDelete(namespace: string, key: string, opts?: { expectVersion?: number }): Promise<boolean>;
  /** Live entries of a namespace by key, optionally only keys starting with `prefix`. */
  kvList(namespace: string, opts?: { prefix?: string; limit?: number }): Promise<KvEntry[]>;

  /** Closes connections. The Store is unusable afterwards. */
  close(): Promise<void>;
}

/** The journal stream that holds a run's event log. */
export function runStream(runId: string): string {
  return `run/${runId}`;
}
