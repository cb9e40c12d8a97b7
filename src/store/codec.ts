import type { ApprovalsTable, KvTable, RunsTable, StepsTable, JournalTable } from './schema.ts';
import type {
  ApprovalRecord,
  ApprovalStatus,
  ErrorInfo,
  JournalEntry,
  JsonValue,
  KvEntry,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
} from './types.ts';

// Row <-> record conversions. JSON travels as text so both drivers store it the same way;
// numbers come back as numbers (the postgres driver parses int8 into Number).

/** Serialises a JSON value for a text column. */
export function encodeJson(value: JsonValue): string {
  return JSON.stringify(value);
}

/** Parses a text column written by {@link encodeJson}. */
export function decodeJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

function decodeNullableJson(text: string | null): JsonValue | null {
  return text === null ? null : decodeJson(text);
}

function decodeError(text: string | null): ErrorInfo | null {
  return text === null ? null : (JSON.parse(text) as ErrorInfo);
}

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function numOrNull(v: number | string | null): number | null {
  return v === null ? null : num(v);
}

/** A `workflow_runs` row as a {@link RunRecord}. */
export function toRun(row: RunsTable): RunRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    status: row.status as RunStatus,
    input: decodeJson(row.input),
    output: decodeNullableJson(row.output),
    error: decodeError(row.error),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    finishedAt: numOrNull(row.finished_at),
    leaseOwner: row.lease_owner,
    leaseTicket: num(row.lease_ticket),
    leaseExpiresAt: numOrNull(row.lease_expires_at),
  };
}

/** A `workflow_steps` row as a {@link StepRecord}. */
export function toStep(row: StepsTable): StepRecord {
  return {
    runId: row.run_id,
    name: row.name,
    index: num(row.idx),
    status: row.status as StepStatus,
    attempts: num(row.attempts),
    failures: num(row.failures),
    output: decodeNullableJson(row.output),
    error: decodeError(row.error),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    updatedAt: num(row.updated_at),
  };
}

/** A `workflow_approvals` row as an {@link ApprovalRecord}. */
export function toApproval(row: ApprovalsTable): ApprovalRecord {
  return {
    runId: row.run_id,
    step: row.step,
    status: row.status as ApprovalStatus,
    summary: row.summary,
    requestedAt: num(row.requested_at),
    expiresAt: num(row.expires_at),
    decidedAt: numOrNull(row.decided_at),
    decidedBy: row.decided_by,
    reason: row.reason,
  };
}

/** A `journal` row as a {@link JournalEntry}. */
export function toJournal(row: Omit<JournalTable, 'seq'> & { seq: number }): JournalEntry {
  return {
    seq: num(row.seq),
    stream: row.stream,
    type: row.type,
    at: num(row.at),
    data: decodeJson(row.data),
  };
}

/** A `kv_entries` row as a {@link KvEntry}. */
export function toKv(row: KvTable): KvEntry {
  return {
    namespace: row.namespace,
    key: row.key,
    value: decodeJson(row.value),
    version: num(row.version),
    updatedAt: num(row.updated_at),
    expiresAt: numOrNull(row.expires_at),
  };
}
