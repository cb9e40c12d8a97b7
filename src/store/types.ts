/** A JSON value: what steps return, what the key-value area stores, what events carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Lifecycle of a workflow run. `succeeded` and `failed` are terminal. */
export type RunStatus = 'pending' | 'running' | 'compensating' | 'succeeded' | 'failed';

/** Statuses a run never leaves. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed'];

/** Statuses of a run that a runner still has to drive (resumable when its lease expired). */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'compensating'];

/** True when the run will never change again. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/** Lifecycle of one step of a run. */
export type StepStatus =
  | 'pending'
  | 'waiting-approval'
  | 'running'
  | 'retrying'
  | 'succeeded'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'compensation-failed';

/** A serialisable error: what a failed step or run records. */
export interface ErrorInfo {
  /** Error class name, e.g. `LifelineError`, `TimeoutError`. */
  name: string;
  message: string;
  /** Machine-readable code when the error had one (LifelineError.code, errno codes). */
  code?: string;
  /** The step that failed, on a run's error. */
  step?: string;
}

/** One durable workflow run. Times are milliseconds since the Unix epoch. */
export interface RunRecord {
  id: string;
  /** Name of the workflow definition that drives this run. */
  workflow: string;
  status: RunStatus;
  input: JsonValue;
  /** Set when the run succeeded. */
  output: JsonValue | null;
  /** Set when the run failed (or is compensating after a failure). */
  error: ErrorInfo | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Identity of the last runner that held the lease. */
  leaseOwner: string | null;
  /** Fencing ticket: increases by one on every claim; 0 when never claimed. */
  leaseTicket: number;
  /** When the current lease ends; null when released or never claimed. */
  leaseExpiresAt: number | null;
}

/** The state of one step of a run (memoized output once it succeeded). */
export interface StepRecord {
  runId: string;
  name: string;
  /** Position in the workflow, from 0. */
  index: number;
  status: StepStatus;
  /** How many times the step's `run` was started (crashed attempts included). */
  attempts: number;
  /** How many attempts failed with an error (what the retry policy counts). */
  failures: number;
  output: JsonValue | null;
  error: ErrorInfo | null;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

/** Proof that a runner holds a run: every fenced write carries it. */
export interface Lease {
  runId: string;
  owner: string;
  /** The fencing ticket; a write with an older ticket is refused. */
  ticket: number;
  expiresAt: number;
}

/** State of an approval gate. `expired` is set once the TTL passed without a decision. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** An approval gate on a step of a run. */
export interface ApprovalRecord {
  runId: string;
  step: string;
  status: ApprovalStatus;
  /** What the approver is asked to approve. */
  summary: string | null;
  requestedAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  reason: string | null;
}

/** A decision on an approval gate. */
export type ApprovalDecision = 'approved' | 'denied';

/** What {@link Store.decideApproval} did. */
export type DecideApprovalResult =
  | { outcome: 'decided'; approval: ApprovalRecord }
  | { outcome: 'not-found' }
  | { outcome: 'already-decided' | 'expired'; approval: ApprovalRecord };

/** One entry of an append-only journal stream (a run's event log, the audit trail, ...). */
export interface JournalEntry {
  /** Global, increasing sequence number. */
  seq: number;
  stream: string;
  type: string;
  at: number;
  data: JsonValue;
}

/** What to append to a journal stream. */
export interface JournalInput {
  type: string;
  data?: JsonValue;
}

/** A document in the key-value area, with the version that compare-and-set checks. */
export interface KvEntry {
  namespace: string;
  key: string;
  value: JsonValue;
  /** 1 on creation, +1 on every write. */
  version: number;
  updatedAt: number;
  /** When the entry stops being visible; null for never. */
  expiresAt: number | null;
}
